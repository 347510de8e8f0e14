"""Alternative text of a figure, for readers who cannot see it: the finding its title states, then
one sentence saying what the chart shows and its key numbers. It reaches the PDF (Typst
`image(alt: ...)`, required by PDF/UA) and the HTML (`alt`).

Each chart function builds it from the data it draws and attaches it to the Figure it returns
(`attach`); `ReportContext.alt` turns it into text. Counts are kept as numbers until then, so
that the report's small-cell rule (`<min_cell`) applies to them as to every other count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.container import BarContainer
from matplotlib.figure import Figure

Part = str | int | float  # text as it is, or a count (formatted when the report's min_cell is known)
ATTRIBUTE = "analysis_alt_text"
LISTED = 3  # items named in a ranking before "and N more"


@dataclass(frozen=True)
class AltText:
    title: str
    parts: tuple[Part, ...]

    def text(self, count: Callable[[float], str]) -> str:
        """The finding (the title, unwrapped) and the description, with `count` formatting the counts."""
        finding = " ".join(self.title.split()).rstrip(" .:;")
        description = "".join(part if isinstance(part, str) else count(part) for part in self.parts)
        return " ".join(f"{finding}. {description}".split())


def attach(fig: Figure, title: str, *parts: Part) -> Figure:
    """Give `fig` its alt text: `title` (the finding) and a description made of `parts`."""
    setattr(fig, ATTRIBUTE, AltText(title, tuple(parts)))
    return fig


def alt_of(fig: Figure) -> AltText:
    found = getattr(fig, ATTRIBUTE, None)
    if not isinstance(found, AltText):
        raise ValueError("this figure has no alt text: chart functions attach it (figures.alt.attach)")
    return found


# ---------------------------------------------------------------- sentence pieces


def listing(labels: Sequence[str], values: Sequence[Part], joiner: str = ", ") -> list[Part]:
    """`A 1,234, B 567` as parts: each label followed by its value."""
    parts: list[Part] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        parts += [joiner if i else "", f"{label} ", value]
    return parts


def ranking(labels: Sequence[str], values: Sequence[Part]) -> list[Part]:
    """The first `LISTED` of an ordered list with their values, how many more, and the last one."""
    shown = min(len(labels), LISTED)
    parts = listing(labels[:shown], values[:shown])
    rest = len(labels) - shown
    if rest > 1:
        parts += [f"; {rest} more, down to {labels[-1]} with ", values[-1]]
    elif rest == 1:
        parts += [f" and {labels[-1]} ", values[-1]]
    return parts


def one_line(label: object) -> str:
    """A label as one line of text (chart labels are wrapped with newlines)."""
    return " ".join(str(label).split())


def drawn_bars(fig: Figure, what: str) -> Figure:
    """Attach alt text to a bar chart a notebook drew itself: `what` it shows, then each labelled
    series' value per category (the x tick labels), read from the bars drawn."""
    ax = fig.axes[0]
    ticks = [one_line(t.get_text()) for t in ax.get_xticklabels()]
    parts: list[Part] = [f"{what}: "]
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    for i, container in enumerate(containers):
        heights = [bar.get_height() for bar in container.patches]
        # hatched bars are partial fiscal years (style.mark_partial_bars)
        names = [f"{tick} (partial)" if bar.get_hatch() and "partial" not in tick else tick
                 for tick, bar in zip(ticks, container.patches, strict=True)]
        label = str(container.get_label())
        parts += ["; " if i else "", f"{label}: " if len(containers) > 1 else "", *listing(names, heights)]
    return attach(fig, ax.get_title(loc="left") or ax.get_title(), *parts, ".")


def noun(label: str) -> str:
    """An axis label as a noun inside a sentence: `Detainers prepared` -> `detainers prepared`
    (acronyms such as `ICE` kept)."""
    text = one_line(label)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text

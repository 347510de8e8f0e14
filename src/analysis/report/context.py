"""What a notebook needs: the release's tables within the report's scope (a `Release`), and
`say` / `show_table` / `show_figure`, whose outputs carry caption and source for the report.

A section that cannot go on says why in one sentence and stops (`skip`); the report keeps that
sentence and ends the section there. `require` does so when a table or column is absent.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import NoReturn

import pandas as pd
from IPython.display import Markdown, display

from analysis import words
from analysis.escaping import csv_cell, csv_header, md_code, md_literal, md_text
from analysis.figures import alt as alt_text
from analysis.figures.style import render
from analysis.release import Release
from analysis.report.outputs import OUTPUT_KEY
from analysis.report.parameters import ReportParameters


class SectionSkipped(Exception):
    """Raised by `ReportContext.skip`: this section does not apply to this release."""


class ReportContext:
    def __init__(self, params: ReportParameters) -> None:
        self.params = params
        self.data = Release(params.release, params.scope)

    @classmethod
    def from_parameters(cls, **values) -> ReportContext:
        return cls(ReportParameters(**values))

    @classmethod
    def from_globals(cls, namespace: dict) -> ReportContext:
        """The context of a notebook whose `parameters` cell set the report's parameters as variables."""
        names = ReportParameters.__dataclass_fields__
        return cls(ReportParameters(**{name: namespace[name] for name in names if name in namespace}))

    # ---------------------------------------------------------------- data

    @property
    def release(self) -> str:
        return self.params.release

    @property
    def manifest(self) -> dict:
        return self.data.manifest

    @property
    def synthetic(self) -> bool:
        return self.data.synthetic

    def tables(self) -> list[str]:
        return self.data.tables()

    def has(self, table: str, columns: Iterable[str] = ()) -> bool:
        return self.data.has(table, columns)

    def can_filter(self, table: str) -> bool:
        return self.data.can_scope(table)

    def load(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Records of `table` within the report's geography and fiscal years (see `Release.load`),
        whole columns in pandas: for a look at a small release. The report's measures never use it
        (they count in DuckDB, `ctx.sql`), so they keep working at tens of millions of records."""
        return self.data.load(table, columns)

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """`query` over the release's tables within the report's scope, as a small pandas frame
        (see `Release.sql`): `ctx.sql("select fiscal_year, count(*) from detainers group by 1")`."""
        return self.data.sql(query, params)

    def date_column(self, table: str) -> str | None:
        return self.data.date_column(table)

    def source(self, table: str) -> str:
        """The source line: `ICE release <id>, table <name>` (or another named source in the release)."""
        what = f"table {table}" if table in self.manifest["tables"] else table
        return f"ICE release {self.release}, {what}" + (" (SYNTHETIC)" if self.synthetic else "")

    # ---------------------------------------------------------------- stopping a section

    def skip(self, sentence: str) -> NoReturn:
        """Say in one sentence why this section stops here, and stop it."""
        self.say(f"*{sentence}*")
        raise SectionSkipped(sentence)

    def require(self, table: str, columns: Iterable[str] = (), *, why: str) -> None:
        """Stop this notebook, saying in one sentence why, if `table` or its `columns` are absent."""
        missing = self.data.missing(table, list(columns))
        if missing:
            self.skip(f"{missing}, so {why} is skipped.")

    # ---------------------------------------------------------------- output

    def count(self, value: float | int | None) -> str:
        """A count for prose or a figure label: thousands separators, and `<min_cell` for small cells."""
        return words.count(value, self.params.min_cell)

    def say(self, text: str) -> None:
        """Prose for the report (Markdown); numbers in it should come from the data, and any text
        from the data goes in through `ctx.text` (so it is shown, never read as markup)."""
        display(Markdown(text))

    @staticmethod
    def text(value: object) -> str:
        """Text from the data (a name, a value, a file name) for `say`: shown as it is, never as markup."""
        return md_text(value)

    @staticmethod
    def code(value: object) -> str:
        """Text from the data shown as inline code (a path, an id)."""
        return md_code(value)

    def show_table(self, frame: pd.DataFrame, *, name: str, caption: str, table: str,
                   counts: Iterable[str] = (), align_right: Iterable[str] = (), literal: bool = False,
                   wide: Iterable[str] = (), total: str | None = None) -> None:
        """A numbered table in the report (and a CSV beside it). `counts` columns get
        thousands separators and small-cell suppression; every cell is shown as text, and with
        `literal` (cells that hold text from the release) exactly as written, never as markup.
        `wide` columns (long text) get more room than others in the PDF. `total` names the count
        column that sums the other `counts` of its row: cells it would give away are withheld too
        (words.complementary)."""
        counts = list(counts)
        min_cell = self.params.min_cell
        withheld = words.complementary(frame, counts, min_cell, total_column=total) if total else None
        shown = words.suppress(frame, counts, min_cell, withheld).astype(object).where(frame.notna(), "")
        right = set(counts) | set(align_right)
        markdown = pipe_table(shown, right, literal=literal, wide=set(wide))
        csv_text = safe_csv(shown if self.params.min_cell > 1 else frame)
        source = self.source(table)
        meta = {OUTPUT_KEY: {"kind": "table", "name": name, "caption": caption, "source": source,
                             "markdown": markdown, "csv": csv_text}}
        html = shown.to_html(index=False, escape=True, border=0)
        display({"text/markdown": f"**{md_text(caption)}**\n\n{markdown}\n\n*Source: {md_text(source)}.*",
                 "text/html": html},
                raw=True, metadata=meta)

    def publish_csv(self, frame: pd.DataFrame, *, name: str) -> None:
        """A CSV file published beside the report, `reports/<id>/<name>.csv` (with the report's
        file-name suffix), such as the codebook; cells and headers neutralised like every CSV."""
        meta = {OUTPUT_KEY: {"kind": "file", "name": f"{name}.csv", "csv": safe_csv(frame)}}
        display({"text/plain": f"{name}.csv"}, raw=True, metadata=meta)

    def alt(self, fig, *, drawn_bars: str | None = None) -> str:
        """The alt text of `fig` (figures.alt: its finding, what it shows and its key numbers), counts
        with small-cell suppression. The chart functions attach it; for a bar chart a notebook drew
        itself, `drawn_bars` says what its bars show and they are described as drawn."""
        if drawn_bars is not None:
            alt_text.drawn_bars(fig, drawn_bars)
        return alt_text.alt_of(fig).text(self.count)

    def show_figure(self, fig, *, name: str, caption: str, table: str, alt: str) -> None:
        """A numbered figure in the report; SVG and PNG files beside it. `alt` is its alternative
        text (`self.alt(fig)`), for readers who cannot see it: required, plain text."""
        if not alt.strip() or alt.strip() == caption.strip():
            raise ValueError(f"figure {name!r} needs alt text saying what it shows, not its caption")
        svg, png = render(fig)
        meta = {OUTPUT_KEY: {"kind": "figure", "name": name, "caption": caption, "source": self.source(table),
                             "alt": " ".join(alt.split())}}
        display({"image/svg+xml": svg.decode("utf-8"), "image/png": base64.b64encode(png).decode("ascii")},
                raw=True, metadata=meta)


LONG_TOKEN = re.compile(r"\S{25,}")


def breakable(text: str) -> str:
    """Long unbroken tokens (digests, codes) get invisible break points every 16 characters,
    so a table column can wrap them instead of running off the page."""
    return LONG_TOKEN.sub(lambda m: "\u200b".join(m.group(0)[i : i + 16] for i in range(0, len(m.group(0)), 16)), text)


def pipe_table(frame: pd.DataFrame, right: set[str], *, literal: bool = False,
               wide: AbstractSet[str] = frozenset()) -> str:
    """A Markdown pipe table whose cells, headers included, are text (`md_text`), never markup;
    with `literal`, exactly as written (`md_literal`), and snake_case names may break after `_`."""
    def cell(value: object) -> str:
        text = breakable(str(value))
        return md_literal(text.replace("_", "_\u200b")) if literal else md_text(text)

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False, name=None)]
    # pandoc sizes the columns of a wide table by the dashes under each header: give each its content's width
    widths = [max([len(str(c))] + [len(str(v)) for v in frame[c]]) for c in frame.columns]
    # beside a wide column, a short one still needs room for its bold header
    narrowest = [len(str(c)) + 6 if wide else 3 for c in frame.columns]
    dashes = ["-" * max(least, min(w, 60 if c in wide else 40))
              for c, w, least in zip(frame.columns, widths, narrowest, strict=True)]
    rule = "|" + "|".join(f"{d}:" if c in right else f":{d}" for c, d in zip(frame.columns, dashes, strict=True)) + "|"
    return "\n".join([header, rule, *rows])


def safe_csv(frame: pd.DataFrame) -> str:
    """CSV whose text cells, header cells included, cannot be run as spreadsheet formulas
    (see `escaping.csv_cell`)."""
    buffer = io.StringIO()
    safe = frame.map(csv_cell)
    safe.columns = csv_header(frame.columns)
    safe.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return buffer.getvalue()

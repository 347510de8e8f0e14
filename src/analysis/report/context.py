"""What a notebook needs: the release's tables filtered to the report's parameters, and
`say` / `show_table` / `show_figure`, whose outputs carry caption and source for the report.

A notebook whose data is not in the release calls `ctx.require(...)`, which says in one
sentence what is missing and stops the notebook; the report keeps that sentence.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

import pandas as pd
import pyarrow.parquet as pq
from IPython.display import Markdown, display

from analysis.errors import ReleaseError
from analysis.escaping import csv_cell, csv_header, md_code, md_literal, md_text
from analysis.figures import alt as alt_text
from analysis.figures.style import render
from analysis.paths import processed_dir
from analysis.reading.manifest import read_manifest
from analysis.report.outputs import OUTPUT_KEY
from analysis.report.parameters import ReportParameters
from analysis.vocab.geography import aor_label
from analysis.vocab.kinds import KIND_BY_NAME


class SectionSkipped(Exception):
    """Raised by `ReportContext.require`: this section does not apply to this release."""


def format_count(value: float | int | None, min_cell: int = 1) -> str:
    """A count as published: thousands separators, and `<min_cell` for a small cell (between
    zero and min_cell), in tables, figure labels and prose alike."""
    if value is None or pd.isna(value):
        return "–"
    number = int(round(float(value)))
    return f"<{min_cell:,}" if 0 < number < min_cell else f"{number:,}"


def format_share(value: float | None, digits: int = 1) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{100 * value:.{digits}f}%"


class ReportContext:
    def __init__(self, params: ReportParameters) -> None:
        self.params = params
        self.manifest = read_manifest(processed_dir(params.release))

    @classmethod
    def from_parameters(cls, **values) -> ReportContext:
        return cls(ReportParameters(**values))

    # ---------------------------------------------------------------- data

    @property
    def release(self) -> str:
        return self.params.release

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    def tables(self) -> list[str]:
        return sorted(self.manifest["tables"])

    def has(self, table: str, columns: Iterable[str] = ()) -> bool:
        info = self.manifest["tables"].get(table)
        return info is not None and all(c in info["columns"] for c in columns)

    def date_column(self, table: str) -> str | None:
        """The column whose dates place `table`'s records in fiscal years (manifest `dated_by`):
        `departed_date` for removals that have no removal date."""
        info = self.manifest["tables"].get(table) or {}
        kind = KIND_BY_NAME.get(table)
        return info.get("dated_by") or (kind.date_column if kind else None)

    def source(self, table: str) -> str:
        """The source line: `ICE release <id>, table <name>` (or another named source in the release)."""
        what = f"table {table}" if table in self.manifest["tables"] else table
        return f"ICE release {self.release}, {what}" + (" (SYNTHETIC)" if self.synthetic else "")

    def require(self, table: str, columns: Iterable[str] = (), *, why: str) -> None:
        """Stop this notebook, saying in one sentence why, if `table` or its `columns` are absent."""
        columns = list(columns)
        info = self.manifest["tables"].get(table)
        if info is None:
            missing = f"This release has no {table} table"
        else:
            absent = [c for c in columns if c not in info["columns"]]
            if not absent:
                return
            missing = f"The {table} table of this release has no {', '.join(absent)} column"
        sentence = f"{missing}, so {why} is skipped."
        self.say(f"*{md_text(sentence)}*")
        raise SectionSkipped(sentence)

    def geography_filter_column(self, table: str) -> str | None:
        if self.params.state:
            return "state"
        if self.params.aor:
            return "aor"
        return None

    def load(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Records of `table` within the report's geography and fiscal years.

        A state filter needs a `state` column; an AOR filter an `aor` column: a table without
        it is not silently shown for the whole country (ReleaseError)."""
        info = self.manifest["tables"].get(table)
        if info is None:
            raise ReleaseError(f"release {self.release!r} has no {table!r} table")
        wanted = None if columns is None else list(dict.fromkeys([*columns, "fiscal_year"]))
        geo = self.geography_filter_column(table)
        if geo and geo not in info["columns"]:
            raise ReleaseError(f"the {table} table has no {geo!r} column, so it cannot be limited to {self.params.geography}")
        if wanted is not None and geo and geo not in wanted:
            wanted.append(geo)
        frame = pq.read_table(processed_dir(self.release) / f"{table}.parquet", columns=wanted).to_pandas()
        if self.params.state:
            frame = frame[frame["state"] == self.params.state]
        if self.params.aor:
            frame = frame[frame["aor"].isin([self.params.aor, aor_label(self.params.aor)])]
        if self.params.fy_start:
            frame = frame[frame["fiscal_year"] >= self.params.fy_start]
        if self.params.fy_end:
            frame = frame[frame["fiscal_year"] <= self.params.fy_end]
        return frame.reset_index(drop=True)

    def can_filter(self, table: str) -> bool:
        geo = self.geography_filter_column(table)
        return geo is None or self.has(table, [geo])

    # ---------------------------------------------------------------- output

    def count(self, value: float | int | None) -> str:
        """A count for prose or a figure label: thousands separators, and `<min_cell` for small cells."""
        return format_count(value, self.params.min_cell)

    def say(self, text: str) -> None:
        """Prose for the report (Markdown); numbers in it should come from the data, and any text
        from the data goes in through `ctx.text` (so it is shown, never read as markup)."""
        display(Markdown(text))

    @staticmethod
    def text(value: object) -> str:
        """Text from the data (a name, a value, a file name) for `say`: shown exactly as it is."""
        return md_text(value)

    @staticmethod
    def code(value: object) -> str:
        """Text from the data shown as inline code (a path, an id)."""
        return md_code(value)

    def suppress(self, frame: pd.DataFrame, count_columns: Iterable[str]) -> pd.DataFrame:
        """Counts below `min_cell` (but above zero) shown as `<min_cell` in published tables."""
        shown = frame.copy()
        limit = self.params.min_cell
        for column in count_columns:
            values = shown[column]
            formatted = values.map(format_count).astype(object)
            if limit > 1:
                formatted[(values > 0) & (values < limit)] = f"<{limit}"
            shown[column] = formatted
        return shown

    def show_table(self, frame: pd.DataFrame, *, name: str, caption: str, table: str,
                   counts: Iterable[str] = (), align_right: Iterable[str] = (), literal: bool = False,
                   wide: Iterable[str] = ()) -> None:
        """A numbered table in the report (and a CSV beside it). `counts` columns get
        thousands separators and small-cell suppression; every cell is shown as text, and with
        `literal` (cells that hold text from the release) exactly as written, never as markup.
        `wide` columns (long text) get more room than others in the PDF."""
        counts = list(counts)
        shown = self.suppress(frame, counts).astype(object).where(frame.notna(), "")
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

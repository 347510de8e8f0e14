"""Stand-ins for a processed release and a notebook's context, for tests of the rules that
choose what a section shows: a `Release` whose manifest is written in the test (no files), and
a `ReportContext` over it that records what it says instead of displaying it."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from analysis.release import Release, Scope
from analysis.report.context import ReportContext
from analysis.report.parameters import ReportParameters


def fake_release(tables: dict[str, list[str]], frames: dict[str, pd.DataFrame] | None = None, **scope) -> Release:
    """A release holding `tables` (name -> columns); `frames` are what `load` returns per table,
    and (written to parquet) what its DuckDB views hold, so measures run in DuckDB as in a report."""
    release = Release.__new__(Release)
    release.id, release.scope, release._db = "test", Scope(**scope), None
    release.manifest = {"release": "test", "tables": {name: {"columns": dict.fromkeys(columns)}
                                                      for name, columns in tables.items()}}
    if frames is not None:
        folder = Path(tempfile.mkdtemp(prefix="fake-release-"))
        for name, columns in tables.items():  # a table without a frame: no records
            frame = frames.get(name, pd.DataFrame({c: pd.Series(dtype="string") for c in columns}))
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        release.load = lambda table, columns=None: frames[table]  # type: ignore[method-assign]
        release.path = lambda table: folder / f"{table}.parquet"  # type: ignore[method-assign]
    return release


class FakeContext(ReportContext):
    """A report context over `fake_release(tables)`; what it says is kept in `said`."""

    def __init__(self, tables: dict[str, list[str]], frames: dict[str, pd.DataFrame] | None = None,
                 **params) -> None:
        self.params = ReportParameters(release="test", **params)
        self.data = fake_release(tables, frames, **asdict(self.params.scope))
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)


def detainers_release(frame: pd.DataFrame, first: str, last: str, *, partial: bool = False) -> Release:
    """`fake_release` of one detainers table holding `frame` (with `fiscal_year`), its manifest holding
    what claims read besides the columns: records and coverage per fiscal year (each year whole, or
    ending on 31 March if `partial`), and the period from `first` to `last`."""
    release = fake_release({"detainers": list(frame.columns)}, {"detainers": frame})
    years = frame["fiscal_year"].value_counts()
    release.manifest["tables"]["detainers"].update({
        "rows_by_fiscal_year": {str(y): int(n) for y, n in years.items()},
        "fiscal_year_coverage": {str(y): {"first": f"{y - 1}-10-01", "last": f"{y}-03-31" if partial else f"{y}-09-30"}
                                 for y in years.index},
        "period": {"first": first, "last": last},
    })
    return release

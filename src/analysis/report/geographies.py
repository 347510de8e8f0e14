"""The places `analysis report --each` makes one report for: states, ICE areas of responsibility
(AORs) and facilities found in a release, with how each is named in the index and on disk.

A geography is a value of the release's `state`, `aor` or `facility_code` column, checked and
spelled as the report parameter checks and spells it (so `Seattle Area of Responsibility` and
`Seattle` are one AOR). A value the parameters refuse (an unknown state code, say) is kept as a
geography that cannot have a report, so the index shows it with the reason. Facilities are named
by code, because names repeat between states; the index shows the name and state beside it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.errors import AnalysisError, ReleaseError
from analysis.report.parameters import ReportParameters, file_safe
from analysis.vocab.definitions import DECLINED_DEFINITIONS, is_declined
from analysis.vocab.geography import STATES

# The tables a report counts detainers from, in order (a release without a detainers table
# counts encounters ending in a detainer; see metrics.detainers.issued_measure).
SOURCE_TABLES = ("detainers", "encounters")
LIFT_REASON = "detainer_lift_reason"


@dataclass(frozen=True)
class Kind:
    name: str        # as given to --each
    column: str      # the column a report is limited by
    parameter: str   # the ReportParameters field
    noun: str        # for sentences and headings
    plural: str


KINDS = {
    "state": Kind("state", "state", "state", "state", "states"),
    "aor": Kind("aor", "aor", "aor", "area of responsibility", "areas of responsibility"),
    "facility": Kind("facility", "facility_code", "facility", "facility", "facilities"),
}


@dataclass(frozen=True)
class Geography:
    kind: str
    code: str             # the report parameter (CA, Seattle, a facility code), or the value as found
    name: str             # as the index shows it
    records: int          # records of the source table with this value, within the report's fiscal years
    folder: str = ""      # under the batch folder; empty when no report can be made
    problem: str = ""     # why no report can be made (the parameter check's one line)

    def parameters(self, base: ReportParameters) -> ReportParameters:
        return with_place(base, KINDS[self.kind], self.code)


def with_place(base: ReportParameters, kind: Kind, value: str) -> ReportParameters:
    """`base` limited to one place (the parameter check runs again, and may refuse the value)."""
    place: dict[str, Any] = {kind.parameter: value}
    return dataclasses.replace(base, **place)


@dataclass(frozen=True)
class Listing:
    kind: Kind
    table: str
    geographies: list[Geography]   # largest first
    left_out: int                  # geographies with fewer than min_records records
    unassigned: int                # records with no value in the column: in no report of this kind
    min_records: int


def source_table(manifest: dict, kind: Kind) -> str:
    tables = manifest["tables"]
    for table in SOURCE_TABLES:
        if table in tables and kind.column in tables[table]["columns"]:
            return table
    raise ReleaseError(f"release {manifest['release']!r} has no {' or '.join(SOURCE_TABLES)} table with a "
                       f"{kind.column!r} column, so it has no reports by {kind.noun}")


def list_geographies(base: ReportParameters, kind_name: str, min_records: int = 1) -> Listing:
    """Every geography of `kind_name` in the release, within `base`'s fiscal years."""
    from analysis.report.context import ReportContext  # imports the notebook display stack

    kind = KINDS[kind_name]
    ctx = ReportContext(base)
    table = source_table(ctx.manifest, kind)
    extra = ["facility", "state"] if kind.name == "facility" else []
    columns = [kind.column, *[c for c in extra if ctx.has(table, [c])]]
    frame = ctx.data.counts(table, columns)
    values = frame[kind.column].astype("string").str.strip()
    present = (values.notna() & (values != "")).to_numpy()
    records = frame["records"]
    labels = {column: _most_common(values[present], frame.loc[present, column], records[present])
              for column in columns[1:]}
    found = [_geography(kind, base, str(raw), int(count), labels)
             for raw, count in _tally(values[present], records[present])]
    merged = _merge_spellings(found)
    kept = [g for g in merged if g.records >= min_records]
    kept.sort(key=lambda g: (-g.records, g.name, g.code))
    return Listing(kind, table, _with_folders(kept), len(merged) - len(kept), int(records[~present].sum()), min_records)


def _tally(values: pd.Series, records: pd.Series) -> list[tuple[str, int]]:
    """Records per value, most first (ties: alphabetical, so the spelling kept when two merge
    never depends on the order of the records)."""
    summed = records.groupby(values.to_numpy()).sum()
    return sorted(((str(v), int(n)) for v, n in summed.items()), key=lambda vn: (-vn[1], vn[0]))


def _most_common(keys: pd.Series, labels: pd.Series, records: pd.Series) -> dict[str, str]:
    """For each key, its most frequent label (ties: the first in alphabetical order); `records`:
    how many records each pair stands for."""
    pairs = pd.DataFrame({"key": keys.to_numpy(), "label": labels.astype("string").str.strip().to_numpy(),
                          "n": records.to_numpy()}).dropna()
    counted = pairs.groupby(["key", "label"])["n"].sum().reset_index()
    counted = counted.sort_values(["key", "n", "label"], ascending=[True, False, True]).drop_duplicates("key")
    return dict(zip(counted["key"], counted["label"], strict=True))


def _geography(kind: Kind, base: ReportParameters, raw: str, count: int, labels: dict[str, dict[str, str]]) -> Geography:
    try:
        code = getattr(with_place(base, kind, raw), kind.parameter)
    except AnalysisError as error:
        return Geography(kind.name, raw, raw, count, problem=error.one_line())
    if kind.name == "state":
        name = STATES[code][0]
    elif kind.name == "facility":
        name = labels.get("facility", {}).get(raw) or code
        state = labels.get("state", {}).get(raw)
        name = f"{name} ({state})" if state else name
    else:
        name = code
    return Geography(kind.name, code, name, count)


def _merge_spellings(found: list[Geography]) -> list[Geography]:
    """One geography per report: spellings that check to the same code are added together."""
    merged: dict[tuple[str, bool], Geography] = {}
    for geography in found:
        key = (geography.code, bool(geography.problem))
        if key in merged:
            geography = dataclasses.replace(merged[key], records=merged[key].records + geography.records)
        merged[key] = geography
    return list(merged.values())


def _with_folders(geographies: list[Geography]) -> list[Geography]:
    """A file-safe folder for each geography that can have a report; two codes that would share a
    folder (`A.B` and `A-B`) each get a short digest of their code added."""
    names = {g.code: file_safe(g.code) for g in geographies if not g.problem}
    taken = pd.Series(list(names.values())).value_counts()
    def folder(code: str) -> str:
        name = names[code]
        return name if taken[name] == 1 else f"{name}-{hashlib.sha256(code.encode()).hexdigest()[:8]}"
    return [g if g.problem else dataclasses.replace(g, folder=folder(g.code)) for g in geographies]


def summarize(params: ReportParameters, table: str) -> dict[str, int | None]:
    """The index's numbers for one report, counted with the report's own filter: records, and
    declines under each definition (None when the table has no lift reasons)."""
    from analysis.report.context import ReportContext

    ctx = ReportContext(params)
    has_reasons = ctx.has(table, [LIFT_REASON])
    counts = ctx.data.counts(table, [LIFT_REASON] if has_reasons else [])
    summary: dict[str, int | None] = {"records": int(counts["records"].sum())}
    for definition in DECLINED_DEFINITIONS:
        declined = is_declined(counts[LIFT_REASON], definition).to_numpy() if has_reasons else None
        summary[f"declined_{definition}"] = None if declined is None else int(counts["records"][declined].sum())
    return summary

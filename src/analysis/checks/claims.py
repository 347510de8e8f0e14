"""Published figures ("claims") and whether a release reproduces them: `analysis claims RELEASE`.

Claims are data: YAML files under data/claims/, one file per source (see data/claims/README.md).

    title: ICE annual ERO reports # optional: the heading the report shows these claims under
    source:                      # defaults for every claim in the file; a claim may override any field
      publisher: U.S. Immigration and Customs Enforcement
      title: Fiscal Year 2017 ICE Enforcement and Removal Operations Report
      date: 2017-12-13           # YYYY, YYYY-MM or YYYY-MM-DD
      url: https://...
      note: ...                  # optional: how the figure reached us, what is unverified
    claims:
      - id: ice-ero-fy2017-arrests          # unique across all claim files
        claim: ICE ERO made 143,470 administrative arrests in FY2017.
        measure:
          table: arrests                    # one of analysis.vocab.kinds.KNOWN_TABLES
          filters: {fiscal_year: 2017}
          statistic: count
        published: 143470
        comparison: exact
      - id: cis-2014-rearrests
        claim: ...
        measure: not computable             # still listed, reported as "cannot be checked"
        reason: re-arrests after release are not recorded in ICE's releases
        published: 1867
        comparison: exact

Filters (every computable measure needs `fiscal_year` or `date_range`: a figure has a period):
    fiscal_year          2017, or a list of years (summed). FY2017 = 1 Oct 2016 .. 30 Sep 2017.
    date_range           [2017-01-28, 2017-02-03], inclusive, on the table's event date (detainer
                         prepare date, event date, apprehension date, removal date); or
                         {from: ..., to: ..., column: detainer_lift_date} for another date column.
    state                two-letter code or list of codes (`state` column)
    aor                  area of responsibility, e.g. Seattle, or a list (`aor` column)
    lift_reason_bucket   a key of analysis.vocab.definitions.BUCKETS, or a list (`detainer_lift_reason`)
    declined             strict | broad: analysis.vocab.definitions.DECLINED_DEFINITIONS
    disposition          processing disposition, e.g. Detainer, or a list (`processing_disposition`)
    method               apprehension method, e.g. Located, or a list (`apprehension_method`)
Text filters match case-insensitively, ignoring repeated spaces.

Statistics:
    count       records that pass the filters
    share       records that also pass `numerator` (more filters) / records that pass the filters;
                `published` is a fraction between 0 and 1
    per_month   count divided by the calendar months of `date_range` (which must run from the first
                to the last day of months)
Comparisons: `exact` (counts only), `at_least` (the release must hold at least the published value),
`approximately` with `tolerance`: an absolute amount in the published unit (1000, or 0.01 for a
share) or a percentage of the published value ("5%").

A claim may name a `related_measure` (a measure plus `label` and `note`): computed only when the
claim's own measure cannot be, and reported with the verdict "different measure", never
"reproduced" or "differs". This is how TRAC's detainers-prepared counts meet a release that has
encounters but no detainers table: encounters whose processing disposition is `Detainer` are
encounters that ended in a detainer, not every detainer ICE prepared, so the two numbers are shown
side by side and the difference is not called an error in either.

Verdicts: reproduced; differs (by how much, in which direction); different measure; cannot be
checked (the table, column or period the claim needs is not in the release, or the figure is not
computable from record-level data). A period the release does not cover fully is never "differs".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import yaml

from analysis.errors import AnalysisError
from analysis.escaping import md_text
from analysis.metrics.overview import partial_years
from analysis.paths import display_path, processed_dir, project_root
from analysis.reading.manifest import read_manifest
from analysis.safe_yaml import YamlRefused, load_yaml
from analysis.vocab.definitions import BUCKETS, DECLINED_DEFINITIONS, DECLINED_DESCRIPTIONS, is_declined, lift_bucket
from analysis.vocab.fiscal import PARTIAL_TOLERANCE_DAYS
from analysis.vocab.geography import AORS, STATES, short_aor
from analysis.vocab.kinds import KIND_BY_NAME, KNOWN_TABLES

NOT_COMPUTABLE = "not computable"
STATISTICS = ("count", "share", "per_month")
COMPARISONS = ("exact", "at_least", "approximately")
REPRODUCED, DIFFERS, DIFFERENT_MEASURE, CANNOT = "reproduced", "differs", "different measure", "cannot be checked"
VERDICTS = (REPRODUCED, DIFFERS, DIFFERENT_MEASURE, CANNOT)
SOURCE_FIELDS = ("publisher", "date", "title", "url")
CLAIM_FIELDS = ("id", "claim", "measure", "published", "comparison")
FILTER_COLUMNS = {
    "state": "state",
    "aor": "aor",
    "lift_reason_bucket": "detainer_lift_reason",
    "declined": "detainer_lift_reason",
    "disposition": "processing_disposition",
    "method": "apprehension_method",
}
FILTERS = ("fiscal_year", "date_range", *FILTER_COLUMNS)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_URL = re.compile(r"^https?://[^\s<>\\]+$")


class ClaimError(AnalysisError):
    """A claim file that cannot be read or states a claim the vocabulary does not allow."""


# ---------------------------------------------------------------- the claim model


@dataclass(frozen=True)
class Measure:
    table: str
    filters: dict
    statistic: str = "count"
    numerator: dict = field(default_factory=dict)
    label: str | None = None  # related measures only: what is counted instead
    note: str | None = None  # related measures only: why it is a different measure

    def date_filter(self) -> tuple[str, dt.date, dt.date] | None:
        value = self.filters.get("date_range")
        return None if value is None else (value["column"], value["from"], value["to"])

    def columns(self) -> list[str]:
        names = ["fiscal_year"]
        if (dates := self.date_filter()) is not None:
            names.append(dates[0])
        for key in [*self.filters, *self.numerator]:
            if key in FILTER_COLUMNS:
                names.append(FILTER_COLUMNS[key])
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    source: dict
    file: str
    measure: Measure | None  # None: not computable
    published: float
    comparison: str
    tolerance: float | str | None = None
    reason: str | None = None
    related: Measure | None = None
    statistic: str = "count"  # the measure's, or as stated for a claim that is not computable
    group: str = ""  # the claim file's `title`: the heading the report shows it under

    def allowed_gap(self) -> float:
        if self.tolerance is None:
            return 0.0
        if isinstance(self.tolerance, str):
            return abs(self.published) * float(self.tolerance.rstrip("%")) / 100
        return float(self.tolerance)


# ---------------------------------------------------------------- reading claim files


def claims_dir() -> Path:
    """data/claims of the project; a project without one uses the claims shipped with the package."""
    own = project_root() / "data" / "claims"
    if own.is_dir():
        return own
    return Path(__file__).resolve().parents[3] / "data" / "claims"


def load_claims(folder: Path | None = None) -> list[Claim]:
    """Every claim of every *.yml file in `folder` (default `claims_dir()`), validated."""
    folder = folder or claims_dir()
    if not folder.is_dir():
        raise ClaimError("claims folder not found", file=display_path(folder))
    claims: list[Claim] = []
    seen: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        for claim in read_claim_file(path):
            if claim.id in seen:
                raise ClaimError(f"claim {claim.id!r}: id already used in {seen[claim.id]}", file=claim.file)
            seen[claim.id] = claim.file
            claims.append(claim)
    return claims


def read_claim_file(path: Path) -> list[Claim]:
    name = display_path(path)
    try:
        document = load_yaml(path, aliases=True)  # claim files share notes through anchors
    except YamlRefused as exc:
        raise ClaimError(str(exc), file=name) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ClaimError(f"not valid YAML: {str(exc).splitlines()[0]}", file=name,
                         row=mark.line + 1 if mark is not None else None) from None
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        raise ClaimError("must be a mapping with a `claims:` list (and optionally a `source:` mapping)", file=name)
    defaults = document.get("source") or {}
    if not isinstance(defaults, dict):
        raise ClaimError("`source:` must be a mapping of publisher, date, title, url", file=name)
    group = str(document.get("title") or path.stem)
    return [replace(parse_claim(entry, defaults, name, position), group=group)
            for position, entry in enumerate(document["claims"], start=1)]


def parse_claim(entry: object, defaults: dict, file: str, position: int) -> Claim:
    if not isinstance(entry, dict):
        raise ClaimError(f"claim number {position} is not a mapping of fields", file=file)
    claim_id = entry.get("id")
    if not isinstance(claim_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", claim_id):
        raise ClaimError(f"claim number {position} needs an `id` of lower-case letters, digits, '.', '_' or '-'"
                         f" (got {claim_id!r})", file=file)

    def fail(message: str) -> ClaimError:
        return ClaimError(f"claim {claim_id!r}: {message}", file=file)

    for name in CLAIM_FIELDS:
        if name not in entry:
            raise fail(f"missing field `{name}`")
    unknown = set(entry) - {*CLAIM_FIELDS, "source", "tolerance", "reason", "related_measure", "statistic"}
    if unknown:
        raise fail(f"unknown field(s) {', '.join(sorted(unknown))}")
    source = _source(entry.get("source"), defaults, fail)
    text = entry["claim"]
    if not isinstance(text, str) or not text.strip():
        raise fail("`claim` must state the claim in words")
    if entry["measure"] == NOT_COMPUTABLE:
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise fail("a measure that is 'not computable' needs a `reason`")
        measure, related = None, None
        statistic = entry.get("statistic", "count")
        if statistic not in STATISTICS:
            raise fail(f"unknown statistic {statistic!r}: one of {', '.join(STATISTICS)}")
    else:
        if "statistic" in entry:
            raise fail("`statistic` belongs inside `measure` (at claim level only for a measure that is not computable)")
        measure = parse_measure(entry["measure"], fail)
        related = parse_measure(entry["related_measure"], fail, related=True) if "related_measure" in entry else None
        reason = None
        statistic = measure.statistic
    published = _published(entry["published"], statistic, fail)
    comparison, tolerance = _comparison(entry, statistic, fail)
    return Claim(claim_id, " ".join(text.split()), source, file, measure, published, comparison, tolerance, reason,
                 related, statistic)


def _source(override: object, defaults: dict, fail) -> dict:
    if override is not None and not isinstance(override, dict):
        raise fail("`source` must be a mapping of publisher, date, title, url")
    source = {**defaults, **(override or {})}
    for name in SOURCE_FIELDS:
        if not source.get(name):
            raise fail(f"missing source field `{name}` (in the claim's `source` or the file's)")
    date = source["date"]
    text = date.isoformat() if isinstance(date, dt.date) else str(date)
    if not _DATE.match(text):
        raise fail(f"source date {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    if not _URL.match(str(source["url"])):
        raise fail(f"source url {str(source['url'])[:80]!r} is not a web address (http:// or https://, no spaces)")
    return {**source, "date": text}


def parse_measure(value: object, fail, *, related: bool = False) -> Measure:
    what = "`related_measure`" if related else "`measure`"
    if not isinstance(value, dict):
        raise fail(f"{what} must be a mapping (table, filters, statistic) or 'not computable'")
    allowed = {"table", "filters", "statistic", "numerator"} | ({"label", "note"} if related else set())
    unknown = set(value) - allowed
    if unknown:
        raise fail(f"{what} has unknown field(s) {', '.join(sorted(unknown))}")
    table = value.get("table")
    if table not in KNOWN_TABLES:
        raise fail(f"unknown table {table!r} in {what}: one of {', '.join(KNOWN_TABLES)}")
    statistic = value.get("statistic", "count")
    if statistic not in STATISTICS:
        raise fail(f"unknown statistic {statistic!r}: one of {', '.join(STATISTICS)}")
    filters = parse_filters(value.get("filters"), table, fail)
    if "fiscal_year" not in filters and "date_range" not in filters:
        raise fail(f"{what} needs a `fiscal_year` or `date_range` filter: a published figure covers a period")
    numerator = {}
    if statistic == "share":
        if not isinstance(value.get("numerator"), dict) or not value["numerator"]:
            raise fail("a share needs `numerator:` filters that pick the part out of the whole")
        numerator = parse_filters(value["numerator"], table, fail)
    elif "numerator" in value:
        raise fail("`numerator` is only for statistic: share")
    if statistic == "per_month":
        _check_whole_months(filters.get("date_range"), fail)
    label, note = value.get("label"), value.get("note")
    if related and not (isinstance(label, str) and label.strip() and isinstance(note, str) and note.strip()):
        raise fail("a `related_measure` needs a `label` (what it counts) and a `note` (why it is a different measure)")
    return Measure(table, filters, statistic, numerator, label, note)


def parse_filters(value: object, table: str, fail) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("`filters` must be a mapping of filter names to values")
    parsed = {}
    for name, raw in value.items():
        if name not in FILTERS:
            raise fail(f"unknown filter {name!r}: one of {', '.join(FILTERS)}")
        parsed[name] = _filter_value(name, raw, table, fail)
    return parsed


def _as_list(raw: object) -> list:
    return list(raw) if isinstance(raw, list) else [raw]


def _filter_value(name: str, raw: object, table: str, fail) -> object:
    if name == "fiscal_year":
        years = _as_list(raw)
        if not years or not all(isinstance(y, int) and not isinstance(y, bool) and 1990 <= y <= 2100 for y in years):
            raise fail(f"fiscal_year must be a year such as 2017 or a list of years (got {raw!r})")
        return sorted(set(years))
    if name == "date_range":
        return _date_range(raw, table, fail)
    if name == "declined":
        if raw not in DECLINED_DEFINITIONS:
            raise fail(f"declined must be one of {', '.join(DECLINED_DEFINITIONS)} (got {raw!r})")
        return raw
    values = _as_list(raw)
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise fail(f"{name} must be a text value or a list of them (got {raw!r})")
    if name == "lift_reason_bucket" and (bad := [v for v in values if v not in BUCKETS]):
        raise fail(f"unknown lift_reason_bucket {bad[0]!r}: one of {', '.join(BUCKETS)}")
    if name == "state":
        values = [v.upper() for v in values]
        if bad := [v for v in values if v not in STATES]:
            raise fail(f"unknown state {bad[0]!r}: use two-letter codes such as CA")
    if name == "aor":
        known = {a.lower(): a for a in AORS}
        if bad := [v for v in values if short_aor(v).lower() not in known]:
            raise fail(f"unknown area of responsibility {bad[0]!r}: one of {', '.join(AORS)}")
        values = [known[short_aor(v).lower()] for v in values]
    return values


def _date(value: object, fail) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise fail(f"date_range bound {value!r} is not a date YYYY-MM-DD") from None


def _date_range(raw: object, table: str, fail) -> dict:
    if isinstance(raw, list) and len(raw) == 2:
        start, end, column = raw[0], raw[1], KIND_BY_NAME[table].date_column
    elif isinstance(raw, dict) and {"from", "to"} <= set(raw) <= {"from", "to", "column"}:
        start, end, column = raw["from"], raw["to"], raw.get("column", KIND_BY_NAME[table].date_column)
    else:
        raise fail(f"date_range must be [first, last] or {{from:, to:, column:}} (got {raw!r})")
    if not isinstance(column, str) or not column.endswith("_date"):
        raise fail(f"date_range column must be a date column such as detainer_lift_date (got {column!r})")
    first, last = _date(start, fail), _date(end, fail)
    if first > last:
        raise fail(f"date_range starts {first} after it ends {last}")
    return {"from": first, "to": last, "column": column}


def _check_whole_months(dates: dict | None, fail) -> None:
    if dates is None:
        raise fail("per_month needs a date_range of whole months")
    last_day = calendar.monthrange(dates["to"].year, dates["to"].month)[1]
    if dates["from"].day != 1 or dates["to"].day != last_day:
        raise fail("per_month needs a date_range from the first day of a month to the last day of a month")


def _published(value: object, statistic: str, fail) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise fail(f"`published` must be a number without separators, e.g. 143470 (got {value!r})")
    if statistic == "share" and value > 1:
        raise fail(f"a share is published as a fraction between 0 and 1, e.g. 0.52 (got {value!r})")
    return value


def _comparison(entry: dict, statistic: str, fail) -> tuple[str, float | str | None]:
    comparison = entry["comparison"]
    if comparison not in COMPARISONS:
        raise fail(f"unknown comparison {comparison!r}: one of {', '.join(COMPARISONS)}")
    if comparison == "exact" and statistic != "count":
        raise fail(f"a {statistic} cannot be compared exactly: use approximately with a tolerance, or at_least")
    tolerance = entry.get("tolerance")
    if comparison != "approximately":
        if tolerance is not None:
            raise fail("`tolerance` is only for comparison: approximately")
        return comparison, None
    if isinstance(tolerance, str) and re.fullmatch(r"\d+(\.\d+)?%", tolerance.strip()):
        return comparison, tolerance.strip()
    if isinstance(tolerance, int | float) and not isinstance(tolerance, bool) and tolerance > 0:
        return comparison, tolerance
    raise fail(f"approximately needs a `tolerance`: an amount such as 1000, or a percentage such as '5%' (got {tolerance!r})")


# ---------------------------------------------------------------- evaluation


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    value: float | None = None  # computed from the release (by the related measure if "different measure")
    definition: str = ""  # the measure used, in words
    reason: str = ""  # why it cannot be checked

    @property
    def gap(self) -> float | None:
        return None if self.value is None else self.value - self.claim.published


class ReleaseData:
    """A release's manifest and, loaded on demand, the columns of its tables that claims need."""

    def __init__(self, release_id: str) -> None:
        self.release = release_id
        self.manifest = read_manifest(processed_dir(release_id))
        self._columns: dict[tuple[str, str], pd.Series] = {}

    def frame(self, table: str, columns: list[str]) -> pd.DataFrame:
        """The columns of a table; text columns come as categoricals (filters then work per distinct value)."""
        missing = [c for c in columns if (table, c) not in self._columns]
        if missing:
            types = self.manifest["tables"][table]["columns"]
            text = [c for c in missing if types.get(c, {}).get("type") == "string"]
            data = pq.read_table(processed_dir(self.release) / f"{table}.parquet", columns=missing, read_dictionary=text)
            loaded = data.to_pandas(date_as_object=False)
            for column in missing:
                self._columns[(table, column)] = loaded[column]
        return pd.DataFrame({c: self._columns[(table, c)] for c in columns})


def unavailable(measure: Measure, data: ReleaseData) -> str | None:
    """Why this release cannot compute `measure` (one clause), or None if it can."""
    info = data.manifest["tables"].get(measure.table)
    if info is None:
        return f"this release has no {measure.table} table"
    missing = [c for c in measure.columns() if c != "fiscal_year" and c not in info["columns"]]
    if missing:
        return f"the {measure.table} table of this release has no {', '.join(missing)} column"
    years = sorted(int(y) for y in info["rows_by_fiscal_year"])
    span = (f"FY{years[0]}–FY{years[-1]}" if len(years) > 1 else f"FY{years[0]}") if years else "no fiscal year"
    partial = partial_years(data.manifest, measure.table)
    for fy in measure.filters.get("fiscal_year", []):
        if fy not in years:
            return f"the {measure.table} table covers {span}, not FY{fy}"
        if partial.get(str(fy)):
            last = info["fiscal_year_coverage"][str(fy)]["last"]
            return f"FY{fy} is only partly covered by the {measure.table} table (records to {last})"
    if (dates := measure.date_filter()) is not None:
        period = info.get("period")
        slack = dt.timedelta(days=PARTIAL_TOLERANCE_DAYS)
        wanted = f"{dates[1]} to {dates[2]}"
        if not period:
            return f"the {measure.table} table has no dated records, so not {wanted}"
        first, last = dt.date.fromisoformat(period["first"]), dt.date.fromisoformat(period["last"])
        if first > dates[1] + slack or last < dates[2] - slack:
            return f"the {measure.table} table covers {first} to {last}, not {wanted}"
    return None


def _per_value(values: pd.Series, test: Callable[[object], bool], missing: bool = False) -> pd.Series:
    """`test` applied once per distinct value; missing values pass if `missing`."""
    codes = values.astype("category")
    passing = [position for position, value in enumerate(codes.cat.categories) if test(value)]
    if missing:
        passing.append(-1)
    return pd.Series(codes.cat.codes.isin(passing).to_numpy(), index=values.index)


def _folded(value: object) -> str:
    return " ".join(str(value).split()).lower()


def filter_mask(frame: pd.DataFrame, filters: dict) -> pd.Series:
    """Rows of `frame` that pass every filter (see the module docstring)."""
    mask = pd.Series(True, index=frame.index)
    for name, value in filters.items():
        if name == "fiscal_year":
            mask &= frame["fiscal_year"].isin(value)
        elif name == "date_range":
            dates = pd.to_datetime(frame[value["column"]])
            mask &= dates.between(pd.Timestamp(value["from"]), pd.Timestamp(value["to"])).fillna(False)
        else:
            missing = name == "lift_reason_bucket" and "still_open" in value  # no lift reason: still open
            mask &= _per_value(frame[FILTER_COLUMNS[name]], value_test(name, value), missing)
    return mask.astype(bool)


def value_test(name: str, value: list[str] | str) -> Callable[[object], bool]:
    """The test a (non-missing) value of the filtered column must pass, for the text-valued filters
    (`value` is a list of accepted values, or the definition's name for `declined`)."""
    if name == "state":
        return lambda v: str(v).strip().upper() in value
    if name == "aor":
        areas = {a.lower() for a in value}
        return lambda v: short_aor(str(v)).lower() in areas
    if name == "lift_reason_bucket":
        return lambda v: lift_bucket(pd.Series([v]))[0] in value
    if name == "declined":
        definition = str(value)
        return lambda v: bool(is_declined(pd.Series([v]), definition)[0])
    wanted = {_folded(v) for v in value}
    return lambda v: _folded(v) in wanted


def months_in(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def compute(measure: Measure, data: ReleaseData) -> float | None:
    """The measure's value in the release (None for a share of nothing)."""
    frame = data.frame(measure.table, measure.columns())
    mask = filter_mask(frame, measure.filters)
    count = int(mask.sum())
    if measure.statistic == "share":
        return int((mask & filter_mask(frame, measure.numerator)).sum()) / count if count else None
    if measure.statistic == "per_month":
        dates = measure.date_filter()
        assert dates is not None
        return count / months_in(dates[1], dates[2])
    return count


def agrees(claim: Claim, value: float) -> bool:
    if claim.comparison == "exact":
        return value == claim.published
    if claim.comparison == "at_least":
        return value >= claim.published
    return abs(value - claim.published) <= claim.allowed_gap() + 1e-9


def evaluate(claim: Claim, data: ReleaseData) -> ClaimResult:
    if claim.measure is None:
        return ClaimResult(claim, CANNOT, reason=f"not computable from record-level data; {claim.reason}")
    definition = describe(claim.measure)
    why = unavailable(claim.measure, data)
    if why is None:
        value = compute(claim.measure, data)
        if value is None:
            return ClaimResult(claim, CANNOT, definition=definition, reason="no record of this release passes the filters")
        return ClaimResult(claim, REPRODUCED if agrees(claim, value) else DIFFERS, value, definition)
    if claim.related is not None and unavailable(claim.related, data) is None:
        value = compute(claim.related, data)
        if value is not None:
            return ClaimResult(claim, DIFFERENT_MEASURE, value, describe(claim.related), reason=why)
    return ClaimResult(claim, CANNOT, definition=definition, reason=why)


def check_claims(release_id: str, claims: list[Claim] | None = None) -> list[ClaimResult]:
    data = ReleaseData(release_id)
    return [evaluate(claim, data) for claim in (load_claims() if claims is None else claims)]


# ---------------------------------------------------------------- words


def _list(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def describe_filters(filters: dict) -> list[str]:
    words = []
    for name, value in filters.items():
        if name == "fiscal_year":
            words.append(f"FY{value[0]}" if len(value) == 1 else "FY" + ", FY".join(str(y) for y in value))
        elif name == "date_range":
            words.append(f"{value['column']} {value['from']} to {value['to']}")
        elif name == "state":
            words.append("state " + " or ".join(value))
        elif name == "aor":
            words.append("area of responsibility " + " or ".join(value))
        elif name == "lift_reason_bucket":
            words.append("outcome " + _list([BUCKETS[v] for v in value]))
        elif name == "declined":
            words.append(f"declined ({value} definition)")
        else:
            label = "processing disposition" if name == "disposition" else "apprehension method"
            words.append(f"{label} {_list(value)}")
    return words


def describe(measure: Measure) -> str:
    """The measure in words, as the report prints it beside the value."""
    what = measure.label or f"{measure.table} records"
    scope = ", ".join(describe_filters(measure.filters))
    if measure.statistic == "share":
        return f"share of {what} ({scope}) with {', '.join(describe_filters(measure.numerator))}"
    if measure.statistic == "per_month":
        dates = measure.date_filter()
        assert dates is not None
        return f"{what} ({scope}) per calendar month, over {months_in(dates[1], dates[2])} months"
    return f"{what} ({scope})"


def format_value(value: float | None, statistic: str, min_cell: int = 1) -> str:
    """A value as the report shows it; counts below `min_cell` (but above zero) as `<min_cell`."""
    if value is None or pd.isna(value):
        return "–"
    if statistic == "share":
        return f"{100 * value:.1f}%"
    if 0 < value < min_cell:
        return f"<{min_cell}"
    text = f"{round(value):,}"
    return f"{text} a month" if statistic == "per_month" else text


def _gap_words(result: ClaimResult, min_cell: int) -> str:
    claim, gap = result.claim, result.gap
    assert gap is not None and result.value is not None
    if claim.statistic == "share":
        return f"{abs(100 * gap):.1f} percentage points {'higher' if gap > 0 else 'lower'}"
    relative = f" ({100 * gap / claim.published:+.1f}%)" if claim.published else ""
    if 0 < result.value < min_cell:
        return "lower than published" if gap < 0 else "higher than published"
    unit = " a month" if claim.statistic == "per_month" else ""
    return f"{abs(round(gap)):,}{unit} {'more' if gap > 0 else 'fewer'}{relative}"


def tolerance_text(claim: Claim) -> str:
    if isinstance(claim.tolerance, str):
        return f"±{claim.tolerance}"
    if claim.statistic == "share":
        return f"±{100 * float(claim.tolerance or 0):g} percentage points"
    return f"±{float(claim.tolerance or 0):,g}"


def verdict_text(result: ClaimResult, min_cell: int = 1) -> str:
    """The verdict with what it rests on: by how much and which way, or what is missing."""
    claim = result.claim
    if result.verdict == REPRODUCED:
        return {"exact": "reproduced exactly", "at_least": "reproduced (at least the published value)",
                "approximately": f"reproduced (within {tolerance_text(claim)})"}[claim.comparison]
    if result.verdict == CANNOT and claim.measure is None:
        return f"cannot be checked: {result.reason}"
    if result.verdict == CANNOT:
        return f"cannot be checked with this release: {result.reason}"
    gap = _gap_words(result, min_cell) if result.gap else "the same number"
    if result.verdict == DIFFERENT_MEASURE:
        assert claim.related is not None
        return f"different measure: {gap} than published ({result.reason})"
    if claim.comparison == "at_least":
        return f"differs: {gap} than the published minimum"
    if claim.comparison == "approximately":
        return f"differs: {gap}, outside the stated tolerance of {tolerance_text(claim)}"
    return f"differs: {gap} than published"


def source_label(source: dict) -> str:
    return f"{source['publisher']}, {source['title']} ({source['date']})"


def results_frame(results: list[ClaimResult], min_cell: int = 1) -> pd.DataFrame:
    """One row per claim: the claim, its source, published value, this release's value, verdict, definition."""
    rows = []
    for result in results:
        claim = result.claim
        rows.append({
            "Claim": claim.text,
            "Id": claim.id,
            "Source": source_label(claim.source),
            "Published": format_value(claim.published, claim.statistic),
            "This release": format_value(result.value, claim.statistic, min_cell),
            "Verdict": verdict_text(result, min_cell),
            "Definition used": result.definition or "–",
            "verdict": result.verdict,
            "file": claim.file,
        })
    return pd.DataFrame(rows)


def measure_notes(results: list[ClaimResult]) -> list[str]:
    """Why each related measure used is a different measure, once per distinct note."""
    notes = [r.claim.related.note for r in results if r.verdict == DIFFERENT_MEASURE and r.claim.related]
    return list(dict.fromkeys(n for n in notes if n is not None))


def verdict_counts(results: list[ClaimResult]) -> dict[str, int]:
    return {verdict: sum(r.verdict == verdict for r in results) for verdict in VERDICTS}


def summary_sentence(results: list[ClaimResult], release_id: str, synthetic: bool = False) -> str:
    counts = verdict_counts(results)
    files = len({r.claim.file for r in results})
    text = (f"**{len(results)} published figures** from {files} source file{'s' if files != 1 else ''} were checked "
            f"against release {md_text(release_id)}: {counts[REPRODUCED]} reproduced, {counts[DIFFERS]} differ, "
            f"{counts[DIFFERENT_MEASURE]} compared through a different measure, and {counts[CANNOT]} cannot be "
            "checked with this release.")
    if synthetic:
        text += (" This release is synthetic: its records were invented, so these verdicts test the package, "
                 "not the published figures.")
    return text


def measure_paragraph(results: list[ClaimResult]) -> str | None:
    """Prose for the report on the claims compared through a related measure, or None if there are none."""
    related = [r for r in results if r.verdict == DIFFERENT_MEASURE and r.claim.related]
    if not related:
        return None
    labels = sorted({r.claim.related.label for r in related if r.claim.related and r.claim.related.label})
    tables = sorted({r.claim.measure.table for r in related if r.claim.measure})
    ids = md_text(", ".join(r.claim.id for r in related))
    return (f"{len(related)} claim{'s' if len(related) != 1 else ''} ({ids}) count{'s' if len(related) == 1 else ''} "
            f"records of the {md_text(' and '.join(tables))} table, which this release does not hold. For them the "
            f"table shows {md_text(' and '.join(labels))} "
            "instead, under the verdict *different measure*: a related count, not the one published, so neither "
            "number is called wrong. " + " ".join(md_text(note) for note in measure_notes(related)))


def definitions_paragraph(results: list[ClaimResult]) -> str | None:
    """The declined-detainer definitions the claims use, in words, or None if none uses one."""
    used = sorted({m.filters["declined"] for r in results for m in (r.claim.measure, r.claim.related)
                   if m is not None and "declined" in m.filters})
    if not used:
        return None
    return "Declined detainers, as the claims define them: " + "; ".join(
        f"*{name}*: {DECLINED_DESCRIPTIONS[name]}" for name in used) + "."


def unchecked_markdown(results: list[ClaimResult]) -> str:
    """The claims that cannot be checked, under each reason: the claim and its published value."""
    reasons: dict[str, list[Claim]] = {}
    for result in results:
        reasons.setdefault(result.reason, []).append(result.claim)
    lines = []
    for reason, claims in reasons.items():
        lines.append(f"- {md_text(reason[:1].upper() + reason[1:])}:")
        lines += [f"    - {md_text(c.text)} (published: {format_value(c.published, c.statistic)})" for c in claims]
    return "\n".join(lines)


def grouped(results: list[ClaimResult]) -> list[tuple[str, list[ClaimResult]]]:
    """Results by claim file, in file order."""
    groups: dict[str, list[ClaimResult]] = {}
    for result in results:
        groups.setdefault(result.claim.file, []).append(result)
    return list(groups.items())


def sources_markdown(results: list[ClaimResult]) -> str:
    """The documents the claims come from, one bullet each."""
    seen: dict[tuple, dict] = {}
    for result in results:
        source = result.claim.source
        seen.setdefault((source["publisher"], source["title"], source["date"], source["url"]), source)
    lines = []
    for source in seen.values():
        note = f" Note: {md_text(source['note'])}." if source.get("note") else ""
        lines.append(f"- {md_text(source['publisher'])}, *{md_text(source['title'])}*, {md_text(source['date'])}, "
                     f"<{source['url']}>.{note}")
    return "\n".join(lines)


def tables_used(results: list[ClaimResult]) -> str:
    """The tables the shown values were computed from."""
    names = []
    for result in results:
        measure = result.claim.related if result.verdict == DIFFERENT_MEASURE else result.claim.measure
        if measure is not None and result.verdict != CANNOT and measure.table not in names:
            names.append(measure.table)
    return ", ".join(names) or "none"


def format_results(results: list[ClaimResult], release_id: str) -> str:
    """The terminal table of `analysis claims`: one claim per line."""
    order = {verdict: position for position, verdict in enumerate(VERDICTS)}
    results = sorted(results, key=lambda r: order[r.verdict])  # stable: file order within a verdict
    frame = results_frame(results)
    width = max([len("claim"), *frame["Id"].str.len()]) if len(frame) else 5
    lines = [f"Published claims checked against release {release_id}", "",
             f"{'claim':<{width}}  {'published':>15}  {'this release':>20}  verdict"]
    for claim_id, published, value, verdict in frame[["Id", "Published", "This release", "Verdict"]].itertuples(index=False):
        lines.append(f"{claim_id:<{width}}  {published:>15}  {value:>20}  {verdict}")
    counts = verdict_counts(results)
    lines += ["", ", ".join(f"{n} {verdict}" for verdict, n in counts.items())]
    lines += [f"different measure: {note}" for note in measure_notes(results)]
    return "\n".join(lines)


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
    facility             canonical name(s) of data/reference/facilities.csv (`facility` and `state`):
                         every spelling its patterns match, in its state; see analysis.vocab.facilities
    charge               category (or list) of data/reference/conviction_categories.csv, applied to the
                         most serious conviction (`msc_charge`, `msc_charge_code`); {category: Homicide,
                         pending: true} also to pending charges where the release has them
                         (`pending_charge`, `pending_charge_code`)
Text filters match case-insensitively, ignoring repeated spaces.

Statistics:
    count       records that pass the filters
    share       records that also pass `numerator` (more filters) / records that pass the filters;
                `published` is a fraction between 0 and 1
    per_month   count divided by the calendar months of `date_range` (which must run from the first
                to the last day of months)
    distinct    distinct `unit`s among the records that pass the filters: people (anonymized
                identifier, within this release), facilities (name with state), states (the 50), or
                jurisdictions with `proxy: facility` or `proxy: city` (each with its state).
                A share with a `unit` is a share of distinct units: units with a record passing the
                numerator among units with a record passing the filters.
Comparisons: `exact` (counts and distinct counts only), `at_least` (the release must hold at least
the published value), `approximately` with `tolerance`: an absolute amount in the published unit
(1000, or 0.01 for a share) or a percentage of the published value ("5%").

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
import pyarrow as pa
import yaml

from analysis import words
from analysis.errors import AnalysisError
from analysis.escaping import md_text
from analysis.paths import display_path, project_root
from analysis.release import Release, partial_years, sql_name
from analysis.safe_yaml import YamlRefused, load_yaml
from analysis.vocab import convictions
from analysis.vocab.definitions import BUCKETS, DECLINED_DEFINITIONS, DECLINED_DESCRIPTIONS, is_declined, lift_bucket
from analysis.vocab.facilities import Facility, fold, load_facilities
from analysis.vocab.fiscal import PARTIAL_TOLERANCE_DAYS
from analysis.vocab.geography import AORS, STATES, short_aor
from analysis.vocab.kinds import KIND_BY_NAME, KNOWN_TABLES

NOT_COMPUTABLE = "not computable"
STATISTICS = ("count", "share", "per_month", "distinct")
COUNTS = ("count", "distinct")  # statistics whose value is a number of things, compared exactly if need be
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
FILTERS = ("fiscal_year", "date_range", *FILTER_COLUMNS, "facility", "charge")
CONVICTION_COLUMNS = ("msc_charge", "msc_charge_code")  # the most serious conviction: text, NCIC code
PENDING_COLUMNS = ("pending_charge", "pending_charge_code")  # a pending charge, where a release records one
# unit -> (columns it is read from, what it is in words, what a record lacks when it has none)
UNITS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "people": (("anonymized_identifier",), "people (anonymized identifier; it links records within this release only)",
               "anonymized identifier"),
    "facilities": (("facility", "state"), "facilities (facility name with its state)", "facility name"),
    "states": (("state",), "states (the 50 states; DC and territories are not counted)", "state among the 50"),
    "jurisdictions": ((), "jurisdictions", ""),  # columns and words come from the proxy
}
PROXIES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "facility": (("facility", "state"), "jurisdictions, read as facilities (facility name with its state)",
                 "facility name"),
    "city": (("city", "state"), "jurisdictions, read as cities (the facility's city with its state)", "city"),
}
NO_FACILITY = "no facility in this release matches"
FACILITY_PROXY_NOTE = ("ICE records the facility (jail or prison) a detainer was sent to, not the agency or "
                       "jurisdiction that runs it: each facility stands in for one")
CITY_PROXY_NOTE = ("ICE records the facility's city, not the jurisdiction: each city with its state stands in "
                   "for one")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_URL = re.compile(r"^https?://[^\s<>\\]+$")


class ClaimError(AnalysisError):
    """A claim file that cannot be read or states a claim the vocabulary does not allow."""


# ---------------------------------------------------------------- the claim model


@dataclass(frozen=True)
class ChargeFilter:
    """Records whose most serious conviction (and, with `pending`, a pending charge) is in `categories`."""

    categories: tuple[str, ...]
    pending: bool
    rules: convictions.Rules


@dataclass(frozen=True)
class Measure:
    table: str
    filters: dict
    statistic: str = "count"
    numerator: dict = field(default_factory=dict)
    label: str | None = None  # related measures only: what is counted instead
    note: str | None = None  # related measures only: why it is a different measure
    unit: str | None = None  # distinct counts and shares of distinct units: what is counted
    proxy: str | None = None  # unit jurisdictions: facility or city

    def date_filter(self) -> tuple[str, dt.date, dt.date] | None:
        value = self.filters.get("date_range")
        return None if value is None else (value["column"], value["from"], value["to"])

    def unit_columns(self) -> tuple[str, ...]:
        if self.unit is None:
            return ()
        return PROXIES[self.proxy][0] if self.unit == "jurisdictions" and self.proxy else UNITS[self.unit][0]

    def columns(self) -> list[str]:
        """The columns the table must have (charge columns, of which one is enough, come apart)."""
        names = ["fiscal_year"]
        if (dates := self.date_filter()) is not None:
            names.append(dates[0])
        for key in [*self.filters, *self.numerator]:
            if key in FILTER_COLUMNS:
                names.append(FILTER_COLUMNS[key])
            elif key == "facility":
                names += ["facility", "state"]
        names += self.unit_columns()
        return list(dict.fromkeys(names))

    def charge_filters(self) -> list[ChargeFilter]:
        return [f["charge"] for f in (self.filters, self.numerator) if "charge" in f]

    def charge_columns(self, present: set[str] | dict) -> list[str]:
        """The charge columns this measure reads that the table has."""
        wanted: list[str] = []
        for charge in self.charge_filters():
            wanted += CONVICTION_COLUMNS
            if charge.pending:
                wanted += PENDING_COLUMNS
        return [c for c in dict.fromkeys(wanted) if c in present]

    def facilities(self) -> tuple[Facility, ...]:
        return tuple(f for part in (self.filters, self.numerator) for f in part.get("facility", ()))


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
    allowed = {"table", "filters", "statistic", "numerator", "unit", "proxy"} | ({"label", "note"} if related else set())
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
    unit, proxy = _unit(value, statistic, fail)
    return Measure(table, filters, statistic, numerator, label, note, unit, proxy)


def _unit(value: dict, statistic: str, fail) -> tuple[str | None, str | None]:
    """The `unit` (and, for jurisdictions, `proxy`) of a distinct count or of a share of distinct units."""
    unit, proxy = value.get("unit"), value.get("proxy")
    if unit is None:
        if statistic == "distinct":
            raise fail(f"statistic: distinct needs a `unit`: one of {', '.join(UNITS)}")
        if proxy is not None:
            raise fail("`proxy` is only for unit: jurisdictions")
        return None, None
    if statistic not in ("distinct", "share"):
        raise fail("`unit` is only for statistic: distinct, or a share of distinct units")
    if unit not in UNITS:
        raise fail(f"unknown unit {unit!r}: one of {', '.join(UNITS)}")
    if unit == "jurisdictions" and proxy not in PROXIES:
        raise fail(f"unit: jurisdictions needs a `proxy` saying what stands in for a jurisdiction: one of "
                   f"{', '.join(PROXIES)} (got {proxy!r})")
    if unit != "jurisdictions" and proxy is not None:
        raise fail("`proxy` is only for unit: jurisdictions")
    return unit, proxy


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
    if name == "charge":
        return _charge(raw, fail)
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
    if name == "facility":
        return _facilities(values, fail)
    return values


def _facilities(names: list[str], fail) -> tuple[Facility, ...]:
    table = load_facilities()
    if bad := [n for n in names if n not in table]:
        raise fail(f"unknown facility {bad[0]!r}: not a canonical name of data/reference/facilities.csv "
                   "(add it there, with the patterns that match ICE's spellings)")
    return tuple(table[n] for n in dict.fromkeys(names))


def _charge(raw: object, fail) -> ChargeFilter:
    """`charge: Homicide`, `charge: [Homicide, Kidnapping]` or `charge: {category: Homicide, pending: true}`."""
    if isinstance(raw, dict):
        if not {"category"} <= set(raw) <= {"category", "pending"} or not isinstance(raw.get("pending", False), bool):
            raise fail(f"charge must be a category, a list of them, or {{category: ..., pending: true|false}} (got {raw!r})")
        wanted, pending = _as_list(raw["category"]), bool(raw.get("pending", False))
    else:
        wanted, pending = _as_list(raw), False
    rules = convictions.load_rules()
    known = list(dict.fromkeys(category for _, category in (*rules.code, *rules.text)))
    bad = [c for c in wanted if c not in known] if wanted else [raw]
    if bad:
        raise fail(f"unknown charge category {bad[0]!r}: one of {', '.join(known)} "
                   "(data/reference/conviction_categories.csv)")
    return ChargeFilter(tuple(dict.fromkeys(wanted)), pending, rules)


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
    if comparison == "exact" and statistic not in COUNTS:
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


@dataclass(frozen=True)
class FacilityMatch:
    """How one named facility was found in a release: what a reader needs to check the match."""

    facility: str  # canonical name (data/reference/facilities.csv)
    spellings: tuple[tuple[str, int], ...]  # each spelling of the release it matched, records counted under it
    unmatched: tuple[str, ...]  # its patterns that match no spelling of the release (in its state)


@dataclass
class Computed:
    value: float | None
    notes: list[str] = field(default_factory=list)  # what the value rests on, in this release
    matches: list[FacilityMatch] = field(default_factory=list)
    why: str | None = None  # why it cannot be computed after all (no facility matches)


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    value: float | None = None  # computed from the release (by the related measure if "different measure")
    definition: str = ""  # the measure used, in words
    reason: str = ""  # why it cannot be checked
    notes: list[str] = field(default_factory=list)  # caveats of this release's value (fields used, proxies)
    matches: list[FacilityMatch] = field(default_factory=list)  # named facilities: the spellings matched

    @property
    def gap(self) -> float | None:
        return None if self.value is None else self.value - self.claim.published


# Every character str.strip() removes (those str.isspace() accepts): an anonymized identifier is
# compared without them at either end, and one made of nothing else is no identifier.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
Row = tuple  # one distinct combination of column values, None where a value is missing
Rule = Callable[[list[Row]], list[bool]]  # which of the distinct combinations pass, in order


class ReleaseData:
    """A release as claims read it: its manifest, and its records counted by DuckDB over the views of
    the whole release (`<table>_all`), since claims state their own period and place and a report's
    geography and years never limit them. The rules written in Python (lift-reason buckets, declined
    definitions, charge categories, facility spellings, units) are applied once to each distinct value
    of the columns they read; the values that pass go back to DuckDB as a small table. No column is
    loaded whole."""

    def __init__(self, release: str | Release) -> None:
        self._owned = not isinstance(release, Release)
        self.source = Release(release) if isinstance(release, str) else release
        self.release = self.source.id
        self.manifest = self.source.manifest
        self._distinct: dict[tuple[str, tuple[str, ...]], pa.Table] = {}
        self._registered: list[str] = []

    def view(self, table: str) -> str:
        """The table's view of the whole release, for a query that calls each record `r`."""
        return f"{sql_name(f'{table}_all')} r"

    def rows(self, query: str, params: list | None = None) -> list[Row]:
        return self.source.db.execute(query, params or []).fetchall()

    def distinct(self, table: str, columns: tuple[str, ...]) -> pa.Table:
        """Each combination of `columns` the table holds (missing values included), read once."""
        key = (table, columns)
        if key not in self._distinct:
            names = ", ".join(f"r.{sql_name(c)}" for c in columns)
            self._distinct[key] = self.source.db.sql(f"select distinct {names} from {self.view(table)}").to_arrow_table()
        return self._distinct[key]

    def combinations(self, table: str, columns: tuple[str, ...]) -> list[Row]:
        """`distinct` as Python values, one tuple per combination."""
        values = self.distinct(table, columns)
        return list(zip(*(column.to_pylist() for column in values.columns), strict=True))

    def passing(self, table: str, columns: tuple[str, ...], rule: Rule) -> str:
        """A SQL condition on a record `r` of `table`: its values of `columns` are a combination that
        `rule` accepts. The accepted combinations are a table of the connection: release text stays data."""
        values = self.distinct(table, columns)
        accepted = values.filter(pa.array([bool(ok) for ok in rule(self.combinations(table, columns))], pa.bool_()))
        if accepted.num_rows in (0, values.num_rows):
            return "true" if accepted.num_rows else "false"
        name = f"claim_values_{len(self._registered) + 1}"
        self.source.db.register(name, accepted)
        self._registered.append(name)
        # a struct compares its missing fields as equal (a NULL in a plain IN never matches), and an
        # uncorrelated IN stays one hash join also under OR and inside an aggregate's FILTER
        fields = [f"'c{position}': {{}}.{sql_name(column)}" for position, column in enumerate(columns)]
        record, value = ("{" + ", ".join(f.format(alias) for f in fields) + "}" for alias in ("r", "v"))
        return f"{record} in (select {value} from {name} v)"

    def close(self) -> None:
        """Drop the tables of accepted values; close the connection if it was opened here."""
        for name in self._registered:
            self.source.db.unregister(name)
        self._registered.clear()
        if self._owned:
            self.source.close()


def unavailable(measure: Measure, data: ReleaseData) -> str | None:
    """Why this release cannot compute `measure` (one clause), or None if it can."""
    info = data.manifest["tables"].get(measure.table)
    if info is None:
        return f"this release has no {measure.table} table"
    missing = [c for c in measure.columns() if c != "fiscal_year" and c not in info["columns"]]
    if missing:
        return f"the {measure.table} table of this release has no {', '.join(missing)} column"
    if measure.charge_filters() and not measure.charge_columns(info["columns"]):
        return f"the {measure.table} table of this release has no {' or '.join(CONVICTION_COLUMNS)} column"
    years = sorted(int(y) for y in info["rows_by_fiscal_year"])
    span = (f"FY{years[0]}–FY{years[-1]}" if len(years) > 1 else f"FY{years[0]}") if years else "no fiscal year"
    partial = partial_years(data.manifest, measure.table)
    for fy in measure.filters.get("fiscal_year", []):
        if fy not in years:
            return f"the {measure.table} table covers {span}, not FY{fy}"
        if fy in partial:
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


def _folded(value: object) -> str:
    return " ".join(str(value).split()).lower()


def _date_literal(day: dt.date) -> str:
    return f"date '{day.isoformat()}'"


def filter_condition(measure: Measure, filters: dict, data: ReleaseData) -> str:
    """The records of the measure's table that pass every filter (see the module docstring), as a SQL
    condition on a record `r`."""
    table = measure.table
    parts = []
    for name, value in filters.items():
        if name == "fiscal_year":
            parts.append(f"r.fiscal_year in ({', '.join(str(int(year)) for year in value)})")
        elif name == "date_range":
            parts.append(f"r.{sql_name(value['column'])} between {_date_literal(value['from'])} "
                         f"and {_date_literal(value['to'])}")
        elif name == "facility":
            parts.append(data.passing(table, ("facility", "state"), at_facility(value)))
        elif name == "charge":
            parts.append(charge_condition(data, table, value))
        else:
            parts.append(data.passing(table, (FILTER_COLUMNS[name],), value_rule(name, value)))
    return " and ".join(f"({part})" for part in parts) or "true"


def _state_is(state: str) -> Callable[[object], bool]:
    return lambda value: str(value).strip().upper() == state


def at_facility(facilities: tuple[Facility, ...]) -> Rule:
    """Records at any of `facilities`: a spelling its patterns match, in its state."""
    def accepts(spelling: object, state: object) -> bool:
        return spelling is not None and state is not None and any(
            facility.matches(spelling) and _state_is(facility.state)(state) for facility in facilities)

    return lambda combinations: [accepts(*combination) for combination in combinations]


def charge_condition(data: ReleaseData, table: str, charge: ChargeFilter) -> str:
    """Records whose most serious conviction, or (with `pending`) pending charge, is in the categories."""
    conditions = [_category_condition(data, table, CONVICTION_COLUMNS, charge)]
    if charge.pending:
        conditions.append(_category_condition(data, table, PENDING_COLUMNS, charge))
    return " or ".join(f"({condition})" for condition in conditions if condition != "false") or "false"


def _category_condition(data: ReleaseData, table: str, columns: tuple[str, str], charge: ChargeFilter) -> str:
    present = tuple(c for c in columns if c in data.manifest["tables"][table]["columns"])
    if not present:
        return "false"

    def in_categories(combinations: list[Row]) -> list[bool]:
        found = [dict(zip(present, combination, strict=True)) for combination in combinations]
        text, code = (pd.Series([values.get(c) for values in found], dtype=object) for c in columns)
        return convictions.categorise(text, code, charge.rules).isin(charge.categories).tolist()

    return data.passing(table, present, in_categories)


def value_rule(name: str, value: list[str] | str) -> Rule:
    """Which values of the filtered column pass a text-valued filter; a missing lift reason (a detainer
    still open) passes `lift_reason_bucket: still_open`, any other missing value passes nothing."""
    test = value_test(name, value)
    missing = name == "lift_reason_bucket" and "still_open" in value
    return lambda combinations: [missing if v is None else test(v) for (v,) in combinations]


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
    return compute_measure(measure, data).value


def compute_measure(measure: Measure, data: ReleaseData) -> Computed:
    """The measure's value in the release, with what it rests on (fields, proxies, facility spellings)."""
    present = data.manifest["tables"][measure.table]["columns"]
    where = filter_condition(measure, measure.filters, data)
    counted = filter_condition(measure, measure.numerator, data)
    notes = charge_notes(measure, present)
    matches = []
    if facilities := measure.facilities():
        scope = f"({where}) and ({counted})" if "facility" in measure.numerator else where
        matches = facility_matches(data, measure.table, facilities, scope)
        if not any(m.spellings for m in matches):
            names = _list([f.name for f in facilities])
            return Computed(None, matches=matches, why=f"{NO_FACILITY} {names} (data/reference/facilities.csv)")
    if measure.unit is not None:
        return distinct_value(data, measure, where, counted, Computed(None, notes, matches))
    [(count, part)] = data.rows(f"select count(*), count(*) filter (where {counted}) "
                                f"from {data.view(measure.table)} where {where}")
    if measure.statistic == "share":
        return Computed(part / count if count else None, notes, matches)
    if measure.statistic == "per_month":
        dates = measure.date_filter()
        assert dates is not None
        return Computed(count / months_in(dates[1], dates[2]), notes, matches)
    return Computed(count, notes, matches)


def _state_of(value: object) -> str:
    return str(value).strip().upper()


def _one_of_the_50(value: object) -> str | None:
    code = _state_of(value)
    return code if code in STATES and code != "DC" else None


def unit_key(measure: Measure, values: Row) -> object | None:
    """The unit of a record with these values of the unit's columns (None where it has none): a state
    among the 50, or a place (facility or city, folded) with its state. People are counted in DuckDB."""
    if measure.unit == "states":
        return None if values[0] is None else _one_of_the_50(values[0])
    place, state = values
    name = None if place is None else fold(place) or None
    return None if name is None else (name, None if state is None else _state_of(state))


def people_counts(data: ReleaseData, measure: Measure, where: str, counted: str) -> tuple[int, int, int, int]:
    """Distinct people among the records that pass `where`, and among those that also pass `counted`;
    the records, and those without an identifier. A person is an anonymized identifier without
    WHITESPACE at either end: a release holds millions of them, so DuckDB counts them."""
    person = f"nullif(trim(cast(r.{sql_name('anonymized_identifier')} as varchar), ?), '')"
    [found] = data.rows(
        "select count(distinct person), count(distinct person) filter (where counted), count(*), "
        f"count(*) filter (where person is null) from (select {person} as person, ({counted}) as counted "
        f"from {data.view(measure.table)} where {where})", [WHITESPACE])
    return found


def unit_counts(data: ReleaseData, measure: Measure, where: str, counted: str) -> tuple[int, int, int, int]:
    """Like `people_counts`, for states, facilities and jurisdictions: the records are counted by DuckDB
    per distinct combination of the unit's columns, and `unit_key` is applied to each combination."""
    names = ", ".join(f"r.{sql_name(c)}" for c in measure.unit_columns())
    groups = data.rows(f"select {names}, count(*), count(*) filter (where {counted}) "
                       f"from {data.view(measure.table)} where {where} group by {names}")
    whole, part, records, lacking = set(), set(), 0, 0
    for *values, in_whole, in_part in groups:
        key = unit_key(measure, tuple(values))
        records += in_whole
        if key is None:
            lacking += in_whole
            continue
        whole.add(key)
        if in_part:
            part.add(key)
    return len(whole), len(part), records, lacking


def distinct_value(data: ReleaseData, measure: Measure, where: str, counted: str, computed: Computed) -> Computed:
    """Distinct units of the records counted; for a share, of the numerator's among the filters'."""
    counts = people_counts if measure.unit == "people" else unit_counts
    whole, part, records, lacking = counts(data, measure, where, counted)
    if records and lacking == records:  # e.g. identifiers redacted in every record: no count, not a zero
        return replace(computed, why=f"the {lacking:,} records counted have no {unit_lack(measure)}")
    notes = computed.notes + unit_notes(measure)
    if lacking:
        notes.append(f"{lacking:,} of the {records:,} records counted have no {unit_lack(measure)} "
                     "and are left out")
    if measure.statistic != "share":
        return replace(computed, value=whole, notes=notes)
    return replace(computed, value=part / whole if whole else None, notes=notes)


def unit_words(measure: Measure) -> str:
    if measure.unit == "jurisdictions" and measure.proxy:
        return PROXIES[measure.proxy][1]
    return UNITS[measure.unit or "people"][1]


def unit_lack(measure: Measure) -> str:
    if measure.unit == "jurisdictions" and measure.proxy:
        return PROXIES[measure.proxy][2]
    return UNITS[measure.unit or "people"][2]


def unit_notes(measure: Measure) -> list[str]:
    if measure.unit == "facilities" or (measure.unit == "jurisdictions" and measure.proxy == "facility"):
        return [FACILITY_PROXY_NOTE]
    if measure.unit == "jurisdictions" and measure.proxy == "city":
        return [CITY_PROXY_NOTE]
    return []


def charge_notes(measure: Measure, present: set[str] | dict) -> list[str]:
    """Which fields the charge filters read, and what a release without pending charges misses."""
    notes = []
    for charge in measure.charge_filters():
        categories = _list(list(charge.categories))
        used = [c for c in CONVICTION_COLUMNS if c in present]
        notes.append(f"charge category {categories} read from the most serious conviction ({', '.join(used)})")
        if not charge.pending:
            continue
        pending = [c for c in PENDING_COLUMNS if c in present]
        if pending:
            notes.append(f"and from pending charges ({', '.join(pending)})")
        else:
            notes.append(f"this release has no pending-charge field ({' or '.join(PENDING_COLUMNS)}), so records with "
                         f"a {categories} charge still pending but no such conviction are missed: an undercount")
    return notes


def facility_matches(data: ReleaseData, table: str, facilities: tuple[Facility, ...], scope: str) -> list[FacilityMatch]:
    """For each named facility: every spelling of the release it matched (in its state), with the records
    passing `scope` under that spelling, and the patterns that matched nothing."""
    places = [(spelling, state) for spelling, state in data.combinations(table, ("facility", "state"))
              if spelling is not None]
    hits = {facility.name: {(spelling, state): {p.pattern for p in facility.patterns if p.fullmatch(fold(spelling))}
                            for spelling, state in places if _state_is(facility.state)(state)}
            for facility in facilities}
    matched = {place for found in hits.values() for place, patterns in found.items() if patterns}
    within = data.passing(table, ("facility", "state"), lambda combinations: [c in matched for c in combinations])
    place = ", ".join(f"r.{sql_name(c)}" for c in ("facility", "state"))
    records = {(spelling, state): n for spelling, state, n in data.rows(
        f"select {place}, count(*) from {data.view(table)} where ({scope}) and ({within}) group by {place}")}
    found = []
    for facility in facilities:
        spellings: dict[str, int] = {}
        used: set[str] = set()
        for (spelling, state), patterns in hits[facility.name].items():
            if patterns:
                used |= patterns
                spellings[str(spelling)] = spellings.get(str(spelling), 0) + records.get((spelling, state), 0)
        ordered = tuple(sorted(spellings.items(), key=lambda item: (-item[1], item[0])))
        unmatched = tuple(p.pattern for p in facility.patterns if p.pattern not in used)
        found.append(FacilityMatch(facility.name, ordered, unmatched))
    return found


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
        computed = compute_measure(claim.measure, data)
        if computed.why is not None:
            return ClaimResult(claim, CANNOT, definition=definition, reason=computed.why, matches=computed.matches)
        if computed.value is None:
            return ClaimResult(claim, CANNOT, definition=definition, reason="no record of this release passes the filters")
        verdict = REPRODUCED if agrees(claim, computed.value) else DIFFERS
        return ClaimResult(claim, verdict, computed.value, definition, notes=computed.notes, matches=computed.matches)
    if claim.related is not None and unavailable(claim.related, data) is None:
        value = compute(claim.related, data)
        if value is not None:
            return ClaimResult(claim, DIFFERENT_MEASURE, value, describe(claim.related), reason=why)
    return ClaimResult(claim, CANNOT, definition=definition, reason=why)


def check_claims(release: str | Release, claims: list[Claim] | None = None) -> list[ClaimResult]:
    """Every claim (default: `load_claims()`) checked against the whole release. `release` is an id, or
    an open Release (a report's: its connection is used, and its scope does not limit the claims)."""
    data = ReleaseData(release)
    try:
        return [evaluate(claim, data) for claim in (load_claims() if claims is None else claims)]
    finally:
        data.close()


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
        elif name == "facility":
            words.append("facility " + _list([f"{f.name} ({f.state})" for f in value]))
        elif name == "charge":
            fields = "most serious conviction or pending charge" if value.pending else "most serious conviction"
            words.append(f"{fields} {_list(list(value.categories))}")
        else:
            label = "processing disposition" if name == "disposition" else "apprehension method"
            words.append(f"{label} {_list(value)}")
    return words


def describe(measure: Measure) -> str:
    """The measure in words, as the report prints it beside the value."""
    what = measure.label or f"{measure.table} records"
    scope = ", ".join(describe_filters(measure.filters))
    if measure.unit is not None and measure.statistic == "share":
        return (f"share of {unit_words(measure)} with {what} ({scope}) that have at least one with "
                f"{', '.join(describe_filters(measure.numerator))}")
    if measure.unit is not None:
        return f"distinct {unit_words(measure)} among {what} ({scope})"
    if measure.statistic == "share":
        return f"share of {what} ({scope}) with {', '.join(describe_filters(measure.numerator))}"
    if measure.statistic == "per_month":
        dates = measure.date_filter()
        assert dates is not None
        return f"{what} ({scope}) per calendar month, over {months_in(dates[1], dates[2])} months"
    return f"{what} ({scope})"


def format_value(value: float | None, statistic: str, min_cell: int = 1) -> str:
    """A value as the report shows it; counts below `min_cell` (but above zero) as `<min_cell`."""
    if value is None or pd.isna(value) or statistic == "share":
        return words.percent(value, 1)
    if words.is_small(value, min_cell):  # the value itself: a monthly average below one is small too
        return words.small_label(min_cell)
    text = words.count(value)
    return f"{text} a month" if statistic == "per_month" else text


def _gap_words(result: ClaimResult, min_cell: int) -> str:
    claim, gap = result.claim, result.gap
    assert gap is not None and result.value is not None
    if claim.statistic == "share":
        return f"{abs(100 * gap):.1f} percentage points {'higher' if gap > 0 else 'lower'}"
    relative = f" ({100 * gap / claim.published:+.1f}%)" if claim.published else ""
    if words.is_small(result.value, min_cell):
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
    if result.verdict == CANNOT and (claim.measure is None or result.reason.startswith(NO_FACILITY)):
        return f"cannot be checked: {result.reason}"
    if result.verdict == CANNOT:
        return f"cannot be checked with this release: {result.reason}"
    text = _verdict_words(result, min_cell)
    return f"{text}; {'; '.join(result.notes)}" if result.notes else text


def _verdict_words(result: ClaimResult, min_cell: int) -> str:
    claim = result.claim
    if result.verdict == REPRODUCED:
        return {"exact": "reproduced exactly", "at_least": "reproduced (at least the published value)",
                "approximately": f"reproduced (within {tolerance_text(claim)})"}[claim.comparison]
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
            "Matched spellings": spellings_text(result, min_cell) or "–",
            "verdict": result.verdict,
            "file": claim.file,
        })
    return pd.DataFrame(rows)


def spellings_text(result: ClaimResult, min_cell: int = 1) -> str:
    """The spellings of the release each named facility matched, with records counted under each, and the
    patterns that matched nothing: how a reader checks a facility claim. Empty for other claims."""
    if not any(match.spellings for match in result.matches):
        return ""
    parts = []
    for match in result.matches:
        found = "; ".join(f"{spelling} ({format_value(records, 'count', min_cell)})" for spelling, records in match.spellings)
        text = f"{match.facility}: {found or 'no spelling in this release'}"
        if match.unmatched and match.spellings:
            text += f"; {words.plural(len(match.unmatched), 'pattern')} matching nothing here: " + ", ".join(
                f"'{p}'" for p in match.unmatched)
        parts.append(text)
    return ". ".join(parts)


def has_spellings(frame: pd.DataFrame) -> bool:
    """Whether a results frame holds a facility claim (the report then shows the matched spellings)."""
    return bool((frame["Matched spellings"] != "–").any())


def measure_notes(results: list[ClaimResult]) -> list[str]:
    """Why each related measure used is a different measure, once per distinct note."""
    notes = [r.claim.related.note for r in results if r.verdict == DIFFERENT_MEASURE and r.claim.related]
    return list(dict.fromkeys(n for n in notes if n is not None))


def verdict_counts(results: list[ClaimResult]) -> dict[str, int]:
    return {verdict: sum(r.verdict == verdict for r in results) for verdict in VERDICTS}


def summary_sentence(results: list[ClaimResult], release_id: str, synthetic: bool = False) -> str:
    counts = verdict_counts(results)
    files = len({r.claim.file for r in results})
    text = (f"**{len(results)} published figures** from {files} {words.plural(files, 'source file')} were checked "
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


def units_paragraph(results: list[ClaimResult]) -> str | None:
    """Prose on the checked claims that count distinct units or name facilities, or None if none does."""
    checked = [r.claim.measure for r in results if r.verdict in (REPRODUCED, DIFFERS) and r.claim.measure]
    units = {m.unit for m in checked if m.unit}
    named = any(m.facilities() for m in checked)
    if not units and not named:
        return None
    parts = []
    if units:
        parts.append("Claims about people, facilities, states or jurisdictions count distinct units, not records")
    if "people" in units:
        parts.append("people are told apart by the anonymized identifier, which links one person's detainers "
                     "within this release only, so a person is counted once however many detainers they had")
    if units & {"facilities", "jurisdictions"}:
        parts.append("ICE records the facility a detainer was sent to and its city, not the agency or "
                     "jurisdiction, so a facility or a city (each with its state) stands in for one")
    text = "; ".join(parts) + "." if parts else ""
    if named:
        text += (" Named jails and prisons are found by the patterns in data/reference/facilities.csv, in the "
                 "facility's state; the table lists every spelling of this release each one matched, with the "
                 "records counted under it, so the match can be checked.")
    return text.strip()


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
    columns = ["Id", "Published", "This release", "Verdict", "Matched spellings"]
    for claim_id, published, value, verdict, spellings in frame[columns].itertuples(index=False):
        lines.append(f"{claim_id:<{width}}  {published:>15}  {value:>20}  {verdict}")
        if spellings != "–":
            lines.append(f"{'':<{width}}  matched: {spellings}")
    counts = verdict_counts(results)
    lines += ["", ", ".join(f"{n} {verdict}" for verdict, n in counts.items())]
    lines += [f"different measure: {note}" for note in measure_notes(results)]
    return "\n".join(lines)


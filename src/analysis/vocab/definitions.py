"""The definitions a report names: outcome buckets of detainer lift reasons, the two
definitions of a declined detainer, an encounter that ended in a detainer, fiscal years,
criminality categories.

Sources: ../shared/DOMAIN.md (ICE's lift-reason values; the strict and broad definitions,
the broad one being the one used for the Center for Immigration Studies figures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where it is used: ingest reads these tables without it
    import pandas as pd

DECLINED_BY_LEA = "Detainer Declined by LEA"
INSUFFICIENT_NOTICE = "Insufficient Notice to ICE"
EARLY_RELEASE = "Early Release"

DECLINED_DEFINITIONS: dict[str, frozenset[str]] = {
    "strict": frozenset({DECLINED_BY_LEA}),
    "broad": frozenset({DECLINED_BY_LEA, INSUFFICIENT_NOTICE, EARLY_RELEASE}),
}
DECLINED_DESCRIPTIONS = {
    "strict": "lift reason 'Detainer Declined by LEA' only",
    "broad": "lift reason 'Detainer Declined by LEA', 'Insufficient Notice to ICE' or 'Early Release' "
    "(the definition behind the Center for Immigration Studies figures)",
}

# Outcome buckets, in the order reports show them.
BUCKETS: dict[str, str] = {
    "booked": "Booked into ICE custody",
    "declined": "Declined by the agency",
    "insufficient_notice": "Insufficient notice to ICE",
    "early_release": "Early release",
    "released_other": "Released for other reasons",
    "administrative": "Administrative (closed, duplicate, superseded, not amenable, discretion, citizenship claim)",
    "still_open": "Still open (no lift reason)",
    "unrecognised": "Lift reason not recognised",
}
LIFT_REASON_BUCKET: dict[str, str] = {
    "Booked into Detention": "booked",
    DECLINED_BY_LEA: "declined",
    INSUFFICIENT_NOTICE: "insufficient_notice",
    EARLY_RELEASE: "early_release",
    "No longer in State, Local, or Federal Custody": "released_other",
    "ICE Temporary Resource Constraint": "released_other",
    "Case Closed": "administrative",
    "Duplicate": "administrative",
    "Superseding - New Form Issued": "administrative",
    "Not Amenable to Removal": "administrative",
    "Prosecutorial Discretion": "administrative",
    "USC or Presumptive Claim to US Citizenship": "administrative",
}

CRIMINALITY_LABELS = {
    "1 Convicted Criminal": "Convicted criminal",
    "2 Pending Criminal Charges": "Pending criminal charges",
    "3 Other Immigration Violator": "Other immigration violator",
}

# The processing disposition of an encounter that ended in a detainer (see `ends_in_detainer`).
DETAINER_DISPOSITION = "Detainer"

FISCAL_YEAR_DEFINITION = "Federal fiscal years run 1 October to 30 September: FY2023 = 1 October 2022 to 30 September 2023."


def _normalise(reason: object) -> str | None:
    import pandas as pd

    if reason is None or (isinstance(reason, float) and pd.isna(reason)) or reason is pd.NA:
        return None
    text = " ".join(str(reason).split())
    return text or None


def _per_distinct(values: pd.Series, rule) -> pd.Series:
    """Apply `rule` to each distinct value once and map the answers back (fast on millions of rows)."""
    import pandas as pd

    distinct = values.drop_duplicates()
    answers = {value: rule(value) for value in distinct if not pd.isna(value)}
    missing_answer = rule(None)
    return values.map(answers).where(values.notna(), missing_answer)


def lift_bucket(reasons: pd.Series) -> pd.Series:
    """Outcome bucket of each lift reason; missing means still open; unknown values are kept
    visible as `unrecognised` rather than dropped."""
    folded = {k.lower(): v for k, v in LIFT_REASON_BUCKET.items()}

    def bucket(reason: object) -> str:
        text = _normalise(reason)
        if text is None:
            return "still_open"
        return folded.get(text.lower(), "unrecognised")

    return _per_distinct(reasons, bucket).astype("string")


def is_declined(reasons: pd.Series, definition: str) -> pd.Series:
    """True where a detainer counts as declined under `definition` ('strict' or 'broad')."""
    if definition not in DECLINED_DEFINITIONS:
        raise ValueError(f"unknown declined definition {definition!r}: 'strict' or 'broad'")
    wanted = {r.lower() for r in DECLINED_DEFINITIONS[definition]}
    return _per_distinct(reasons, lambda r: (_normalise(r) or "").lower() in wanted).astype(bool)


def is_detainer_disposition(disposition: object) -> bool:
    """True for the processing disposition `Detainer`, however a release spells its case and
    spacing (`DETAINER`, ` Detainer `)."""
    return (_normalise(disposition) or "").casefold() == DETAINER_DISPOSITION.casefold()


def ends_in_detainer(dispositions: pd.Series) -> pd.Series:
    """True where an encounter's processing disposition says it ended in a detainer."""
    return _per_distinct(dispositions, is_detainer_disposition).astype(bool)

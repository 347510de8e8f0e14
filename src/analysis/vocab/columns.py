"""Canonical column names, and the one alias map for names that drift between releases.

Every header cell is normalised (case, punctuation and spacing folded) and looked up here;
names not in the map become plain snake_case, so a new column is kept, not lost.
"""

from __future__ import annotations

import re

# canonical name -> spellings seen in ICE releases (see ../shared/DOMAIN.md)
ALIASES: dict[str, tuple[str, ...]] = {
    "detainer_prepare_date": ("Detainer Prepare Date", "Detainer Prepared Date", "Prepare Date"),
    "detainer_lift_date": ("Detainer Lift Date", "Lift Date", "Detainer Lifted Date"),
    "detainer_lift_reason": ("Detainer Lift Reason", "Lift Reason"),
    "detainer_type": ("Detainer Type",),
    "aor": (
        "Area of Responsibility",
        "Area Of Responsibility",
        "Detainer AOR",
        "Facility AOR",
        "AOR",
        "Event Area of Responsibility",
        "Apprehension AOR",
    ),
    "state": ("Facility State", "State", "Detainer Facility State"),
    "city": ("Facility City", "City", "Detainer Facility City"),
    "facility": ("Detainer Facility", "Detention Facility", "Facility", "Facility Name"),
    "facility_code": ("Detainer Facility Code", "Detention Facility Code", "Facility Code"),
    "criminality": ("Detainer Criminality", "Detainer Prepared Criminality", "Criminality"),
    "threat_level": ("Detainer Threat Level", "Detainer Prepared Threat Level", "Threat Level"),
    "msc_charge": (
        "MSC Charge", "Most Serious Conviction Charge", "Most Serious Conviction (MSC) Charge", "Most Serious Conviction",
    ),
    "msc_charge_code": ("MSC Charge Code", "Most Serious Conviction Charge Code"),
    "msc_sentence_days": ("MSC Sentence Days", "Sentence Days"),
    "current_program": ("TOA Current Program", "TOD Final Program"),
    # identifiers (see IDENTIFIER_COLUMNS): every spelling ICE uses, and the obvious variants
    "anonymized_identifier": ("Anonymized Identifier", "Anonymized Unique Identifier", "Unique Identifier",
                              "Anonymized ID", "Anonymized Unique ID", "Unique ID"),
    "eid_subject_id": ("EID Subject ID", "Subject ID", "EID Subject Identifier", "Subject Identifier"),
    "eid_case_id": ("EID Case ID", "Case ID", "EID Case Identifier", "Case Identifier", "Case Number"),
    "alien_file_number": ("Alien File Number", "A-Number", "A Number", "A-File Number", "A File Number",
                          "Alien Number", "Alien Registration Number"),
    "event_number": ("Event Number", "Event No", "Event ID", "EID Event Number"),
    "osc_served": ("Osc Served Yes No", "Order to Show Cause Served Yes No"),
    "citizenship": ("Citizenship", "Citizenship Country", "Country of Citizenship"),
    "gender": ("Gender", "Sex"),
    "birth_year": ("Birth Year", "Year of Birth"),
    "birth_date": ("Birth Date", "Date of Birth"),
    "case_status": ("Case Status",),
    "case_category": ("Case Category",),
    "apprehension_date": ("Apprehension Date", "Arrest Date"),
    "apprehension_method": ("Apprehension Method", "Arrest Method"),
    "apprehension_landmark": ("Apprehension Landmark", "Arrest Landmark"),
    "event_date": ("Event Date", "Encounter Date"),
    "landmark": ("Landmark", "Event Landmark"),
    "operation": ("Operation",),
    "processing_disposition": ("Processing Disposition",),
    "processing_disposition_code": ("Processing Disposition Code",),
    "rc_threat_level": ("RC Threat Level",),
    "final_charge_section": ("Final Charge Section",),
    "departed_date": ("Departed Date", "Departure Date"),
    "removal_date": ("Removal Date",),
    "book_in_date": ("Book In Date", "Book-In Date", "Initial Book In Date"),
}

# Columns parsed as dates (besides any canonical name ending in `_date`).
DATE_SUFFIX = "_date"
INTEGER_COLUMNS = frozenset({"birth_year", "msc_sentence_days"})

PROVENANCE_COLUMNS = ("fiscal_year", "source_file", "source_sheet", "source_row", "row_hash")
# A combined release's tables carry one more: the production each record came from (reading/combine.py).
PRODUCTION_COLUMN = "source_production"
NON_DATA_COLUMNS = frozenset({*PROVENANCE_COLUMNS, PRODUCTION_COLUMN})

# Identifiers link or name one person, case or event: kept in the processed data for analysis
# inside the project (repeat detainers), never shown, exported or printed. Recognised by name
# (these canonical names, and any name ending in id/identifier/number, repeats `_2` included)
# and by shape (`looks_like_identifiers`, applied at ingest and recorded in the manifest).
IDENTIFIER_COLUMNS = frozenset({"anonymized_identifier", "eid_subject_id", "eid_case_id", "alien_file_number",
                                "event_number"})
_IDENTIFIER_NAME = re.compile(r"identifier|(^|_)(id|ids|number|num|nbr)(_\d+)?$")
_ID_CODE = re.compile(r"^(?=(?:\D*\d){3})[A-Za-z0-9][A-Za-z0-9_#-]{4,23}$")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
ID_MIN_DISTINCT = 100  # fewer distinct values than this is a category, whatever they look like
ID_MIN_DISTINCT_SHARE = 0.5  # of the non-missing values examined
ID_MIN_CODE_SHARE = 0.95  # of the distinct values, shaped like a code


def is_identifier(canonical: str) -> bool:
    """Whether a column's name says it holds identifiers (their values never appear in any output)."""
    return re.sub(r"_\d+$", "", canonical) in IDENTIFIER_COLUMNS or bool(_IDENTIFIER_NAME.search(canonical))


def looks_like_identifiers(values: list[str]) -> bool:
    """Whether text values (non-missing, as read) are ID codes: many distinct values, nearly all
    single tokens of 5 to 24 letters, digits and dashes holding at least three digits, not dates.
    Jail names, charge sections, codes of a few hundred facilities and dates are not."""
    distinct = set(values)
    if len(distinct) < ID_MIN_DISTINCT or len(distinct) < ID_MIN_DISTINCT_SHARE * len(values):
        return False
    codes = sum(1 for v in distinct if _ID_CODE.match(v) and not _DATE_LIKE.match(v))
    return codes >= ID_MIN_CODE_SHARE * len(distinct)


def normalize_header(name: str) -> str:
    """Fold a header cell to a lookup key: lower case, letters and digits only, single spaces."""
    text = re.sub(r"[^0-9a-z]+", " ", str(name).lower())
    return " ".join(text.split())


_LOOKUP: dict[str, str] = {
    normalize_header(spelling): canonical for canonical, spellings in ALIASES.items() for spelling in spellings
}


def canonical_name(header: str) -> str:
    """The canonical snake_case name for a raw header cell."""
    key = normalize_header(header)
    if key in _LOOKUP:
        return _LOOKUP[key]
    return key.replace(" ", "_") or "unnamed"


def is_known_header(header: str) -> bool:
    return normalize_header(header) in _LOOKUP


def is_date_column(canonical: str) -> bool:
    return canonical.endswith(DATE_SUFFIX)


def canonical_columns(headers: list[str]) -> list[str]:
    """Canonical names for a header row; blank cells become `unnamed_<n>` and repeats get `_2`, `_3`."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        name = canonical_name(header) if str(header).strip() else f"unnamed_{position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


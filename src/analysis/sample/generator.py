"""`analysis sample`: a deterministic synthetic release in the raw layout ICE sends.

Everything here is invented. Banner rows, file names, facility names and identifiers say
SYNTHETIC, so a page made from it cannot be mistaken for real data. The generator also
writes `truth.json`: the aggregates it planted, computed from its own records (not by the
package's reader), so tests can check that ingest and metrics recover them exactly.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml

from analysis.errors import ReleaseError
from analysis.progress import Progress
from analysis.vocab.geography import STATES, aor_label

DEFAULT_ROWS = 12_000
DEFAULT_SEED = 20_261_121
SAMPLE_ID = "sample"
FISCAL_YEARS = (2021, 2022, 2023, 2024, 2025)
AS_OF = dt.date(2025, 3, 31)  # FY2025 is a partial year: 1 Oct 2024 to 31 Mar 2025
XLSX_MAX_ROWS = 250_000  # above this, sheets are written as pipe-delimited text like the real exports
FOIA_NUMBER = "2026-ICFO-99999"
FIXED_TIME = dt.datetime(2025, 4, 1)  # workbook "created" property, for byte-identical files
STRICT = ("Detainer Declined by LEA",)
BROAD = ("Detainer Declined by LEA", "Insufficient Notice to ICE", "Early Release")

LIFT_REASONS = {  # share of lifted detainers, before state-specific declines are added
    "Booked into Detention": 0.62,
    "Detainer Declined by LEA": 0.04,
    "Insufficient Notice to ICE": 0.03,
    "Early Release": 0.015,
    "Case Closed": 0.04,
    "Duplicate": 0.03,
    "ICE Temporary Resource Constraint": 0.01,
    "No longer in State, Local, or Federal Custody": 0.05,
    "Not Amenable to Removal": 0.015,
    "Prosecutorial Discretion": 0.03,
    "Superseding - New Form Issued": 0.06,
    "USC or Presumptive Claim to US Citizenship": 0.005,
}
# Extra chance that a detainer in these states is declined (the pattern debated publicly).
DECLINING_STATES = {"CA": 0.30, "IL": 0.25, "NY": 0.18, "WA": 0.15, "OR": 0.15, "NJ": 0.12, "CO": 0.10, "DC": 0.2}
STATE_WEIGHT = {"CA": 14, "TX": 16, "FL": 8, "NY": 5, "IL": 4, "GA": 4, "AZ": 4, "NC": 3, "NJ": 3, "WA": 2.5}
CRIMINALITY = {"1 Convicted Criminal": 0.5, "2 Pending Criminal Charges": 0.3, "3 Other Immigration Violator": 0.2}
# (charge, NCIC-style code) of most serious convictions
MSC_CHARGES = (
    ("Homicide-Willful Kill-Non-Family-Gun", "0911"),
    ("Assault", "1399"),
    ("Aggravated Assault - Weapon", "1315"),
    ("Robbery", "1299"),
    ("Sexual Assault", "1199"),
    ("Burglary", "2299"),
    ("Larceny", "2399"),
    ("Dangerous Drugs", "3599"),
    ("Weapon Offense", "5299"),
    ("Driving Under Influence Liquor", "5404"),
    ("Traffic Offense", "5499"),
    ("Fraudulent Activities", "2699"),
    ("Illegal Entry (INA SEC.101(a)(43)(O), 8USC1325)", "0399"),
    ("Obstructing Police", "4899"),
)
MSC_WEIGHTS = (0.01, 0.12, 0.05, 0.03, 0.03, 0.05, 0.08, 0.14, 0.04, 0.16, 0.14, 0.04, 0.08, 0.03)
COUNTRIES = {"MEXICO": 0.5, "GUATEMALA": 0.15, "HONDURAS": 0.12, "EL SALVADOR": 0.08, "CUBA": 0.03,
             "DOMINICAN REPUBLIC": 0.03, "VENEZUELA": 0.03, "COLOMBIA": 0.02, "ECUADOR": 0.02, "INDIA": 0.02}
DETAINER_TYPES = {"Immigration Detainer - Notice of Action (I-247A)": 0.85,
                  "Request for Voluntary Notification of Release (I-247N)": 0.1,
                  "Request for Voluntary Transfer (I-247X)": 0.05}
JAIL_METHODS = {"CAP Local Incarceration": 0.7, "CAP State Incarceration": 0.15, "287(g) Program": 0.12,
                "CAP Federal Incarceration": 0.03}
OTHER_METHODS = {"Non-Custodial Arrest": 0.5, "Located": 0.3, "Probation and Parole": 0.2}
THREAT_LEVELS = {"Level 1": 0.3, "Level 2": 0.3, "Level 3": 0.4}
DETAINER_GENDERS = {"Male": 0.88, "Female": 0.12}
ARREST_GENDERS = {"Male": 0.85, "Female": 0.15}
CASE_CATEGORIES = {"[8C] Excludable / Inadmissible - Administrative Final Order Issued": 0.3,
                   "[16] Reinstated Final Order": 0.3,
                   "[3] Deportable - Under Adjudication by IJ": 0.4}
DISPOSITIONS = {"Notice to Appear Detained": 0.5, "REINSTATEMENT OF DEPORT ORDER I-871": 0.3,
                "Final Order of Removal": 0.2}
FY_WEIGHTS = (0.19, 0.2, 0.21, 0.25, 0.15)
REDACTION_SPELLINGS = ("(B)(6);(B)(7)(C) ", "(b)(6),(b)(7)(c )", "b(6), b(7)c", "b(6), b(7)C")
EXEMPTION_7E = "(b)(7)(E )"
STREET_LANDMARK = "SYNTHETIC GENERAL AREA, NON-SPECIFIC"


@dataclass(frozen=True)
class SampleSpec:
    rows: int = DEFAULT_ROWS
    seed: int = DEFAULT_SEED


def _choice(rng: np.random.Generator, options: dict[str, float] | tuple, size: int, p=None) -> np.ndarray:
    keys = list(options) if isinstance(options, dict) else list(options)
    weights = np.array(list(options.values()) if isinstance(options, dict) else p, dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def _fy_bounds(fy: int) -> tuple[dt.date, dt.date]:
    return dt.date(fy - 1, 10, 1), min(dt.date(fy, 9, 30), AS_OF)


def _facilities() -> pd.DataFrame:
    """Two to four invented facilities per state and DC."""
    rows = []
    for code, (_name, aors, _, _) in STATES.items():
        count = 2 + (sum(map(ord, code)) % 3)
        for k in range(1, count + 1):
            rows.append({
                "state": code,
                "facility": f"Synthetic County Facility {code}-{k:02d}",
                "facility_code": f"SYN{code}{k:02d}",
                "city": f"Sampletown {code}-{k}",
                "aor": aor_label(aors[(k - 1) % len(aors)]),
            })
    return pd.DataFrame(rows)


def generate_detainers(spec: SampleSpec) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    n = spec.rows
    facilities = _facilities()
    fy_weights = np.array(FY_WEIGHTS)
    fy = np.array(FISCAL_YEARS)[np.sort(rng.choice(len(FISCAL_YEARS), size=n, p=fy_weights))]
    starts = np.array([np.datetime64(_fy_bounds(y)[0]) for y in fy])
    spans = np.array([(_fy_bounds(y)[1] - _fy_bounds(y)[0]).days + 1 for y in fy])
    prepare = starts + (rng.random(n) * spans).astype("timedelta64[D]")

    n_people = max(1, int(n * 0.72))
    person = rng.integers(0, n_people, size=n)
    states = list(STATES)
    state_w = np.array([STATE_WEIGHT.get(s, 1.0) for s in states])
    person_state = np.array(states, dtype=object)[rng.choice(len(states), size=n_people, p=state_w / state_w.sum())]
    state = person_state[person]
    facility_index = np.empty(n, dtype=int)
    for code, group in facilities.groupby("state").groups.items():
        mask = state == code
        facility_index[mask] = rng.choice(np.array(group), size=int(mask.sum()))
    fac = facilities.iloc[facility_index].reset_index(drop=True)

    lift = _choice(rng, LIFT_REASONS, n)
    declines = np.array([DECLINING_STATES.get(s, 0.0) for s in state])
    lift = np.where(rng.random(n) < declines, "Detainer Declined by LEA", lift)
    days_open = (np.datetime64(AS_OF) - prepare).astype(int)
    still_open = rng.random(n) < np.clip(0.5 - days_open / 400, 0.03, 0.5)
    lift = np.where(still_open, "", lift).astype(object)
    lift_days = np.minimum(rng.exponential(25, n).astype(int), np.maximum(days_open, 0))
    lift_date = np.where(lift == "", np.datetime64("NaT"), prepare + lift_days.astype("timedelta64[D]"))

    criminality = _choice(rng, CRIMINALITY, n)
    convicted = criminality == "1 Convicted Criminal"
    charge_index = rng.choice(len(MSC_CHARGES), size=n, p=np.array(MSC_WEIGHTS) / sum(MSC_WEIGHTS))
    msc_charge = np.where(convicted, np.array([c for c, _ in MSC_CHARGES], dtype=object)[charge_index], "")
    msc_code = np.where(convicted, np.array([k for _, k in MSC_CHARGES], dtype=object)[charge_index], "")
    threat = np.where(convicted, _choice(rng, THREAT_LEVELS, n), "No Threat Level")
    booked = lift == "Booked into Detention"
    method = np.where(booked, _choice(rng, JAIL_METHODS, n), "")
    departed = np.where(booked & (rng.random(n) < 0.7), lift_date + rng.integers(5, 90, n).astype("timedelta64[D]"),
                        np.datetime64("NaT"))
    departed = np.where(departed > np.datetime64(AS_OF), np.datetime64("NaT"), departed)

    frame = pd.DataFrame({
        "fiscal_year": fy,
        "Detainer Prepare Date": prepare.astype("datetime64[D]"),
        "Facility State": state,
        "Facility AOR": fac["aor"].to_numpy(),
        "Facility City": fac["city"].to_numpy(),
        "Detainer Facility": fac["facility"].to_numpy(),
        "Detainer Facility Code": fac["facility_code"].to_numpy(),
        "Detainer Type": _choice(rng, DETAINER_TYPES, n),
        "Detainer Criminality": criminality,
        "Detainer Threat Level": threat,
        "MSC Charge": msc_charge,
        "MSC Charge Code": msc_code,
        "Citizenship Country": _choice(rng, COUNTRIES, n),
        "Gender": _choice(rng, DETAINER_GENDERS, n),
        "Birth Year": rng.integers(1960, 2006, n).astype(str).astype(object),
        "Case Status": np.where(rng.random(n) < 0.6, "ACTIVE", "CLOSED"),
        "Case Category": _choice(rng, CASE_CATEGORIES, n),
        "Apprehension Date": np.where(booked, lift_date, np.datetime64("NaT")),
        "Apprehension Method": method,
        "Departed Date": departed,
        "Detainer Lift Reason": lift,
        "Detainer Lift Date": lift_date,
        "Anonymized Identifier": np.array([f"SYN-{p:07d}" for p in person], dtype=object),
    })
    frame = frame.sort_values(["Detainer Prepare Date", "Anonymized Identifier"], kind="stable").reset_index(drop=True)
    frame = _plant_duplicates(frame, rng)
    _plant_redactions(frame, rng)
    return frame


def _plant_duplicates(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Repeat about 0.3% of records right after themselves, as ICE exports sometimes do."""
    copies = rng.random(len(frame)) < 0.003
    repeated = np.repeat(np.arange(len(frame)), np.where(copies, 2, 1))
    return frame.iloc[repeated].reset_index(drop=True)


def _plant_redactions(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(frame)
    spellings = np.array(REDACTION_SPELLINGS, dtype=object)
    for column, share in (("Birth Year", 0.35), ("Facility City", 0.03), ("Apprehension Method", 0.02)):
        mask = (rng.random(n) < share) & (frame[column].astype(str) != "")
        frame.loc[mask, column] = spellings[rng.integers(0, len(spellings), int(mask.sum()))]
    mask = (rng.random(n) < 0.02) & (frame["MSC Charge"] != "")
    frame.loc[mask, "MSC Charge"] = EXEMPTION_7E


def generate_arrests(detainers: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Arrests: one for each detainer ending in ICE custody, plus arrests made without a detainer."""
    rng = np.random.default_rng(seed + 1)
    booked = detainers[detainers["Detainer Lift Reason"] == "Booked into Detention"]
    booked = booked.drop_duplicates()
    jail = pd.DataFrame({
        "Area of Responsibility": booked["Facility AOR"].to_numpy(),
        "Apprehension Date": booked["Apprehension Date"].to_numpy(),
        "Apprehension Method": np.where(booked["Apprehension Method"].isin(list(JAIL_METHODS)),
                                        booked["Apprehension Method"], "CAP Local Incarceration"),
        "Apprehension Landmark": booked["Detainer Facility"].to_numpy(),
        "Anonymized Identifier": booked["Anonymized Identifier"].to_numpy(),
        "Citizenship": booked["Citizenship Country"].to_numpy(),
        "Gender": booked["Gender"].to_numpy(),
    })
    extra = int(len(jail) * 0.45)
    start = np.datetime64(dt.date(FISCAL_YEARS[0] - 1, 10, 1))
    days = (np.datetime64(AS_OF) - start).astype(int) + 1
    aors = sorted({aor_label(a) for _, aors, _, _ in STATES.values() for a in aors})
    street = pd.DataFrame({
        "Area of Responsibility": np.array(aors, dtype=object)[rng.integers(0, len(aors), extra)],
        "Apprehension Date": start + rng.integers(0, days, extra).astype("timedelta64[D]"),
        "Apprehension Method": _choice(rng, OTHER_METHODS, extra),
        "Apprehension Landmark": STREET_LANDMARK,
        "Anonymized Identifier": np.array([f"SYN-A{p:06d}" for p in rng.integers(0, 10**6, extra)], dtype=object),
        "Citizenship": _choice(rng, COUNTRIES, extra),
        "Gender": _choice(rng, ARREST_GENDERS, extra),
    })
    arrests = pd.concat([jail, street], ignore_index=True)
    arrests["Apprehension Date"] = pd.to_datetime(arrests["Apprehension Date"]).dt.date
    arrests["Operation"] = ""
    arrests["Processing Disposition"] = _choice(rng, DISPOSITIONS, len(arrests))
    arrests = arrests.sort_values(["Apprehension Date", "Anonymized Identifier"], kind="stable").reset_index(drop=True)
    dates = pd.to_datetime(arrests["Apprehension Date"])
    arrests.insert(0, "fiscal_year", dates.dt.year + (dates.dt.month >= 10))
    return arrests[["fiscal_year", "Area of Responsibility", "Apprehension Date", "Apprehension Method",
                    "Apprehension Landmark", "Operation", "Processing Disposition", "Citizenship", "Gender",
                    "Anonymized Identifier"]]


# ------------------------------------------------------------------ what ICE's files look like

DETAINER_BANNERS = (
    "ERO-LESA Statistical Tracking Unit (SYNTHETIC SAMPLE)",
    "SYNTHETIC DATA - invented by the ice-detainer-analysis package, not ICE records",
    f"{FOIA_NUMBER} (SYNTHETIC)",
    "Note: every name, facility and identifier in this workbook is invented.",
    "",
)
ARREST_BANNERS = (
    "ERO-LESA Statistical Tracking Unit (SYNTHETIC SAMPLE)",
    "SYNTHETIC DATA - not ICE records",
    f"{FOIA_NUMBER} (SYNTHETIC)",
    "",
)


def _sheet_columns(fy: int, frame: pd.DataFrame) -> list[str]:
    return _year_columns(fy, [c for c in frame.columns if c != "fiscal_year"])


def _year_columns(fy: int, columns: list[str]) -> list[str]:
    """Columns drift within a release: Birth Year only in older sheets, 2026 spellings in the newest."""
    return [c for c in columns if not (c == "Birth Year" and fy > 2022)]


def _renamed(column: str, fy: int) -> str:
    if fy == FISCAL_YEARS[-1]:
        return {"Detainer Prepare Date": "Detainer Prepared Date",
                "Detainer Criminality": "Detainer Prepared Criminality"}.get(column, column)
    return column


def _date_text(value) -> str:
    if value is None or pd.isna(value):
        return ""
    value = pd.Timestamp(value)
    return f"{value.month}/{value.day}/{value.year}"


def _excel_serial(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float((pd.Timestamp(value).date() - dt.date(1899, 12, 30)).days)


def _write_workbook(path: Path, sheets: list[tuple[str, tuple[str, ...], str, list[str], pd.DataFrame, str]],
                    summary: list[tuple[str, int]] | None) -> None:
    """sheets: (sheet name, banners, title, headers, records, date style: datetime|text|serial)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False})
    book.set_properties({"title": "SYNTHETIC sample release", "author": "ice-detainer-analysis",
                         "created": FIXED_TIME})
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": "m/d/yyyy"})
    for name, banners, title, headers, records, date_style in sheets:
        sheet = book.add_worksheet(name)
        row = 0
        for text in (*banners, title):
            if text:
                sheet.write_string(row, 0, text, bold)
            row += 1
        for col, header in enumerate(headers):
            sheet.write_string(row, col, header, bold)
        source_columns = list(records.columns)
        date_columns = {i for i, c in enumerate(source_columns) if c.endswith("Date")}
        for values in records.itertuples(index=False, name=None):
            row += 1
            for col, value in enumerate(values):
                if col in date_columns:
                    if value is None or pd.isna(value):
                        continue
                    if date_style == "datetime":
                        sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), date_format)
                    elif date_style == "serial":
                        sheet.write_number(row, col, _excel_serial(value))
                    else:
                        sheet.write_string(row, col, _date_text(value))
                elif value is not None and value != "":
                    sheet.write_string(row, col, str(value))
    if summary is not None:
        sheet = book.add_worksheet("Summary")
        sheet.write_string(0, 0, "SYNTHETIC Detainers prepared by fiscal year", bold)
        sheet.write_string(2, 0, "Fiscal Year", bold)
        sheet.write_string(2, 1, "Detainers", bold)
        for i, (fy_name, count) in enumerate(summary, start=3):
            sheet.write_string(i, 0, fy_name)
            sheet.write_formula(i, 1, f"=COUNTA('{fy_name}'!A:A)-7", None, count)
        notes = book.add_worksheet("Footnotes")
        for i, text in enumerate((
            "SYNTHETIC sample: invented records in the layout of ICE ERO-LESA detainer releases.",
            "Redacted cells carry FOIA exemption markers such as (b)(6), (b)(7)(C).",
            f"Data as of {AS_OF.month}/{AS_OF.day}/{AS_OF.year}; FY{FISCAL_YEARS[-1]} is a partial year.",
        )):
            notes.write_string(i, 0, text)
    book.close()


def truth_header(spec: SampleSpec) -> dict:
    """What every truth.json starts with, whatever the sample's size."""
    return {
        "release": SAMPLE_ID,
        "synthetic": True,
        "seed": spec.seed,
        "as_of": AS_OF.isoformat(),
        "partial_fiscal_years": [str(FISCAL_YEARS[-1])],
    }


def planted_truth(detainers: pd.DataFrame, arrests: pd.DataFrame, spec: SampleSpec) -> dict:
    """The aggregates the sample holds, from the generator's own records."""
    def by_fy(frame: pd.DataFrame) -> dict[str, int]:
        return {str(k): int(v) for k, v in frame.groupby("fiscal_year").size().sort_index().items()}

    def top(series: pd.Series, k: int = 5) -> list[list]:
        counts = series.value_counts()
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [[name, int(count)] for name, count in ordered]

    lift = detainers["Detainer Lift Reason"]
    markers = REDACTION_SPELLINGS + (EXEMPTION_7E,)
    duplicates = 0
    redacted = dict.fromkeys(("Birth Year", "Facility City", "Apprehension Method", "MSC Charge"), 0)
    for fy in FISCAL_YEARS:  # as written: each sheet has its own columns
        sheet = detainers.loc[detainers["fiscal_year"] == fy, _sheet_columns(fy, detainers)]
        # duplicates as a reader sees them: every redaction marker means the same thing, "missing"
        unredacted = sheet.astype(object).where(~sheet.isin(markers), "")
        duplicates += int(len(sheet) - len(unredacted.drop_duplicates()))
        for column in redacted:
            if column in sheet:
                redacted[column] += int(sheet[column].isin(markers).sum())
    return {
        **truth_header(spec),
        "detainers": {
            "rows": len(detainers),
            "rows_by_fiscal_year": by_fy(detainers),
            "likely_duplicates": duplicates,
            "declined_by_fiscal_year": {
                "strict": by_fy(detainers[lift.isin(STRICT)]),
                "broad": by_fy(detainers[lift.isin(BROAD)]),
            },
            "lift_reasons": {("(blank)" if k == "" else k): int(v) for k, v in sorted(lift.value_counts().items())},
            "top_states": top(detainers["Facility State"]),
            "top_facilities": top(detainers["Detainer Facility"]),
            "states": int(detainers["Facility State"].nunique()),
            "people": int(detainers["Anonymized Identifier"].nunique()),
            "redacted": redacted,
        },
        "arrests": {"rows": len(arrests), "rows_by_fiscal_year": by_fy(arrests)},
    }


def write_sample(out_dir: Path, spec: SampleSpec = SampleSpec(), *, force: bool = False,
                 progress: Progress | None = None) -> dict:
    """Write the sample release into `out_dir` (which must not exist unless `force`)."""
    progress = progress or Progress(quiet=True)
    if spec.rows < 100:
        raise ReleaseError(f"--rows must be at least 100 (got {spec.rows})")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise ReleaseError("already exists; raw releases are never overwritten (use --force to replace a "
                               "generated sample)", file=out_dir)
        if not (out_dir / "truth.json").is_file():
            raise ReleaseError("exists and is not a generated sample; refusing to replace it", file=out_dir)
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if spec.rows > XLSX_MAX_ROWS:
            truth = _write_large(staging, spec, progress)
        else:
            with progress.step(f"sample: generating {spec.rows:,} synthetic detainers (seed {spec.seed})"):
                detainers = generate_detainers(spec)
                arrests = generate_arrests(detainers, spec.seed)
            with progress.step(f"sample: writing files to {out_dir}"):
                _write_workbooks(staging, detainers, arrests)
                truth = planted_truth(detainers, arrests, spec)
        with progress.step(f"sample: writing truth.json, release.yml and README.md to {out_dir}"):
            (staging / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
            config = {"release": out_dir.name if out_dir.name != SAMPLE_ID else SAMPLE_ID, "synthetic": True,
                      "title": "SYNTHETIC sample release (invented records, not ICE data)",
                      "previous_release": None}
            (staging / "release.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            readme = SAMPLE_README.format(rows=truth["detainers"]["rows"], seed=spec.seed)
            (staging / "README.md").write_text(readme, encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return truth


def _write_workbooks(folder: Path, detainers: pd.DataFrame, arrests: pd.DataFrame) -> None:
    date_styles = {2021: "datetime", 2022: "text", 2023: "serial", 2024: "datetime", 2025: "datetime"}
    sheets: list[tuple[str, tuple[str, ...], str, list[str], pd.DataFrame, str]] = []
    for fy in FISCAL_YEARS:
        records = detainers[detainers["fiscal_year"] == fy]
        columns = _sheet_columns(fy, detainers)
        sheets.append((f"FY{fy}", DETAINER_BANNERS, _detainer_title(fy), [_renamed(c, fy) for c in columns],
                       records[columns], date_styles[fy]))
    summary = [(f"FY{fy}", int((detainers["fiscal_year"] == fy).sum())) for fy in FISCAL_YEARS]
    _write_workbook(folder / "SYNTHETIC_Detainers_FY2021-FY2025.xlsx", sheets, summary)
    arrest_columns = [c for c in arrests.columns if c != "fiscal_year"]
    _write_workbook(folder / "SYNTHETIC_Arrests_FY2021-FY2025.xlsx",
                    [("Arrests", ARREST_BANNERS, _arrests_title(), arrest_columns, arrests[arrest_columns], "text")],
                    None)


def _as_of() -> str:
    return f"as of {AS_OF.month}/{AS_OF.day}/{AS_OF.year}"


def _detainer_title(fy: int) -> str:
    return f"SYNTHETIC Detainers Prepared in FY{fy} ({_as_of()})"


def _arrests_title() -> str:
    return f"SYNTHETIC ERO Administrative Arrests FY{FISCAL_YEARS[0]}-FY{FISCAL_YEARS[-1]} ({_as_of()})"


# ------------------------------------------------------------------ large releases: one fiscal year at a time
# Above XLSX_MAX_ROWS the generator never holds the whole release: each fiscal year is drawn from
# its own seeded stream, kept as small integer codes (an index into the text each value stands
# for), written as gzip text in chunks, and folded into the truth.json aggregates.

TEXT_CHUNK_ROWS = 100_000  # records turned into text at a time
TEXT_GZIP_LEVEL = 1  # level 6 took three times as long for files a third smaller
DAY_ZERO = _fy_bounds(FISCAL_YEARS[0])[0]  # dates are codes counting days from here; -1 is blank
AS_OF_DAY = (AS_OF - DAY_ZERO).days
STREET_ID = 1 << 40  # arrest identifiers at or above this are arrests without a detainer (SYN-A...)
DETAINER_COLUMNS = (
    "Detainer Prepare Date", "Facility State", "Facility AOR", "Facility City", "Detainer Facility",
    "Detainer Facility Code", "Detainer Type", "Detainer Criminality", "Detainer Threat Level", "MSC Charge",
    "MSC Charge Code", "Citizenship Country", "Gender", "Birth Year", "Case Status", "Case Category",
    "Apprehension Date", "Apprehension Method", "Departed Date", "Detainer Lift Reason", "Detainer Lift Date",
    "Anonymized Identifier",
)
ARREST_COLUMNS = ("Area of Responsibility", "Apprehension Date", "Apprehension Method", "Apprehension Landmark",
                  "Operation", "Processing Disposition", "Citizenship", "Gender", "Anonymized Identifier")
BOOKED = 1 + list(LIFT_REASONS).index("Booked into Detention")  # codes of "Detainer Lift Reason"
DECLINED = 1 + list(LIFT_REASONS).index("Detainer Declined by LEA")
Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Codebook:
    """The text behind every code, per table: detainers[column][code]. Dates and identifiers are
    formatted instead (day codes from DAY_ZERO, person numbers)."""

    facilities: pd.DataFrame
    detainers: dict[str, tuple[str, ...]]
    arrests: dict[str, tuple[str, ...]]
    aor_of_facility: np.ndarray  # facility code -> code of its AOR in arrests["Area of Responsibility"]

    @classmethod
    def build(cls) -> Codebook:
        facilities = _facilities()
        aors = tuple(sorted({aor_label(a) for _, aors, _, _ in STATES.values() for a in aors}))
        blank_and_markers = ("", *REDACTION_SPELLINGS)
        detainers = {
            "Facility State": tuple(STATES),
            "Facility AOR": tuple(facilities["aor"]),
            "Facility City": (*facilities["city"], *blank_and_markers),
            "Detainer Facility": tuple(facilities["facility"]),
            "Detainer Facility Code": tuple(facilities["facility_code"]),
            "Detainer Type": tuple(DETAINER_TYPES),
            "Detainer Criminality": tuple(CRIMINALITY),
            "Detainer Threat Level": ("No Threat Level", *THREAT_LEVELS),
            "MSC Charge": ("", *(charge for charge, _ in MSC_CHARGES), EXEMPTION_7E),
            "MSC Charge Code": ("", *(code for _, code in MSC_CHARGES)),
            "Citizenship Country": tuple(COUNTRIES),
            "Gender": tuple(DETAINER_GENDERS),
            "Birth Year": (*(str(year) for year in range(1960, 2006)), *blank_and_markers),
            "Case Status": ("ACTIVE", "CLOSED"),
            "Case Category": tuple(CASE_CATEGORIES),
            "Apprehension Method": ("", *JAIL_METHODS, *REDACTION_SPELLINGS),
            "Detainer Lift Reason": ("", *LIFT_REASONS),
        }
        arrests = {
            "Area of Responsibility": aors,
            "Apprehension Method": (*JAIL_METHODS, *OTHER_METHODS),
            "Apprehension Landmark": (*facilities["facility"], STREET_LANDMARK),
            "Operation": ("",),
            "Processing Disposition": tuple(DISPOSITIONS),
            "Citizenship": tuple(COUNTRIES),
            "Gender": tuple(ARREST_GENDERS),
        }
        aor_of_facility = np.array([aors.index(aor) for aor in facilities["aor"]], dtype=np.int16)
        return cls(facilities, detainers, arrests, aor_of_facility)

    def markers(self, column: str) -> np.ndarray:
        """Per code of a detainer column: True where its text is a FOIA redaction marker."""
        return np.isin(np.array(self.detainers[column], dtype=object), (*REDACTION_SPELLINGS, EXEMPTION_7E))

    def without_markers(self, column: str, codes: np.ndarray) -> np.ndarray:
        """`codes` with every redaction marker replaced by the code of a blank: a reader's view."""
        if column not in self.detainers or not self.markers(column).any():
            return codes
        return np.where(self.markers(column)[codes], self.detainers[column].index(""), codes)


def _codes(rng: np.random.Generator, options: dict[str, float], size: int) -> np.ndarray:
    weights = np.array(list(options.values()), dtype=float)
    return rng.choice(len(options), size=size, p=weights / weights.sum()).astype(np.int16)


def _year_rng(seed: int, fy: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, fy, stream])


def _detainer_year(fy: int, count: int, person_state: np.ndarray, book: Codebook, seed: int) -> Columns:
    """One fiscal year's detainers as codes, sorted by prepare date and person like the workbooks."""
    rng = _year_rng(seed, fy, 0)
    start, end = _fy_bounds(fy)
    prepare = ((start - DAY_ZERO).days + rng.random(count) * ((end - start).days + 1)).astype(np.int16)
    person = rng.integers(0, len(person_state), size=count, dtype=np.int64)
    order = np.lexsort((person, prepare))
    prepare, person = prepare[order], person[order]
    state = person_state[person]
    per_state = book.facilities.groupby("state", sort=False).size().reindex(list(STATES)).to_numpy()
    first = np.concatenate([[0], np.cumsum(per_state)[:-1]])
    facility = (first[state] + rng.random(count) * per_state[state]).astype(np.int16)

    decline_share = np.array([DECLINING_STATES.get(code, 0.0) for code in STATES])
    lift = (_codes(rng, LIFT_REASONS, count) + 1).astype(np.int16)
    lift[rng.random(count) < decline_share[state]] = DECLINED
    days_open = AS_OF_DAY - prepare.astype(np.int32)
    lift[rng.random(count) < np.clip(0.5 - days_open / 400, 0.03, 0.5)] = 0
    lift_days = np.minimum(rng.exponential(25, count).astype(np.int32), np.maximum(days_open, 0))
    lift_date = np.where(lift == 0, -1, prepare + lift_days).astype(np.int16)
    criminality = _codes(rng, CRIMINALITY, count)
    convicted = criminality == 0
    charge = np.where(convicted, rng.choice(len(MSC_CHARGES), size=count, p=np.array(MSC_WEIGHTS) / sum(MSC_WEIGHTS))
                      + 1, 0).astype(np.int16)
    booked = lift == BOOKED
    departed = np.where(booked & (rng.random(count) < 0.7), lift_date + rng.integers(5, 90, count), -1)
    departed[departed > AS_OF_DAY] = -1
    columns = {
        "Detainer Prepare Date": prepare,
        "Facility State": state.astype(np.int16),
        "Facility AOR": facility,
        "Facility City": facility,
        "Detainer Facility": facility,
        "Detainer Facility Code": facility,
        "Detainer Type": _codes(rng, DETAINER_TYPES, count),
        "Detainer Criminality": criminality,
        "Detainer Threat Level": np.where(convicted, _codes(rng, THREAT_LEVELS, count) + 1, 0).astype(np.int16),
        "MSC Charge": charge,
        "MSC Charge Code": charge,
        "Citizenship Country": _codes(rng, COUNTRIES, count),
        "Gender": _codes(rng, DETAINER_GENDERS, count),
        "Birth Year": rng.integers(0, 2006 - 1960, count).astype(np.int16),
        "Case Status": (rng.random(count) >= 0.6).astype(np.int16),
        "Case Category": _codes(rng, CASE_CATEGORIES, count),
        "Apprehension Date": np.where(booked, lift_date, -1).astype(np.int16),
        "Apprehension Method": np.where(booked, _codes(rng, JAIL_METHODS, count) + 1, 0).astype(np.int16),
        "Departed Date": departed.astype(np.int16),
        "Detainer Lift Reason": lift,
        "Detainer Lift Date": lift_date,
        "Anonymized Identifier": person,
    }
    copies = rng.random(count) < 0.003  # repeated right after themselves, as in the workbooks
    repeated = np.repeat(np.arange(count), np.where(copies, 2, 1))
    columns = {name: values[repeated] for name, values in columns.items()}  # fresh arrays: redaction edits them
    _redact_codes(columns, book, rng)
    return columns


def _redact_codes(columns: Columns, book: Codebook, rng: np.random.Generator) -> None:
    n = len(columns["Gender"])
    for column, share in (("Birth Year", 0.35), ("Facility City", 0.03), ("Apprehension Method", 0.02)):
        values = book.detainers[column]
        mask = (rng.random(n) < share) & (columns[column] != values.index(""))
        first = values.index(REDACTION_SPELLINGS[0])
        columns[column][mask] = first + rng.integers(0, len(REDACTION_SPELLINGS), int(mask.sum()))
    mask = (rng.random(n) < 0.02) & (columns["MSC Charge"] != 0)
    columns["MSC Charge"][mask] = book.detainers["MSC Charge"].index(EXEMPTION_7E)


def _repeated_records(columns: Columns, names: list[str], book: Codebook, *, as_read: bool) -> np.ndarray:
    """Per record: True if an identical record came before it in the same year (in columns `names`;
    with `as_read`, every redaction marker counts as a blank, as the reader sees it)."""
    prepare, person = columns["Detainer Prepare Date"], columns["Anonymized Identifier"]
    # identical records share prepare date and person, and records are sorted by both: only runs can repeat
    same_as_next = (prepare[1:] == prepare[:-1]) & (person[1:] == person[:-1])
    in_run = np.zeros(len(prepare), dtype=bool)
    in_run[1:] |= same_as_next
    in_run[:-1] |= same_as_next
    rows = np.flatnonzero(in_run)
    candidates = pd.DataFrame({
        name: book.without_markers(name, columns[name][rows]) if as_read else columns[name][rows] for name in names
    })
    repeated = np.zeros(len(prepare), dtype=bool)
    repeated[rows] = candidates.duplicated().to_numpy()
    return repeated


def _arrests_from(fy: int, detainers: Columns, names: list[str], book: Codebook, seed: int) -> Columns:
    """Arrests of one year's detainers that ended in ICE custody (exact repeats once), and
    0.45 arrests made without a detainer for each of them, in the same fiscal year."""
    rng = _year_rng(seed, fy, 1)
    booked = (detainers["Detainer Lift Reason"] == BOOKED) & ~_repeated_records(detainers, names, book, as_read=False)
    facility = detainers["Detainer Facility"][booked]
    method = detainers["Apprehension Method"][booked] - 1  # index into JAIL_METHODS, unless redacted
    jail = {
        "Area of Responsibility": book.aor_of_facility[facility],
        "Apprehension Date": detainers["Apprehension Date"][booked],
        "Apprehension Method": np.where(method < len(JAIL_METHODS), method, 0).astype(np.int16),
        "Apprehension Landmark": facility,
        "Citizenship": detainers["Citizenship Country"][booked],
        "Gender": detainers["Gender"][booked],
        "Anonymized Identifier": detainers["Anonymized Identifier"][booked],
    }
    extra = int(len(facility) * 0.45)
    start, end = _fy_bounds(fy)
    street = {
        "Area of Responsibility": rng.integers(0, len(book.arrests["Area of Responsibility"]), extra).astype(np.int16),
        "Apprehension Date": ((start - DAY_ZERO).days + rng.integers(0, (end - start).days + 1, extra)).astype(np.int16),
        "Apprehension Method": (_codes(rng, OTHER_METHODS, extra) + len(JAIL_METHODS)).astype(np.int16),
        "Apprehension Landmark": np.full(extra, len(book.facilities), dtype=np.int16),
        "Citizenship": _codes(rng, COUNTRIES, extra),
        "Gender": _codes(rng, ARREST_GENDERS, extra),
        "Anonymized Identifier": STREET_ID + rng.integers(0, 10**6, extra),
    }
    arrests = {name: np.concatenate([jail[name], street[name]]) for name in jail}
    total = len(arrests["Gender"])
    arrests["Operation"] = np.zeros(total, dtype=np.int16)
    arrests["Processing Disposition"] = _codes(rng, DISPOSITIONS, total)
    return arrests


def _take(columns: Columns, rows: np.ndarray) -> Columns:
    return {name: values[rows] for name, values in columns.items()}


def _concat(first: Columns, second: Columns) -> Columns:
    return {name: np.concatenate([first[name], second[name]]) if first else second[name] for name in second}


@dataclass
class _Tally:
    """truth.json's aggregates, accumulated one fiscal year at a time from the codes as written."""

    book: Codebook
    seen: np.ndarray  # per person number: has a detainer
    rows: dict[str, int] = field(default_factory=dict)
    strict: dict[str, int] = field(default_factory=dict)
    broad: dict[str, int] = field(default_factory=dict)
    arrests: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    redacted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("Birth Year", "Facility City", "Apprehension Method", "MSC Charge"), 0))
    lift: np.ndarray = field(default_factory=lambda: np.zeros(len(LIFT_REASONS) + 1, dtype=np.int64))
    states: np.ndarray = field(default_factory=lambda: np.zeros(len(STATES), dtype=np.int64))
    facilities: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.facilities = np.zeros(len(self.book.facilities), dtype=np.int64)

    def add_detainers(self, fy: int, columns: Columns, names: list[str]) -> None:
        key = str(fy)
        self.rows[key] = len(columns["Gender"])
        lift = np.bincount(columns["Detainer Lift Reason"], minlength=len(self.lift))
        self.lift += lift
        reasons = self.book.detainers["Detainer Lift Reason"]
        for counts, definition in ((self.strict, STRICT), (self.broad, BROAD)):
            if total := int(sum(lift[reasons.index(reason)] for reason in definition)):
                counts[key] = total
        self.states += np.bincount(columns["Facility State"], minlength=len(self.states))
        self.facilities += np.bincount(columns["Detainer Facility"], minlength=len(self.facilities))
        self.seen[columns["Anonymized Identifier"]] = True
        for column in self.redacted:
            if column in names:
                self.redacted[column] += int(self.book.markers(column)[columns[column]].sum())
        self.duplicates += int(_repeated_records(columns, names, self.book, as_read=True).sum())

    def add_arrests(self, fy: int, count: int) -> None:
        if count:
            self.arrests[str(fy)] = count

    def truth(self, spec: SampleSpec) -> dict:
        def top(names: tuple[str, ...], counts: np.ndarray, k: int = 5) -> list[list]:
            ordered = sorted(((name, int(c)) for name, c in zip(names, counts, strict=True) if c), key=lambda kv: (-kv[1], kv[0]))
            return [[name, count] for name, count in ordered[:k]]

        reasons = self.book.detainers["Detainer Lift Reason"]
        lift = sorted((reason, int(count)) for reason, count in zip(reasons, self.lift, strict=True) if count)
        return {
            **truth_header(spec),
            "detainers": {
                "rows": sum(self.rows.values()),
                "rows_by_fiscal_year": {k: v for k, v in self.rows.items() if v},
                "likely_duplicates": self.duplicates,
                "declined_by_fiscal_year": {"strict": self.strict, "broad": self.broad},
                "lift_reasons": {("(blank)" if k == "" else k): v for k, v in lift},
                "top_states": top(tuple(STATES), self.states),
                "top_facilities": top(self.book.detainers["Detainer Facility"], self.facilities),
                "states": int((self.states > 0).sum()),
                "people": int(self.seen.sum()),
                "redacted": self.redacted,
            },
            "arrests": {"rows": sum(self.arrests.values()), "rows_by_fiscal_year": self.arrests},
        }


TEXT_OPTIONS = pacsv.WriteOptions(include_header=False, delimiter="|", quoting_style="none", batch_size=65_536)
DAY_TEXT = pa.array([_date_text(DAY_ZERO + dt.timedelta(days=d)) for d in range(AS_OF_DAY + 100)])


def _open_text(path: Path, banners: tuple[str, ...], title: str, headers: list[str]) -> gzip.GzipFile:
    """A pipe-delimited gzip text file (no timestamp in the gzip header) with banners above the header row."""
    handle = gzip.GzipFile(path, "wb", mtime=0, compresslevel=TEXT_GZIP_LEVEL)
    filler = "|" * (len(headers) - 1) + "\n"
    preamble = "".join(f'"{text}"{filler}' if text else filler for text in (*banners, title))
    handle.write((preamble + "|".join(f'"{h}"' for h in headers) + "\n").encode("utf-8"))
    return handle


def _write_records(handle: gzip.GzipFile, columns: Columns, names: list[str] | tuple[str, ...],
                   values: dict[str, tuple[str, ...]]) -> None:
    dictionaries = {name: pa.array(values[name]) for name in names if name in values}
    total = len(columns[names[0]])
    for start in range(0, total, TEXT_CHUNK_ROWS):
        part = {name: columns[name][start:start + TEXT_CHUNK_ROWS] for name in names}
        table = pa.table({f"c{i}": _text_array(name, part[name], dictionaries.get(name))
                          for i, name in enumerate(names)})
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, TEXT_OPTIONS)
        handle.write(sink.getvalue())


def _text_array(name: str, codes: np.ndarray, dictionary: pa.Array | None) -> pa.Array:
    if name.endswith("Date"):
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), DAY_TEXT)
    if name == "Anonymized Identifier":
        return _identifiers(codes)
    assert dictionary is not None, name
    return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)


def _identifiers(numbers: np.ndarray) -> pa.Array:
    """SYN-0001234 for people with detainers, SYN-A012345 for arrests without one."""
    street = numbers >= STREET_ID
    digits = pa.array(np.where(street, numbers - STREET_ID, numbers)).cast(pa.string())
    people = pc.binary_join_element_wise("SYN-", pc.utf8_lpad(digits, 7, "0"), "")
    if not street.any():
        return people
    others = pc.binary_join_element_wise("SYN-A", pc.utf8_lpad(digits, 6, "0"), "")
    return pc.if_else(pa.array(street), others, people)


def _write_large(folder: Path, spec: SampleSpec, progress: Progress) -> dict:
    """Write a large release as gzip text, one fiscal year at a time, and return its truth."""
    book = Codebook.build()
    master = np.random.default_rng([spec.seed, 0])
    counts = master.multinomial(spec.rows, np.array(FY_WEIGHTS) / sum(FY_WEIGHTS))
    state_weights = np.array([STATE_WEIGHT.get(code, 1.0) for code in STATES])
    people = max(1, int(spec.rows * 0.72))
    person_state = master.choice(len(STATES), size=people, p=state_weights / state_weights.sum()).astype(np.int16)
    tally = _Tally(book, np.zeros(people, dtype=bool))
    pending: Columns = {}  # arrests dated in a later fiscal year than their detainer
    arrest_path = folder / f"SYNTHETIC_Arrests_FY{FISCAL_YEARS[0]}-FY{FISCAL_YEARS[-1]}.txt.gz"
    with _open_text(arrest_path, ARREST_BANNERS, _arrests_title(), list(ARREST_COLUMNS)) as arrests_out:
        for fy, count in zip(FISCAL_YEARS, counts.tolist(), strict=True):
            with progress.step(f"sample: FY{fy}: {count:,} synthetic detainers (seed {spec.seed})"):
                detainers = _detainer_year(fy, count, person_state, book, spec.seed)
                names = _year_columns(fy, list(DETAINER_COLUMNS))
                with _open_text(folder / f"SYNTHETIC_Detainers_FY{fy}.txt.gz", DETAINER_BANNERS,
                                _detainer_title(fy), [_renamed(c, fy) for c in names]) as out:
                    _write_records(out, detainers, names, book.detainers)
                tally.add_detainers(fy, detainers, names)
                arrests = _concat(pending, _arrests_from(fy, detainers, names, book, spec.seed))
                del detainers
                due = arrests["Apprehension Date"] <= (_fy_bounds(fy)[1] - DAY_ZERO).days
                order = np.lexsort((arrests["Anonymized Identifier"][due], arrests["Apprehension Date"][due]))
                _write_records(arrests_out, _take(_take(arrests, due), order), ARREST_COLUMNS, book.arrests)
                tally.add_arrests(fy, int(due.sum()))
                pending = _take(arrests, ~due)
    return tally.truth(spec)


SAMPLE_README = """# SYNTHETIC sample release

Invented records ({rows:,} detainers, seed {seed}) written by `analysis sample` in the layout
ICE's ERO-LESA Statistical Tracking Unit uses for FOIA releases: banner rows above a header
row, one sheet per fiscal year, FOIA exemption markers for redactions, columns that drift
between sheets, a Summary and a Footnotes sheet. Nothing here describes real people, jails
or agencies. `truth.json` holds the aggregates the generator planted.
"""

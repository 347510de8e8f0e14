"""Most-serious-conviction (MSC) charges grouped into categories a reader recognises.

The mapping is data, not code: data/reference/conviction_categories.csv, one rule a line,
with columns `kind`, `pattern`, `category`, `note`:
- kind `code`: `pattern` is a prefix of the NCIC-style MSC charge code (`09` matches `0911`).
  The longest matching prefix wins, so `5404` (DUI) beats `54` (traffic).
- kind `text`: `pattern` is a case-insensitive regular expression searched in the charge text;
  the first matching rule in file order wins, so the file order is part of the mapping.
A charge code decides when a code rule matches it; otherwise the text decides. A charge that
no rule matches is `Other / not mapped`: kept visible, never dropped. A record without any
charge (no conviction, or a redacted charge) is `No conviction recorded`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.errors import AnalysisError
from analysis.paths import project_root

CATEGORIES_FILE = Path("data") / "reference" / "conviction_categories.csv"
NOT_MAPPED = "Other / not mapped"
NONE_RECORDED = "No conviction recorded"
KINDS = ("code", "text")
REQUIRED_COLUMNS = ("kind", "pattern", "category", "note")


class ReferenceFileError(AnalysisError):
    """A reference file (such as the conviction mapping) cannot be used."""


@dataclass(frozen=True)
class Rules:
    """Code-prefix rules (longest first) and text rules (file order)."""

    code: tuple[tuple[str, str], ...]
    text: tuple[tuple[re.Pattern[str], str], ...]
    path: Path | None = None

    def category_of(self, charge: str | None, code: str | None) -> str:
        if code:
            for prefix, category in self.code:
                if code.startswith(prefix):
                    return category
        if charge:
            for pattern, category in self.text:
                if pattern.search(charge):
                    return category
        if code or charge:
            return NOT_MAPPED
        return NONE_RECORDED


def default_path() -> Path:
    """The project's mapping if it has one, else the one shipped with this checkout."""
    in_project = project_root() / CATEGORIES_FILE
    if in_project.is_file():
        return in_project
    return Path(__file__).resolve().parents[3] / CATEGORIES_FILE


def load_rules(path: Path | None = None) -> Rules:
    """Read and check the mapping; a bad line is reported with its file and row."""
    path = path or default_path()
    if not path.is_file():
        raise ReferenceFileError("conviction category mapping not found", file=path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceFileError(f"missing column(s) {', '.join(missing)}", file=path, row=1)
        code_rules: list[tuple[str, str]] = []
        text_rules: list[tuple[re.Pattern[str], str]] = []
        for row_number, row in enumerate(reader, start=2):
            kind, pattern, category = (str(row.get(k) or "").strip() for k in ("kind", "pattern", "category"))
            if kind not in KINDS:
                raise ReferenceFileError(f"kind must be 'code' or 'text' (got {kind!r})", file=path, row=row_number)
            if not pattern or not category:
                raise ReferenceFileError("pattern and category must not be empty", file=path, row=row_number)
            if kind == "code":
                code_rules.append(((normalise_code(pattern) or pattern) if len(pattern) > 2 else pattern, category))
                continue
            try:
                text_rules.append((re.compile(pattern, re.IGNORECASE), category))
            except re.error as exc:
                raise ReferenceFileError(f"pattern {pattern!r} is not a valid regular expression ({exc})",
                                         file=path, row=row_number, column="pattern") from None
    code_rules.sort(key=lambda rule: -len(rule[0]))
    return Rules(tuple(code_rules), tuple(text_rules), path)


def normalise_code(code: object) -> str | None:
    """`0911`, ` 911 ` and `911.0` (a code that went through a spreadsheet as a number) -> `0911`."""
    if code is None or (isinstance(code, float) and pd.isna(code)) or code is pd.NA:
        return None
    text = str(code).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if text.isdigit() and len(text) < 4:
        text = text.zfill(4)
    return text or None


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    text = " ".join(str(value).split())
    return text or None


def categorise(charges: pd.Series, codes: pd.Series | None = None, rules: Rules | None = None) -> pd.Series:
    """The category of each record's most serious conviction (same index as `charges`)."""
    rules = rules or load_rules()
    texts = [_text(value) for value in charges.tolist()]
    code_list = [normalise_code(value) for value in codes.tolist()] if codes is not None else [None] * len(texts)
    keys = list(zip(texts, code_list, strict=True))
    # categorise each distinct (charge, code) once: releases repeat a few hundred charges many times
    lookup = {key: rules.category_of(*key) for key in set(keys)}
    return pd.Series([lookup[key] for key in keys], index=charges.index, dtype="string", name="conviction_category")


def unmapped_charges(charges: pd.Series, codes: pd.Series | None = None, rules: Rules | None = None,
                     records: pd.Series | None = None) -> pd.DataFrame:
    """Charge texts and codes that no rule matches, with how many records carry each: what to
    review when a new release brings new charge spellings. `records`: how many records each row
    stands for (a frame of counts, one row per distinct charge and code); one each without it."""
    rules = rules or load_rules()
    categories = categorise(charges, codes, rules)
    mask = (categories == NOT_MAPPED).to_numpy()
    weights = pd.Series(1, index=charges.index, dtype="int64") if records is None else records
    frame = pd.DataFrame({"charge": [_text(v) or "" for v in charges[mask].tolist()],
                          "code": [normalise_code(v) or "" for v in codes[mask].tolist()] if codes is not None else "",
                          "records": weights[mask].to_numpy(dtype="int64")})
    counts = frame.groupby(["charge", "code"])["records"].sum().rename("records").reset_index()
    return counts.sort_values(["records", "charge", "code"], ascending=[False, True, True]).reset_index(drop=True)

"""Named facilities (jails and prisons) and the spellings ICE's releases use for them.

The table is data, not code: data/reference/facilities.csv, one spelling pattern a line, with
columns `facility`, `state`, `county`, `pattern`, `note`:
- `facility` is the canonical name a claim uses (`facility: Cook County Jail`); a facility
  with several spellings has several lines, all with the same state and county.
- `pattern` is a case-insensitive regular expression that must match the WHOLE facility name
  as the release records it, after folding: upper case, and every run of characters other
  than letters and digits turned into one space (`Santa Clara Co. Main Jail - North` is
  compared as `SANTA CLARA CO MAIN JAIL NORTH`). Patterns are therefore written without
  punctuation.
- A record matches only if its state is the facility's state as well: Georgia and Minnesota
  also have a Cook County, and a spelling alone does not say which county's jail it is.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.paths import project_root
from analysis.vocab.convictions import ReferenceFileError
from analysis.vocab.geography import STATES

FACILITIES_FILE = Path("data") / "reference" / "facilities.csv"
REQUIRED_COLUMNS = ("facility", "state", "county", "pattern", "note")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


@dataclass(frozen=True)
class Facility:
    name: str
    state: str
    county: str
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, spelling: object) -> bool:
        """Whether a recorded facility name is a spelling of this facility (the state is checked apart)."""
        folded = fold(spelling)
        return any(pattern.fullmatch(folded) for pattern in self.patterns)


def fold(spelling: object) -> str:
    """A facility name as patterns see it: upper case, letters and digits, single spaces."""
    return _NOT_ALNUM.sub(" ", str(spelling).upper()).strip()


def default_path() -> Path:
    """The project's table if it has one, else the one shipped with this checkout."""
    in_project = project_root() / FACILITIES_FILE
    if in_project.is_file():
        return in_project
    return Path(__file__).resolve().parents[3] / FACILITIES_FILE


def load_facilities(path: Path | None = None) -> dict[str, Facility]:
    """Canonical name -> facility; a bad line is reported with its file and row."""
    path = path or default_path()
    if not path.is_file():
        raise ReferenceFileError("facility table not found", file=path)
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceFileError(f"missing column(s) {', '.join(missing)}", file=path, row=1)
        for row_number, row in enumerate(reader, start=2):
            cells = {key: str(row.get(key) or "").strip() for key in REQUIRED_COLUMNS}
            rows.setdefault(cells["facility"], []).append((row_number, cells))
    return {name: _facility(name, lines, path) for name, lines in rows.items()}


def _facility(name: str, lines: list[tuple[int, dict[str, str]]], path: Path) -> Facility:
    first_row, first = lines[0]
    if not name:
        raise ReferenceFileError("facility must not be empty", file=path, row=first_row, column="facility")
    patterns = []
    for row_number, cells in lines:
        if cells["state"] not in STATES:
            raise ReferenceFileError(f"state must be a two-letter code such as CA (got {cells['state']!r})",
                                     file=path, row=row_number, column="state")
        if (cells["state"], cells["county"]) != (first["state"], first["county"]):
            raise ReferenceFileError(f"{name!r} is given another state or county on row {first_row}",
                                     file=path, row=row_number)
        if not cells["pattern"]:
            raise ReferenceFileError("pattern must not be empty", file=path, row=row_number, column="pattern")
        try:
            patterns.append(re.compile(cells["pattern"], re.IGNORECASE))
        except re.error as exc:
            raise ReferenceFileError(f"pattern {cells['pattern']!r} is not a valid regular expression ({exc})",
                                     file=path, row=row_number, column="pattern") from None
    return Facility(name, first["state"], first["county"], tuple(patterns))

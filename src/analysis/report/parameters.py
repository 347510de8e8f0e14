"""The parameter set every notebook receives, validated once, with the labels reports use."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from analysis.errors import AnalysisError
from analysis.paths import check_release_id
from analysis.release import Scope
from analysis.vocab.geography import AORS, STATES, short_aor

DECLINED_DEFINITIONS = ("strict", "broad")
# A facility is named by its code (`facility_code`): names repeat between states, codes do not.
# Codes go into sentences, figure titles and file names, so only characters that are plain text
# in Markdown, Typst and matplotlib are accepted.
FACILITY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$")


def file_safe(text: str) -> str:
    """`San Francisco` -> `San-Francisco`, `St. Paul` -> `St-Paul`: a name for a file or folder."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "unnamed"


@dataclass(frozen=True)
class ReportParameters:
    release: str
    previous_release: str | None = None
    state: str | None = None
    aor: str | None = None
    fy_start: int | None = None
    fy_end: int | None = None
    declined_definition: str = "strict"
    min_cell: int = 1
    facility: str | None = None

    def __post_init__(self) -> None:
        check_release_id(self.release)
        if self.previous_release:
            check_release_id(self.previous_release)
        if self.state is not None:
            code = str(self.state).upper()
            if code not in STATES:
                raise AnalysisError(f"unknown state {self.state!r}: use a two-letter code such as CA or DC")
            object.__setattr__(self, "state", code)
        if self.aor is not None:
            name = short_aor(str(self.aor))
            match = [a for a in AORS if a.lower() == name.lower()]
            if not match:
                raise AnalysisError(f"unknown area of responsibility {self.aor!r}: one of {', '.join(AORS)}")
            object.__setattr__(self, "aor", match[0])
        if self.facility is not None:
            code = str(self.facility).strip()
            if not FACILITY_CODE.match(code):
                raise AnalysisError(f"facility code {self.facility!r} is not one this package can name a report by: "
                                    "letters, digits, '.' and '-', at most 40")
            object.__setattr__(self, "facility", code)
        for name in ("fy_start", "fy_end"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 1990 <= value <= 2100):
                raise AnalysisError(f"{name} must be a fiscal year such as 2021 (got {value!r})")
        if self.fy_start and self.fy_end and self.fy_start > self.fy_end:
            raise AnalysisError(f"fy_start {self.fy_start} is after fy_end {self.fy_end}")
        if self.declined_definition not in DECLINED_DEFINITIONS:
            raise AnalysisError(f"declined_definition must be 'strict' or 'broad' (got {self.declined_definition!r})")
        if not isinstance(self.min_cell, int) or isinstance(self.min_cell, bool) or self.min_cell < 1:
            raise AnalysisError(f"min_cell must be a whole number of at least 1 (got {self.min_cell!r})")

    def as_dict(self) -> dict:
        """The parameters as the notebooks receive them. `facility` is left out when it is not set,
        so reports that do not use it keep their cache keys and their provenance table."""
        values = asdict(self)
        if values["facility"] is None:
            del values["facility"]
        return values

    @property
    def scope(self) -> Scope:
        return Scope(self.state, self.aor, self.fy_start, self.fy_end, self.facility)

    @property
    def geography(self) -> str:
        return self.scope.geography

    @property
    def suffix(self) -> str:
        """File-name suffix saying which geography and years a report covers: `-CA`, `-Seattle`."""
        parts = []
        if self.state:
            parts.append(self.state)
        if self.aor:
            parts.append(re.sub(r"[^A-Za-z0-9]+", "", self.aor))
        if self.facility:
            parts.append(f"facility-{file_safe(self.facility)}")
        if self.fy_start or self.fy_end:
            parts.append(f"FY{self.fy_start or ''}-{self.fy_end or ''}".rstrip("-"))
        return "".join(f"-{p}" for p in parts)

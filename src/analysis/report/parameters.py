"""The parameter set every notebook receives, validated once, with the labels reports use."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from analysis.errors import AnalysisError
from analysis.paths import check_release_id
from analysis.release import Scope
from analysis.vocab.geography import AORS, STATES, short_aor

DECLINED_DEFINITIONS = ("strict", "broad")


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
        return asdict(self)

    @property
    def scope(self) -> Scope:
        return Scope(self.state, self.aor, self.fy_start, self.fy_end)

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
        if self.fy_start or self.fy_end:
            parts.append(f"FY{self.fy_start or ''}-{self.fy_end or ''}".rstrip("-"))
        return "".join(f"-{p}" for p in parts)

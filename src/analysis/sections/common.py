"""What the report's sections share: the sentence that stops a section left without records,
and the fiscal years a section spans."""

from __future__ import annotations

from collections.abc import Container, Iterable

import pandas as pd

from analysis import words
from analysis.release import Scope
from analysis.report.context import ReportContext


def no_records_sentence(scope: Scope, what: str) -> str:
    """`The release has no detainers for California (CA) in FY2021 to FY…, so this section is skipped.`"""
    years = f" in {words.fy_bounds(scope.fy_start, scope.fy_end)}" if scope.limits_years else ""
    return f"The release has no {what} for {scope.geography}{years}, so this section is skipped."


def stop_if_empty(ctx: ReportContext, frame: pd.DataFrame, what: str) -> None:
    """Stop the section with one sentence when the report's filters leave no records."""
    if not len(frame):
        ctx.skip(no_records_sentence(ctx.params.scope, what))


def lacks(ctx: ReportContext, table: str, columns: Iterable[str], consequence: str) -> bool:
    """Whether `table` lacks one of `columns`; if so, says so and its `consequence` (`declines by
    facility are not shown`) in one sentence, and the rest of the section goes on."""
    missing = ctx.data.missing(table, list(columns))
    if missing:
        ctx.say(f"{missing}, so {consequence}.")
    return missing is not None


def span(years: Iterable[int], partial: Container[int]) -> str:
    """The fiscal years a section covers: `FY2021 to FY2025 (partial)`."""
    return words.fy_span(words.fy_labels(years, partial))

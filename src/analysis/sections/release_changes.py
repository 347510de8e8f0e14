"""What changed since the previous release (notebook 06): the comparison the section shows."""

from __future__ import annotations

from analysis.checks import compare
from analysis.report.context import ReportContext


def comparison(ctx: ReportContext) -> compare.ReleaseComparison:
    """This release compared with the previous one; the section stops with one sentence when no
    previous release is named or it is not ingested."""
    previous = ctx.params.previous_release
    reason = compare.unavailable(previous)
    if reason:
        ctx.skip(reason)
    assert previous is not None  # `unavailable` gives a reason when none is named
    return compare.compare_releases(ctx.release, previous)

"""The key-findings page: the headline numbers of a release, each with the definition used.

Every finding is computed here from the processed tables (never typed in), within the
report's geography and fiscal years, and counts below `min_cell` are suppressed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from analysis.escaping import md_text
from analysis.report.context import ReportContext, format_share
from analysis.vocab.definitions import DECLINED_DESCRIPTIONS, is_declined, lift_bucket
from analysis.vocab.fiscal import is_partial

LOCAL_JAIL = "CAP Local Incarceration"


@dataclass(frozen=True)
class Finding:
    headline: str  # one sentence, Markdown, numbers from the data
    definition: str  # what was counted, and how


def _years(frame: pd.DataFrame) -> str:
    years = sorted(int(y) for y in frame["fiscal_year"].dropna().unique())
    if not years:
        return "no fiscal year"
    return f"FY{years[0]}" if len(years) == 1 else f"FY{years[0]}–FY{years[-1]}"


def _latest_complete_year(ctx: ReportContext, table: str, frame: pd.DataFrame) -> int | None:
    coverage = ctx.manifest["tables"][table].get("fiscal_year_coverage", {})
    complete = [int(fy) for fy, span in coverage.items() if not is_partial(int(fy), span["first"], span["last"])]
    present = set(frame["fiscal_year"].dropna().astype(int))
    complete = [fy for fy in complete if fy in present]
    return max(complete) if complete else None


def detainer_findings(ctx: ReportContext) -> list[Finding]:
    frame = ctx.load("detainers", ["detainer_prepare_date", "detainer_lift_reason", "state"])
    if frame.empty:
        return [Finding("No detainers fall within this report's geography and years.", "Detainers table of the release.")]
    definition = ctx.params.declined_definition
    other = "broad" if definition == "strict" else "strict"
    reasons = frame["detainer_lift_reason"]
    declined = is_declined(reasons, definition)
    buckets = lift_bucket(reasons)
    latest = _latest_complete_year(ctx, "detainers", frame)
    latest_text = f"; in {f'FY{latest}'}, the latest complete fiscal year, {ctx.count((frame['fiscal_year'] == latest).sum())}" if latest else ""
    found = [
        Finding(
            f"**{ctx.count(len(frame))} detainers** were prepared in {_years(frame)}{latest_text}.",
            "Detainers prepared: records of the release's detainers table, placed in fiscal years (1 October to "
            "30 September) by their prepare date.",
        ),
        Finding(
            f"**{ctx.count(declined.sum())} detainers ({format_share(declined.mean())})** were recorded as declined "
            f"by the agency holding the person ({definition} definition); under the {other} definition, "
            f"{ctx.count(is_declined(reasons, other).sum())}.",
            f"Declined, {definition} definition: {DECLINED_DESCRIPTIONS[definition]}. ICE does not record why a "
            "detainer was declined and agencies rarely tell it, so declines are undercounted.",
        ),
        Finding(
            f"**{format_share((buckets == 'booked').mean())}** of detainers ended with the person booked into ICE "
            f"custody; **{format_share((buckets == 'still_open').mean())}** had no lift reason yet (still open).",
            "Outcome from the detainer's lift reason ('Booked into Detention'; blank = still open).",
        ),
    ]
    if not ctx.params.state and declined.any():
        by_state = frame.loc[declined, "state"].value_counts()
        state, count = by_state.index[0], int(by_state.iloc[0])
        found.append(Finding(
            f"**{md_text(state)}** recorded the most declined detainers: {ctx.count(count)} "
            f"({format_share(count / declined.sum())} of all declines).",
            f"State of the facility that received the detainer; declined, {definition} definition.",
        ))
    return found


def encounter_findings(ctx: ReportContext) -> list[Finding]:
    frame = ctx.load("encounters", ["processing_disposition"])
    ending = frame[frame["processing_disposition"] == "Detainer"]
    by_year = ending.groupby("fiscal_year").size()
    years = ", ".join(f"FY{fy}: {ctx.count(n)}" for fy, n in by_year.items())
    return [Finding(
        f"**{ctx.count(len(ending))} encounters ended in a detainer** ({years}); this release has no detainers table.",
        "Encounters whose processing disposition is 'Detainer'. This is not the number of detainers prepared "
        "(TRAC and ICE's detainer records count those, and find more): the two measures are not interchangeable.",
    )]


def arrest_findings(ctx: ReportContext) -> list[Finding]:
    frame = ctx.load("arrests", ["apprehension_method"])
    latest = _latest_complete_year(ctx, "arrests", frame)
    scope = frame[frame["fiscal_year"] == latest] if latest else frame
    label = f"FY{latest}" if latest else _years(frame)
    jail = (scope["apprehension_method"] == LOCAL_JAIL).mean() if len(scope) else float("nan")
    return [Finding(
        f"**{ctx.count(len(scope))} administrative arrests** in {label}; {format_share(jail)} of them in local jails.",
        f"Records of the arrests table; local jails = apprehension method '{LOCAL_JAIL}'.",
    )]


def removal_findings(ctx: ReportContext) -> list[Finding]:
    frame = ctx.load("removals", [])
    by_year = frame.groupby("fiscal_year").size()
    years = ", ".join(f"FY{fy}: {ctx.count(n)}" for fy, n in by_year.items())
    dated_by = ctx.date_column("removals")
    basis = "by removal date" if dated_by in (None, "removal_date") else (
        f"by {dated_by.replace('_', ' ')} (the release has no removal date)")
    return [Finding(f"**{ctx.count(len(frame))} removals** ({years}).", f"Records of the removals table, {basis}.")]


def claims_finding(ctx: ReportContext) -> list[Finding]:
    from analysis.checks.claims import check_claims

    results = check_claims(ctx.release)
    tally = Counter(result.verdict for result in results)
    parts = ", ".join(f"{count} {verdict}" for verdict, count in tally.most_common())
    synthetic = " These are invented records: no published figure is expected to agree." if ctx.synthetic else ""
    return [Finding(
        f"Of **{len(results)} published figures** checked against this release: {parts}.{synthetic}",
        "Claims files in data/claims/ (ICE annual reports, TRAC, Center for Immigration Studies, ICE's 2017 weekly "
        "reports), compared with the same measure computed from this release; see the claims section.",
    )]


def key_findings(ctx: ReportContext) -> list[Finding]:
    found: list[Finding] = []
    if ctx.has("detainers", ["detainer_lift_reason"]) and ctx.can_filter("detainers"):
        found += detainer_findings(ctx)
    elif ctx.has("encounters", ["processing_disposition"]) and ctx.can_filter("encounters"):
        found += encounter_findings(ctx)
    if ctx.has("arrests", ["apprehension_method"]) and ctx.can_filter("arrests"):
        found += arrest_findings(ctx)
    if ctx.has("removals") and ctx.can_filter("removals"):
        found += removal_findings(ctx)
    if not (ctx.params.state or ctx.params.aor or ctx.params.fy_start or ctx.params.fy_end):
        found += claims_finding(ctx)
    return found


def as_markdown(found: list[Finding]) -> str:
    if not found:
        return "*No table of this release can be limited to this report's geography and years.*"
    return "\n\n".join(f"{number}. {f.headline}  \n   *Definition: {f.definition}*" for number, f in enumerate(found, 1))

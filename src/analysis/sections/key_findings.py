"""The key-findings page: the headline numbers of a release, each with the definition used.

Every finding is computed here from the processed tables (never typed in), within the
report's geography and fiscal years, and counts below `min_cell` are suppressed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from analysis import words
from analysis.escaping import md_text
from analysis.metrics import detainers as dm
from analysis.metrics.enforcement import LOCAL_JAIL, is_method
from analysis.report.context import ReportContext
from analysis.vocab.definitions import DECLINED_DESCRIPTIONS, is_declined, lift_bucket


@dataclass(frozen=True)
class Finding:
    headline: str  # one sentence, Markdown, numbers from the data
    definition: str  # what was counted, and how


def _years(frame: pd.DataFrame) -> str:
    return words.fy_range(sorted(int(y) for y in frame["fiscal_year"].dropna().unique()), empty="no fiscal year")


def _latest_complete_year(ctx: ReportContext, table: str, frame: pd.DataFrame) -> int | None:
    coverage = ctx.manifest["tables"][table].get("fiscal_year_coverage", {})
    partial = ctx.data.partial_years(table)
    present = set(frame["fiscal_year"].dropna().astype(int))
    complete = [int(fy) for fy in coverage if fy not in partial and int(fy) in present]
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
            f"**{ctx.count(declined.sum())} detainers ({words.percent(declined.mean())})** were recorded as declined "
            f"by the agency holding the person ({definition} definition); under the {other} definition, "
            f"{ctx.count(is_declined(reasons, other).sum())}.",
            f"Declined, {definition} definition: {DECLINED_DESCRIPTIONS[definition]}. ICE does not record why a "
            "detainer was declined and agencies rarely tell it, so declines are undercounted.",
        ),
        Finding(
            f"**{words.percent((buckets == 'booked').mean())}** of detainers ended with the person booked into ICE "
            f"custody; **{words.percent((buckets == 'still_open').mean())}** had no lift reason yet (still open).",
            "Outcome from the detainer's lift reason ('Booked into Detention'; blank = still open).",
        ),
    ]
    if not ctx.params.state and declined.any():
        by_state = frame.loc[declined, "state"].value_counts()
        state, count = by_state.index[0], int(by_state.iloc[0])
        found.append(Finding(
            f"**{md_text(state)}** recorded the most declined detainers: {ctx.count(count)} "
            f"({words.percent(count / declined.sum())} of all declines).",
            f"State of the facility that received the detainer; declined, {definition} definition.",
        ))
    return found


def encounter_findings(ctx: ReportContext) -> list[Finding]:
    ending = dm.ENCOUNTERS_ENDING_IN_DETAINER.load(ctx.data, [])
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
    jail = is_method(scope, LOCAL_JAIL).mean() if len(scope) else float("nan")
    return [Finding(
        f"**{ctx.count(len(scope))} administrative arrests** in {label}; {words.percent(jail)} of them in local jails.",
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
    measure = dm.detainer_measure(ctx.data, scoped=True, outcomes=True)
    if measure is not None:
        found += encounter_findings(ctx) if measure.from_encounters else detainer_findings(ctx)
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

"""The key-findings page: the headline numbers of a release, each with the definition used.

Every finding is computed here from the processed tables (never typed in), within the
report's geography and fiscal years, and counts below `min_cell` are suppressed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis import words
from analysis.escaping import md_text
from analysis.metrics import detainers as dm
from analysis.metrics import enforcement as em
from analysis.metrics.enforcement import LOCAL_JAIL, is_method
from analysis.report.context import ReportContext
from analysis.vocab.definitions import DECLINED_DESCRIPTIONS, ends_in_detainer, is_declined, lift_bucket


@dataclass(frozen=True)
class Finding:
    headline: str  # one sentence, Markdown, numbers from the data
    definition: str  # what was counted, and how


def _years(counts: pd.DataFrame) -> str:
    return words.fy_range(sorted(int(y) for y in counts["fiscal_year"].dropna().unique()), empty="no fiscal year")


def _latest_complete_year(ctx: ReportContext, table: str, counts: pd.DataFrame) -> int | None:
    coverage = ctx.manifest["tables"][table].get("fiscal_year_coverage", {})
    partial = ctx.data.partial_years(table)
    present = set(counts["fiscal_year"].dropna().astype(int))
    complete = [int(fy) for fy in coverage if fy not in partial and int(fy) in present]
    return max(complete) if complete else None


def _top_state(counts: pd.DataFrame) -> tuple[str, int]:
    """The state with the most records of `counts` (ties: the first state by name)."""
    by_state = counts.dropna(subset=["state"]).groupby("state")["records"].sum().reset_index()
    top = by_state.sort_values(["records", "state"], ascending=[False, True], kind="stable").iloc[0]
    return str(top["state"]), int(top["records"])


def detainer_findings(ctx: ReportContext) -> list[Finding]:
    counts = ctx.data.counts("detainers", ["fiscal_year", "state", "detainer_lift_reason"])
    records = int(counts["records"].sum())
    if not records:
        return [Finding("No detainers fall within this report's geography and years.", "Detainers table of the release.")]
    definition = ctx.params.declined_definition
    other = "broad" if definition == "strict" else "strict"
    reasons, weights = counts["detainer_lift_reason"], counts["records"]
    declined = is_declined(reasons, definition)
    declines = int(weights[declined].sum())
    buckets = lift_bucket(reasons)
    latest = _latest_complete_year(ctx, "detainers", counts)
    latest_text = f"; in {f'FY{latest}'}, the latest complete fiscal year, {ctx.count(weights[counts['fiscal_year'] == latest].sum())}" if latest else ""
    found = [
        Finding(
            f"**{ctx.count(records)} detainers** were prepared in {_years(counts)}{latest_text}.",
            "Detainers prepared: records of the release's detainers table, placed in fiscal years (1 October to "
            "30 September) by their prepare date.",
        ),
        Finding(
            f"**{ctx.count(declines)} detainers ({words.percent(declines / records)})** were recorded as declined "
            f"by the agency holding the person ({definition} definition); under the {other} definition, "
            f"{ctx.count(weights[is_declined(reasons, other)].sum())}.",
            f"Declined, {definition} definition: {DECLINED_DESCRIPTIONS[definition]}. ICE does not record why a "
            "detainer was declined and agencies rarely tell it, so declines are undercounted.",
        ),
        Finding(
            f"**{words.percent(weights[buckets == 'booked'].sum() / records)}** of detainers ended with the person "
            f"booked into ICE custody; **{words.percent(weights[buckets == 'still_open'].sum() / records)}** had no "
            "lift reason yet (still open).",
            "Outcome from the detainer's lift reason ('Booked into Detention'; blank = still open).",
        ),
    ]
    if not (ctx.params.state or ctx.params.facility) and declines:
        state, count = _top_state(counts[declined])
        states = counts[declined]["state"].dropna().nunique()
        found.append(Finding(
            top_state_finding(md_text(state), count, states, declines, ctx.count),
            f"State of the facility that received the detainer; declined, {definition} definition.",
        ))
    return found


def top_state_finding(state: str, top: int, states: int, declines: int, count: Callable[[float], str]) -> str:
    """The state with the most declined detainers (`top` of all `declines`, among `states`
    states) and its share; with one state, that it recorded them all."""
    if states == 1:
        return f"All declined detainers were recorded in **{state}**: {count(top)}."
    return (f"**{state}** recorded the most declined detainers: {count(top)} "
            f"({words.percent(top / declines)} of all declines).")


def encounter_findings(ctx: ReportContext) -> list[Finding]:
    counts = ctx.data.counts("encounters", ["fiscal_year", dm.DISPOSITION])
    ending = counts[ends_in_detainer(counts[dm.DISPOSITION])]
    by_year = em.year_counts(ending)
    years = ", ".join(f"FY{fy}: {ctx.count(n)}" for fy, n in zip(by_year.fiscal_year, by_year.records, strict=True))
    return [Finding(
        f"**{ctx.count(ending['records'].sum())} encounters ended in a detainer** ({years}); this release has no "
        "detainers table.",
        "Encounters whose processing disposition is 'Detainer'. This is not the number of detainers prepared "
        "(TRAC and ICE's detainer records count those, and find more): the two measures are not interchangeable.",
    )]


def arrest_findings(ctx: ReportContext) -> list[Finding]:
    counts = ctx.data.counts("arrests", ["fiscal_year", "apprehension_method"])
    latest = _latest_complete_year(ctx, "arrests", counts)
    scope = counts[counts["fiscal_year"] == latest] if latest else counts
    label = f"FY{latest}" if latest else _years(counts)
    arrests = int(scope["records"].sum())
    jail = scope["records"][is_method(scope, LOCAL_JAIL).to_numpy()].sum() / arrests if arrests else float("nan")
    return [Finding(
        f"**{ctx.count(arrests)} administrative arrests** in {label}; {words.percent(jail)} of them in local jails.",
        f"Records of the arrests table; local jails = apprehension method '{LOCAL_JAIL}'.",
    )]


def removal_findings(ctx: ReportContext) -> list[Finding]:
    counts = ctx.data.counts("removals", ["fiscal_year"])
    by_year = em.year_counts(counts)
    years = ", ".join(f"FY{fy}: {ctx.count(n)}" for fy, n in zip(by_year.fiscal_year, by_year.records, strict=True))
    dated_by = ctx.date_column("removals")
    basis = "by removal date" if dated_by in (None, "removal_date") else (
        f"by {dated_by.replace('_', ' ')} (the release has no removal date)")
    return [Finding(f"**{ctx.count(counts['records'].sum())} removals** ({years}).",
                    f"Records of the removals table, {basis}.")]


def claims_finding(ctx: ReportContext) -> list[Finding]:
    from analysis.checks.claims import check_claims

    results = check_claims(ctx.data)
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
    if not (ctx.params.state or ctx.params.aor or ctx.params.facility or ctx.params.fy_start or ctx.params.fy_end):
        found += claims_finding(ctx)
    return found


def as_markdown(found: list[Finding]) -> str:
    if not found:
        return "*No table of this release can be limited to this report's geography and years.*"
    return "\n\n".join(f"{number}. {f.headline}  \n   *Definition: {f.definition}*" for number, f in enumerate(found, 1))

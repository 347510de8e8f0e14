"""What happened to detainers (notebook 03): outcomes by fiscal year, declines under both
definitions, where they were recorded, whom they concerned, and days from detainer to lift.

The rules that choose titles and sentences are the module's functions; `DetainerOutcomes`
draws the section's parts in the order the notebook calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from functools import cached_property

import pandas as pd

from analysis import words
from analysis.figures import charts
from analysis.metrics import detainers as dm
from analysis.report.context import ReportContext
from analysis.sections.common import lacks, span, stop_if_empty
from analysis.vocab import convictions
from analysis.vocab.definitions import BUCKETS, DECLINED_DESCRIPTIONS

BOOKED, DECLINED = BUCKETS["booked"], BUCKETS["declined"]
TOP_FACILITIES = 15
CHARGE_COLUMNS = ("msc_charge", "msc_charge_code")


# ---------------------------------------------------------------- rules


def other_definition(definition: str) -> str:
    return "broad" if definition == "strict" else "strict"


def introduction(records: int, declined: int, other: int, definition: str, where: str, period: str,
                 min_cell: int = 1) -> str:
    """The detainers counted and the declines under the report's definition and the other one."""
    n = lambda value: words.count(value, min_cell)  # noqa: E731 - local shorthand
    second = other_definition(definition)
    return (f"**{n(records)} detainers** prepared in {where}, {period}. "
            f"This report's headline definition of a declined detainer is **{definition}**: "
            f"{DECLINED_DESCRIPTIONS[definition]}. "
            f"Under it, {n(declined)} detainers ({declined / records:.1%}) were declined; "
            f"the {second} definition ({DECLINED_DESCRIPTIONS[second]}) gives {n(other)} "
            f"({other / records:.1%}).")


def outcomes_title(overall: pd.Series) -> str:
    """The shares of all detainers that ended in ICE custody and that were declined."""
    return (f"{overall.get(BOOKED, 0):.0%} of detainers ended with ICE taking custody; "
            f"{overall.get(DECLINED, 0):.0%} were declined by the agency holding the person")


def complete_or_all(declines: pd.DataFrame, partial: Container[int]) -> pd.DataFrame:
    """The complete fiscal years of `declines`, or all of them when none is complete."""
    complete = declines[[fy not in partial for fy in declines.fiscal_year]]
    return complete if len(complete) else declines


def peak_declines_title(basis: pd.DataFrame, definition: str, min_cell: int = 1) -> str:
    """The fiscal year (of `basis`) with the most declines under `definition`, and its rate;
    with one year, its declines."""
    column = f"declined_{definition}"
    peak = basis.sort_values([column, "fiscal_year"], ascending=[False, True]).iloc[0]
    if len(basis) == 1:
        return (f"{words.capital(definition)} definition: FY{int(peak.fiscal_year)}, "
                f"{words.count(peak[column], min_cell)} declined ({peak[f'rate_{definition}']:.1%} of its detainers)")
    return (f"{words.capital(definition)} definition: declines were highest in FY{int(peak.fiscal_year)} "
            f"at {words.count(peak[column], min_cell)} ({peak[f'rate_{definition}']:.1%} of that year's detainers)")


def declines_trend(basis: pd.DataFrame, years_shown: int, definition: str, min_cell: int = 1) -> str | None:
    """Declines in the first and last year of `basis` (complete years when it leaves some of the
    `years_shown` out); None for a single year."""
    if len(basis) < 2:
        return None
    column, rate = f"declined_{definition}", f"rate_{definition}"
    first, last = basis.iloc[0], basis.iloc[-1]
    n = lambda value: words.count(value, min_cell)  # noqa: E731 - local shorthand
    return (f"Under the {definition} definition, declines went from {n(first[column])} in FY{int(first.fiscal_year)} "
            f"({first[rate]:.1%} of detainers) to {n(last[column])} in FY{int(last.fiscal_year)} "
            f"({last[rate]:.1%})" + (", counting complete fiscal years only." if len(basis) < years_shown else "."))


def state_share_labels(states: pd.DataFrame, min_cell: int) -> dict[str, str]:
    """Each state's share of declines as its tile label; `<min_cell` where its declines are a small cell."""
    return {s: words.small_label(min_cell) if words.is_small(c, min_cell) else words.share(v)
            for s, v, c in zip(states.state, states.share_of_declines, states.declined, strict=True)}


def days_title(medians: dict[str, float]) -> str:
    """Median days to lift of declined and honoured detainers; without both, the slowest outcome."""
    if pd.notna(medians.get(BOOKED)) and pd.notna(medians.get(DECLINED)):
        return (f"Declined detainers were lifted after a median of {medians[DECLINED]:,.0f} days; "
                f"detainers ending in ICE custody after {medians[BOOKED]:,.0f}")
    if len(known := [k for k, v in medians.items() if pd.notna(v)]) == 1:
        return f"{known[0]}: lifted after a median of {medians[known[0]]:,.0f} days"
    label, value = max(((k, v) for k, v in medians.items() if pd.notna(v)), key=lambda kv: kv[1])
    return f"{label} took longest to lift: a median of {value:,.0f} days"


def top_facility_title(declining: pd.DataFrame, n: Callable[[float], str]) -> str:
    """The facility that recorded the most declines and its share; with one, that it recorded them all."""
    lead = declining.iloc[0]
    if len(declining) == 1:
        return f"All declined detainers were recorded at {lead.facility}: {n(lead.declined)}"
    return (f"{lead.facility} recorded the most declined detainers: {n(lead.declined)} "
            f"({lead.share_of_declines:.0%} of all declines)")


def top_rate_title(lead: pd.Series, eligible: int, least: int, n: Callable[[float], str]) -> str:
    """The facility with the highest decline rate among those with at least `least` detainers
    (`eligible` of them); with one, that it is the only one."""
    among = (f"the only facility with at least {least}" if eligible == 1
             else f"the highest rate among facilities with at least {least}")
    return f"{lead.facility} declined {lead.decline_rate:.0%} of its {n(lead.detainers)} detainers, {among}"


def conviction_title(with_conviction: pd.DataFrame, n: Callable[[float], str]) -> str:
    """The most common most serious conviction of declined detainers; with one category, that all had it."""
    lead, total = with_conviction.iloc[0], int(with_conviction.declined.sum())
    if len(with_conviction) == 1:
        return f"All {n(total)} declined detainers with a conviction recorded had {lead.category} as the most serious"
    return (f"{lead.category} was the most common most serious conviction among declined detainers: "
            f"{n(lead.declined)} of {n(total)} with a conviction recorded")


def hide_small_timing(timing: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Quartiles of days to lift left out where fewer than `min_cell` detainers have both dates."""
    for column in ("q1", "median", "q3"):
        timing = words.hide_small(timing, column, ["lifted"], min_cell)
    return timing


def _facility_labels(frame: pd.DataFrame) -> list[str]:
    return [f"{f} ({s})" for f, s in zip(frame.facility, frame.state, strict=True)]


def _shares(values: pd.Series) -> pd.Series:
    return values.map(lambda v: words.share(v, 1))


# ---------------------------------------------------------------- the section


class DetainerOutcomes:
    """Notebook 03's parts. Creating it stops the section in one sentence when the release has
    no lift reasons, or no detainers within the report's scope."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        ctx.require("detainers", [dm.LIFT_REASON],
                    why="the analysis of detainer outcomes (lift reasons are recorded only in detainer records, "
                        "not in encounters, arrests or removals)")
        # outcomes by year, lift reasons and declines by year and state are counted in DuckDB
        self.counts = ctx.data.counts("detainers", ["fiscal_year", "state", dm.LIFT_REASON])
        stop_if_empty(ctx, self.counts, "detainers")
        self.definition = ctx.params.declined_definition
        self.source = ctx.source("detainers")
        self.partial = ctx.data.partial_years("detainers")
        self.span = span(sorted(int(fy) for fy in self.counts.fiscal_year.unique()), self.partial)
        self.where = words.in_geography(ctx.params.state, ctx.params.aor, ctx.params.facility)
        self.min_cell = ctx.params.min_cell

    def counted(self, by: Sequence[str]) -> pd.DataFrame:
        """Detainers within the scope per lift reason and combination of `by` values, counted in DuckDB."""
        return self.ctx.data.counts("detainers", [dm.LIFT_REASON, *by])

    @cached_property
    def facilities(self) -> pd.DataFrame:
        """Per facility: its state, detainers, declines and decline rate (counted by facility, state
        and lift reason)."""
        return dm.facility_declines(self.counted(["facility", "state"]), self.definition)

    def n(self, value: float) -> str:
        return self.ctx.count(value)

    def declines(self, definition: str) -> int:
        """Detainers declined under `definition`, from the counts."""
        return int(self.counts["records"][dm.declined_mask(self.counts, definition)].sum())

    def _ranked_declines(self, labels: list[str], declined: list[int], *, name: str, title: str, subtitle: str,
                         caption: str, muted: Sequence[str] = ()) -> None:
        """Declined detainers per category as ranked bars, shown as figure `name`."""
        fig = charts.ranked_bars(labels, declined, min_cell=self.min_cell, muted=muted, title=title,
                                 subtitle=subtitle, x_label="Declined detainers", source=self.source)
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name=name, table="detainers", caption=caption)

    def introduction(self) -> None:
        self.ctx.say(introduction(int(self.counts["records"].sum()), self.declines(self.definition),
                                  self.declines(other_definition(self.definition)), self.definition,
                                  self.where, self.span, self.min_cell))

    def outcomes(self) -> None:
        buckets = dm.bucket_by_fiscal_year(self.counts)
        shares = buckets.pivot(index="fiscal_year", columns="label", values="share")[list(dict.fromkeys(buckets.label))]
        counts = buckets.pivot(index="fiscal_year", columns="label", values="count")[list(shares.columns)].astype(int)
        overall = counts.sum() / counts.values.sum()
        labels = words.fy_labels(shares.index, self.partial)
        fig = charts.stacked_shares(shares, self.partial, title=outcomes_title(overall),
                                    subtitle=f"Outcome of detainers prepared in each fiscal year, "
                                             f"{self.ctx.params.geography}",
                                    source=self.source, label_width=34)
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="outcomes-shares", table="detainers",
                             caption="Outcomes (grouped lift reasons) as shares of each fiscal year's detainers")
        table = counts.T.reset_index()
        table.columns = ["Outcome", *labels]
        table["All years"] = counts.sum().to_numpy()
        self.ctx.show_table(table, name="outcomes-counts", table="detainers",
                            caption="Detainers by outcome (grouped lift reason) and fiscal year of preparation",
                            counts=[*labels, "All years"])
        share_table = shares.T.reset_index()
        share_table.columns = ["Outcome", *labels]
        share_table["All years"] = overall.to_numpy()
        for column in [*labels, "All years"]:
            share_table[column] = _shares(share_table[column])
        self.ctx.show_table(share_table, name="outcomes-shares", table="detainers",
                            caption="Outcomes as shares of each fiscal year's detainers",
                            align_right=[*labels, "All years"])

    def lift_reasons(self) -> None:
        reasons = dm.lift_reason_counts(self.counts)
        shown = pd.DataFrame({"Lift reason as recorded": reasons.lift_reason, "Outcome": reasons.bucket.map(BUCKETS),
                              "Detainers": reasons["count"]})
        self.ctx.show_table(shown, name="lift-reasons", table="detainers",
                            caption=f"Lift reasons exactly as recorded, and the outcome each is grouped into, "
                                    f"{self.span}",
                            counts=["Detainers"])

    def declines_by_year(self) -> None:
        declines = dm.declined_by_fiscal_year(self.counts)
        basis = complete_or_all(declines, self.partial)
        fig = charts.fiscal_year_bars(
            list(declines.fiscal_year),
            {"strict: declined by LEA": list(declines.declined_strict),
             "broad: declined, insufficient notice or early release": list(declines.declined_broad)},
            self.partial, title=peak_declines_title(basis, self.definition, self.min_cell),
            subtitle=f"Declined detainers by fiscal year of preparation, {self.ctx.params.geography}",
            y_label="Declined detainers", source=self.source, min_cell=self.min_cell,
            note="hatched: partial fiscal year" if self.partial.any_of(declines.fiscal_year) else None,
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="declined-by-fiscal-year", table="detainers",
                             caption="Declined detainers per fiscal year under the strict and the broad definition")
        shown = pd.DataFrame({
            "Fiscal year": words.fy_labels(declines.fiscal_year, self.partial), "Detainers": declines.detainers,
            "Declined (strict)": declines.declined_strict, "Share (strict)": _shares(declines.rate_strict),
            "Declined (broad)": declines.declined_broad, "Share (broad)": _shares(declines.rate_broad),
        })
        self.ctx.show_table(shown, name="declined-by-fiscal-year", table="detainers",
                            caption=f"Declined detainers by fiscal year. Strict: {DECLINED_DESCRIPTIONS['strict']}. "
                                    f"Broad: {DECLINED_DESCRIPTIONS['broad']}",
                            counts=["Detainers", "Declined (strict)", "Declined (broad)"],
                            align_right=["Share (strict)", "Share (broad)"])
        trend = declines_trend(basis, len(declines), self.definition, self.min_cell)
        if trend:
            self.ctx.say(trend)

    def declines_by_state(self) -> None:
        definition, params = self.definition, self.ctx.params
        state_declines = dm.state_decline_shares(self.counts, definition)
        with_declines = state_declines[state_declines.declined > 0]
        if with_declines.empty:
            self.ctx.say(f"No detainer in {self.where} was declined under the {definition} definition, {self.span}.")
        elif params.state:
            row = with_declines.iloc[0]
            self.ctx.say(f"The report is limited to {params.geography}, so states are not compared: "
                         f"{self.n(row.declined)} of its {self.n(row.detainers)} detainers ({row.decline_rate:.1%}) "
                         f"were declined under the {definition} definition.")
        else:
            lead = with_declines.iloc[0]
            fig = charts.tile_map(
                dict(zip(with_declines.state, with_declines.share_of_declines, strict=True)), value_format="share",
                labels=state_share_labels(with_declines, self.min_cell),
                title=f"{lead['name']} accounted for {lead.share_of_declines:.0%} of declined detainers "
                      f"({definition} definition)",
                subtitle=f"Each state's share of all declined detainers, {self.span}; grey: none recorded",
                legend_label="Share of all declined detainers", source=self.source,
            )
            self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="declines-by-state", table="detainers",
                                 caption=f"Each state's share of declined detainers ({definition} definition)")
        top = with_declines.head(10)
        shown = pd.DataFrame({"State": top["name"], "Declined": top.declined,
                              "Share of all declines": _shares(top.share_of_declines),
                              "Detainers": top.detainers, "Decline rate": _shares(top.decline_rate)})
        if len(shown) and not params.state:
            self.ctx.show_table(shown, name="declines-by-state", table="detainers",
                                caption=f"States with the most declined detainers ({definition} definition), their "
                                        "share of all declines, and the share of their own detainers declined",
                                counts=["Declined", "Detainers"], align_right=["Share of all declines", "Decline rate"])

    def facilities_with_most_declines(self) -> None:
        definition = self.definition
        if lacks(self.ctx, "detainers", ["facility"], "declines and decline rates by facility are not shown"):
            return
        declining = self.facilities[self.facilities.declined > 0]
        if declining.empty:
            self.ctx.say(f"No facility recorded a declined detainer under the {definition} definition.")
            return
        top = declining.head(TOP_FACILITIES)
        self._ranked_declines(
            _facility_labels(top), list(top.declined), name="declines-top-facilities",
            title=top_facility_title(declining, self.n),
            subtitle=f"Declined detainers ({definition} definition) by facility (state), the {len(top)} with the most, "
                     f"{self.span}",
            caption=f"The {len(top)} facilities with the most declined detainers ({definition} definition)",
        )
        shown = pd.DataFrame({"Facility": top.facility, "State": top.state, "Declined": top.declined,
                              "Detainers": top.detainers, "Decline rate": _shares(top.decline_rate),
                              "Share of all declines": _shares(top.share_of_declines)})
        self.ctx.show_table(shown, name="declines-top-facilities", table="detainers",
                            caption=f"Facilities with the most declined detainers ({definition} definition)",
                            counts=["Declined", "Detainers"], align_right=["Decline rate", "Share of all declines"])

    def facility_decline_rates(self) -> None:
        definition, least = self.definition, dm.MIN_FACILITY_DETAINERS
        if not self.ctx.has("detainers", ["facility"]):
            return  # said by facilities_with_most_declines
        by_rate = dm.facilities_by_decline_rate(self.facilities, least)
        eligible = len(by_rate)
        by_rate = by_rate[by_rate.declined > 0].head(TOP_FACILITIES)
        if by_rate.empty:
            self.ctx.say(f"No facility that received at least {least} detainers recorded a declined detainer "
                         f"({eligible} facilities reached that volume), so decline rates are not ranked.")
            return
        lead = by_rate.iloc[0]
        self.ctx.say(f"Decline rates are ranked for the {eligible} facilities that received at least **{least} "
                     f"detainers** in {self.span}, out of {self.n(len(self.facilities))} facilities.")
        fig = charts.ranked_bars(
            _facility_labels(by_rate), list(by_rate.decline_rate), value_format="share",
            value_labels=[f"{words.share(r, 1)} of {self.n(d)}"
                          for r, d in zip(by_rate.decline_rate, by_rate.detainers, strict=True)],
            title=top_rate_title(lead, eligible, least, self.n),
            subtitle=f"Decline rate ({definition} definition): declined / detainers received, {self.span}",
            x_label="Share of the facility's detainers declined", source=self.source,
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="declines-facility-rates", table="detainers",
                             caption=f"Facilities with the highest decline rates, among those that received at least "
                                     f"{least} detainers ({definition} definition)")
        shown = pd.DataFrame({"Facility": by_rate.facility, "State": by_rate.state,
                              "Decline rate": _shares(by_rate.decline_rate),
                              "Declined": by_rate.declined, "Detainers": by_rate.detainers})
        self.ctx.show_table(shown, name="declines-facility-rates", table="detainers",
                            caption=f"Facilities with the highest decline rates (at least {least} detainers; "
                                    f"{definition} definition)", counts=["Declined", "Detainers"],
                            align_right=["Decline rate"])

    def criminality_of_declined(self) -> None:
        definition = self.definition
        declined_count = self.declines(definition)
        counts = self.ctx.data.counts("detainers", [dm.LIFT_REASON, "criminality"])
        stop_if_empty(self.ctx, counts[dm.declined_mask(counts, definition)], f"declined detainers ({definition} definition)")
        criminality = dm.criminality_of_declined(counts, definition)
        shown = criminality.assign(share=_shares(criminality.share)).rename(
            columns={"category": "Criminality", "declined": "Declined detainers", "share": "Share"})
        self.ctx.show_table(shown, name="declined-criminality", table="detainers",
                            caption=f"Criminality category of declined detainers ({definition} definition), {self.span}",
                            counts=["Declined detainers"], align_right=["Share"])
        convicted = criminality.loc[criminality.category == "Convicted criminal", "declined"].sum()
        self.ctx.say(f"Of the {self.n(declined_count)} declined detainers, {self.n(convicted)} "
                     f"({convicted / declined_count:.0%}) concerned people ICE recorded as convicted criminals when "
                     "the detainer was prepared.")

    def convictions_of_declined(self) -> None:
        definition = self.definition
        if lacks(self.ctx, "detainers", ["msc_charge"], "the most serious convictions of declined detainers are not shown"):
            return
        # one row per distinct lift reason, charge and code: the mapping runs once for each
        charges = self.counted([c for c in CHARGE_COLUMNS if self.ctx.has("detainers", [c])])
        rules = convictions.load_rules()
        msc = dm.convictions_of_declined(charges, definition, rules)
        with_conviction = msc[msc.category != convictions.NONE_RECORDED]
        none_recorded = int(msc.loc[msc.category == convictions.NONE_RECORDED, "declined"].sum())
        if len(with_conviction):
            self._ranked_declines(
                list(with_conviction.category), list(with_conviction.declined), name="declined-convictions",
                muted=[convictions.NOT_MAPPED],
                title=conviction_title(with_conviction, self.n),
                subtitle=f"Most serious conviction category, declined detainers ({definition} definition), "
                         f"{self.span}; {self.n(none_recorded)} without a conviction not shown",
                caption=f"Most serious conviction categories of declined detainers ({definition} definition)",
            )
        shown = msc.assign(share=_shares(msc.share)).rename(
            columns={"category": "Most serious conviction", "declined": "Declined detainers", "share": "Share"})
        self.ctx.show_table(shown, name="declined-convictions", table="detainers",
                            caption=f"Most serious conviction category of declined detainers ({definition} "
                                    f"definition), {self.span}",
                            counts=["Declined detainers"], align_right=["Share"])
        unmapped = convictions.unmapped_charges(charges["msc_charge"], charges.get("msc_charge_code"), rules,
                                                records=charges["records"])
        if len(unmapped):
            self.ctx.say(f"{len(unmapped)} distinct {words.plural(len(unmapped), 'charge')} (text and code) in these "
                         "detainer records match no rule of the mapping; they are shown as *Other / not mapped*.")
        else:
            self.ctx.say("Every most-serious-conviction charge in these detainer records matches a rule of the mapping.")

    def days_to_lift(self) -> None:
        if lacks(self.ctx, "detainers", [dm.PREPARE_DATE, dm.LIFT_DATE], "days from detainer to lift are not shown"):
            return
        days = dm.days_to_lift_counts(self.ctx.data)
        timing = hide_small_timing(dm.days_to_lift_by_bucket(days), self.min_cell)
        groups = dm.days_to_lift_groups(days, min_records=self.min_cell)
        if not groups:
            self.ctx.say("No detainer in these records has both a prepare date and a lift date.")
        else:
            fig = charts.box_by_group(
                groups, title=days_title(dict(zip(timing["label"], timing["median"], strict=True))),
                min_cell=self.min_cell,
                subtitle=f"Days from prepare date to lift date by outcome, {self.span}; box: middle half, "
                         "whiskers: 5th to 95th percentile",
                x_label="Days from prepare date to lift date", source=self.source)
            self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="days-to-lift", table="detainers",
                                 caption="Days from prepare date to lift date by outcome (box: quartiles; whiskers: "
                                         "5th and 95th percentiles)")
        shown = pd.DataFrame({"Outcome": timing["label"], "Detainers with both dates": timing["lifted"],
                              "First quartile (days)": timing["q1"].map(words.number),
                              "Median (days)": timing["median"].map(words.number),
                              "Third quartile (days)": timing["q3"].map(words.number)})
        self.ctx.show_table(shown, name="days-to-lift", table="detainers",
                            caption="Days from prepare date to lift date by outcome: quartiles",
                            counts=["Detainers with both dates"],
                            align_right=["First quartile (days)", "Median (days)", "Third quartile (days)"])
        negative = int(timing.negative.sum())
        if negative:
            self.ctx.say(f"{self.n(negative)} detainers have a lift date before their prepare date; they are left "
                         "out of these figures.")

"""Detainers issued (notebook 02): how many, when and where, to whom, on which form.

A release without detainer records is counted from its encounters that ended in a detainer,
a different measure named as such in every title, caption and sentence. The rules that choose
titles and sentences are the module's functions; `DetainersIssued` draws the section's parts
in the order the notebook calls them.
"""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.figures import charts
from analysis.metrics import detainers as dm
from analysis.release import Scope
from analysis.report.context import ReportContext
from analysis.sections.common import lacks, stop_if_empty
from analysis.vocab.definitions import DETAINER_DISPOSITION

STEADY = 0.05  # a change of the monthly average within 5% either way "held steady"
TOP_FACILITIES = 15


# ---------------------------------------------------------------- rules


def encounters_out_of_scope(scope: Scope) -> str:
    """Why the section stops when only encounters count detainers and they cannot be limited to the scope."""
    return (f"This release has no detainers table, and its encounters table has no {scope.geography_column} column, "
            f"so encounters ending in a detainer cannot be limited to {scope.geography} and this section is skipped "
            "rather than show national numbers.")


def introduction(measure: dm.DetainerMeasure, records: str, where: str, span: str) -> str:
    """What is counted: `records` (a count, as text) of the measure in `where` over `span`."""
    if measure.from_encounters:
        return ("**This release has no detainers table.** In its place this section counts **encounters ending in a "
                "detainer**: records of the encounters table whose processing disposition is `Detainer`, "
                f"{records} of them in {where}, {span}. This is a different measure from detainers "
                "prepared, and no number in this section is a count of detainers prepared: each encounter record carries "
                "the one disposition ICE entered for it, and a detainer is counted here only when that disposition is "
                "`Detainer`. As the release's README notes, TRAC counts detainers prepared from a different ICE extract "
                "and reports other numbers for the same years; the two measures are not expected to agree, and this "
                "report does not force them to. Encounters record an area of responsibility but no state, facility, "
                "criminality or detainer type, so only the counts by month, fiscal year and area of responsibility "
                "can be shown.")
    return (f"The release holds **{records} detainers prepared** in {where}, {span}. "
            "Each is counted in the month and fiscal year of its prepare date and at the facility it was sent to.")


def partial_note(partial_years: list[int], coverage: dict) -> str | None:
    """The sentence naming each partial year with the dates its records span, or None."""
    if not partial_years:
        return None
    spans = "; ".join(f"FY{fy} is a partial year (records from {coverage[str(fy)]['first']} to "
                      f"{coverage[str(fy)]['last']})" for fy in partial_years)
    return spans + ": its totals are not comparable with full years, so tables label it and figures hatch it."


def monthly_title(noun: str, change: tuple[float, float] | None, busiest: pd.Series, min_cell: int = 1,
                  months: int = 2) -> str:
    """The monthly figure's finding: the average per month of the first and last 12 months
    "rose", "fell" or "held steady" (within 5%); without two such windows, the busiest month
    (of `months` shown; with one month, just its count)."""
    noun, n = words.capital(noun), lambda value: words.count(value, min_cell)
    if months == 1:
        return f"{noun}: {n(busiest['count'])} in {busiest.month:%B %Y}"
    if change is None:
        return f"{noun} peaked in {busiest.month:%B %Y} at {n(busiest['count'])}"
    first, last = change
    if last > first * (1 + STEADY):
        return f"{noun} rose from {n(first)} a month in the first 12 months to {n(last)} a month in the last 12"
    if last < first * (1 - STEADY):
        return f"{noun} fell from {n(first)} a month in the first 12 months to {n(last)} a month in the last 12"
    return f"{noun} held steady at about {n(last)} a month ({n(first)} in the first 12 months)"


def busiest_month(monthly: pd.DataFrame) -> pd.Series:
    """The month with the most records (the earliest of a tie)."""
    return monthly.sort_values(["count", "month"], ascending=[False, True]).iloc[0]


def peak_year_title(totals: pd.DataFrame, noun: str, min_cell: int = 1) -> str:
    """The fiscal year with the most records, among complete years when there is one; with one
    fiscal year, its count."""
    if len(totals) == 1:
        only = totals.iloc[0]
        return f"{only.label}: {words.count(only['count'], min_cell)} {noun}"
    complete = totals[~totals.partial] if (~totals.partial).any() else totals
    peak = complete.sort_values(["count", "fiscal_year"], ascending=[False, True]).iloc[0]
    which = " of any complete fiscal year" if (~totals.partial).any() else ""
    return f"{peak.label} had the most {noun}{which}: {words.count(peak['count'], min_cell)}"


def states_title(on_map: pd.DataFrame, noun: str) -> str:
    """The two states that received the most, and their share (one state: all of them)."""
    if len(on_map) >= 2:
        return f"{on_map.name.iloc[0]} and {on_map.name.iloc[1]} received {on_map.share.iloc[:2].sum():.0%} of {noun}"
    return f"All {noun} on the map were in {on_map.name.iloc[0]}"


def facilities_title(facilities: pd.DataFrame, top: pd.DataFrame, noun: str, min_cell: int = 1) -> str:
    """The facility that received the most, and what the top ones (or it) received of all; with
    one facility, that it received them all."""
    lead = top.iloc[0]
    if len(facilities) == 1:
        return f"All {noun} went to {lead.facility}: {words.count(lead['count'], min_cell)}"
    rest = (f"; the top {len(top)} of {words.count(len(facilities), min_cell)} facilities received {top.share.sum():.0%}"
            if len(facilities) > len(top) else f" ({lead.share:.0%} of the total; {len(facilities)} facilities in all)")
    return f"{lead.facility} received the most {noun}: {words.count(lead['count'], min_cell)}{rest}"


def aor_title(aors: pd.DataFrame, noun: str, min_cell: int = 1) -> str:
    """The area of responsibility with the most records, and its share; with one, that it had them all."""
    lead, n = aors.iloc[0], words.count(aors["count"].iloc[0], min_cell)
    if len(aors) == 1:
        return f"All {noun} were in the {lead.aor} area of responsibility: {n}"
    return f"The {lead.aor} area of responsibility had the most {noun}: {n} ({lead.share:.0%})"


def criminality_title(shares: pd.DataFrame, labels: list[str], noun: str) -> str:
    """The share of convicted criminals (or the first category) in the first and last year."""
    lead = "Convicted criminal" if "Convicted criminal" in shares else shares.columns[0]
    name = "Convicted criminals" if lead == "Convicted criminal" else lead
    if len(shares) > 1:
        return (f"{name} were {shares[lead].iloc[0]:.0%} of {noun} in {labels[0]} and {shares[lead].iloc[-1]:.0%} "
                f"in {labels[-1]}")
    return f"{name} were {shares[lead].iloc[0]:.0%} of {noun} in {labels[0]}"


def form_legend(detainer_types: list[str]) -> str:
    """`I-247A = Immigration Detainer - Notice of Action (I-247A); ...` for the forms a table abbreviates."""
    return "; ".join(f"{dm.form_name(t)} = {t}" for t in detainer_types if dm.form_name(t) != t)


# ---------------------------------------------------------------- the section


def issued_measure(ctx: ReportContext) -> dm.DetainerMeasure:
    """Detainers prepared if the release has them; else encounters ending in a detainer, if they
    can be limited to the report's geography; else the section stops with one sentence."""
    measure = dm.detainer_measure(ctx.data, dated=True)
    if measure is None or not measure.from_encounters:
        ctx.require("detainers", [dm.PREPARE_DATE], why="the analysis of detainers issued")
        return dm.DETAINERS_PREPARED
    if not ctx.data.can_scope(measure.table):
        ctx.skip(encounters_out_of_scope(ctx.params.scope))
    return measure



class DetainersIssued:
    """Notebook 02's parts. Creating it chooses what is counted, loads it, and stops the
    section in one sentence when nothing can be counted."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.measure = issued_measure(ctx)
        # counted in DuckDB by fiscal year and month: the totals, the monthly series and the introduction
        self.monthly_counts = self.measure.counts(ctx.data, ["fiscal_year", self.measure.date_column],
                                                  months=[self.measure.date_column])
        stop_if_empty(ctx, self.monthly_counts, self.measure.noun)
        self.noun, self.Noun = self.measure.noun, words.capital(self.measure.noun)
        self.source_table = (f"table {self.measure.table}, processing disposition '{DETAINER_DISPOSITION}'"
                             if self.measure.from_encounters else self.measure.table)
        self.source = ctx.source(self.source_table)
        self.partial = ctx.data.partial_years(self.measure.table)
        self.totals = dm.fiscal_year_totals(self.monthly_counts, self.partial, self.measure.date_column)
        self.span = words.fy_span(list(self.totals.label))
        self.min_cell = ctx.params.min_cell

    def n(self, value: float) -> str:
        return self.ctx.count(value)

    def counts(self, column: str) -> pd.DataFrame:
        """Records per fiscal year and value of `column`, counted in DuckDB."""
        return self.measure.counts(self.ctx.data, ["fiscal_year", column])

    @property
    def geography(self) -> str:
        return self.ctx.params.geography

    @property
    def any_partial(self) -> bool:
        return bool(self.totals.partial.any())

    def introduction(self) -> None:
        where = words.in_geography(self.ctx.params.state, self.ctx.params.aor, self.ctx.params.facility)
        self.ctx.say(introduction(self.measure, self.n(self.monthly_counts["records"].sum()), where, self.span))
        coverage = self.ctx.manifest["tables"][self.measure.table].get("fiscal_year_coverage", {})
        note = partial_note(list(self.totals.loc[self.totals.partial, "fiscal_year"]), coverage)
        if note:
            self.ctx.say(note)

    def by_month(self) -> None:
        monthly, left_out = self.ctx.data.partial_months(self.measure.table).leave_out(
            dm.monthly_counts(self.monthly_counts, self.measure.date_column))
        busiest = busiest_month(monthly)
        fig = charts.monthly_series(
            monthly, title=monthly_title(self.noun, dm.monthly_change(monthly), busiest, self.min_cell, len(monthly)),
            subtitle=f"{self.Noun} per calendar month, {self.geography}, {self.span}",
            y_label=f"{self.Noun} per month", series_label=self.noun, source=self.source,
            partial=self.partial.within(self.totals.fiscal_year),
        )
        hatched = "; hatched months belong to a partial fiscal year" if self.any_partial else ""
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-by-month", table=self.source_table,
                             caption=words.with_note(f"{self.Noun} per calendar month{hatched}", left_out))
        self.ctx.say(f"The busiest month was {busiest.month:%B %Y}, with {self.n(busiest['count'])} {self.noun}.")

    def by_fiscal_year(self) -> None:
        totals, Noun = self.totals, self.Noun
        fig = charts.fiscal_year_bars(
            list(totals.fiscal_year), {Noun: list(totals["count"])}, self.partial,
            title=peak_year_title(totals, self.noun, self.min_cell), subtitle=f"{Noun} per fiscal year, {self.geography}",
            y_label=Noun, source=self.source, min_cell=self.min_cell,
            note="hatched: partial fiscal year" if self.any_partial else None,
        )
        hatched = "; hatched bars are partial fiscal years" if self.any_partial else ""
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-by-fiscal-year", table=self.source_table,
                             caption=f"{Noun} per fiscal year{hatched}")
        shown = totals[["label", "count", "months", "per_month"]].rename(columns={
            "label": "Fiscal year", "count": Noun, "months": "Months with records", "per_month": "Average per month"})
        self.ctx.show_table(shown, name="issued-by-fiscal-year", table=self.source_table,
                            caption=f"{Noun} per fiscal year, with the months each year's records span and the average "
                                    "per month",
                            counts=[Noun, "Average per month"], align_right=["Months with records"])

    def by_aor(self) -> None:
        if self.ctx.params.aor:
            self.ctx.say(f"The report is limited to the {self.ctx.params.aor} area of responsibility, so {self.noun} "
                         "are not compared across areas of responsibility.")
            return
        aors = dm.aor_counts(self.counts("aor"))
        fig = charts.ranked_bars(
            list(aors["aor"]), list(aors["count"]), min_cell=self.min_cell, muted=[dm.NOT_RECORDED],
            title=aor_title(aors, self.noun, self.min_cell),
            subtitle=f"{self.Noun} by ICE area of responsibility, {self.geography}, {self.span}",
            x_label=self.Noun, source=self.source,
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-by-aor", table=self.source_table,
                             caption=f"{self.Noun} by ICE area of responsibility")
        shown = aors.assign(share=aors.share.map(words.share)).rename(
            columns={"aor": "Area of responsibility", "count": self.Noun, "share": "Share"})
        self.ctx.show_table(shown, name="issued-by-aor", table=self.source_table,
                            caption=f"{self.Noun} by ICE area of responsibility, {self.span}", counts=[self.Noun],
                            align_right=["Share"])

    def require_detainer_records(self) -> None:
        """The rest of the section needs detainer records: encounters stop it here."""
        if self.measure.from_encounters:
            self.ctx.require("detainers", ["state"], why="the breakdown by state, facility, criminality and detainer "
                             "type (encounters record none of these)")

    def by_state(self) -> None:
        states = dm.state_counts(self.counts("state"))
        on_map = states[states.on_map & (states["count"] > 0)]
        if self.ctx.params.state:
            self.ctx.say(f"The report is limited to {self.geography}, so the map of states is not shown.")
        else:
            fig = charts.tile_map(
                dict(zip(on_map.state, on_map["count"], strict=True)),
                labels={s: self.n(c) for s, c in zip(on_map.state, on_map["count"], strict=True)},
                title=states_title(on_map, self.noun),
                subtitle=f"{self.Noun} by state of the receiving facility, {self.span}; grey: none",
                legend_label=f"{self.Noun} (number)", source=self.source,
            )
            self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-by-state", table="detainers",
                                 caption=f"{self.Noun} by state of the receiving facility (tile map: one equal tile "
                                         "per state and DC)")
            off_map = states[~states.on_map]
            if len(off_map):
                self.ctx.say(f"{self.n(off_map['count'].sum())} {self.noun} are recorded in places the map does not "
                             f"show ({self.ctx.text(', '.join(off_map.state))}).")
            top_states = states[states["count"] > 0].head(10)
            shown = top_states.assign(share=top_states.share.map(words.share))[["name", "state", "count", "share"]]
            shown.columns = ["State", "Code", self.Noun, "Share"]
            self.ctx.show_table(shown, name="issued-top-states", table="detainers",
                                caption=f"The {len(shown)} states that received the most {self.noun}, {self.span}",
                                counts=[self.Noun], align_right=["Share"])

    def top_facilities(self) -> None:
        if lacks(self.ctx, self.measure.table, ["facility"], f"{self.noun} by facility are not shown"):
            return
        facilities = dm.facility_counts(self.measure.counts(self.ctx.data, ["facility", "state"]))
        top = facilities.head(TOP_FACILITIES)
        labels = [f"{f} ({s})" for f, s in zip(top.facility, top.state, strict=True)]
        fig = charts.ranked_bars(
            labels, list(top["count"]), min_cell=self.min_cell,
            muted=[label for label, f in zip(labels, top.facility, strict=True) if f == dm.NOT_RECORDED],
            title=facilities_title(facilities, top, self.noun, self.min_cell),
            subtitle=f"{self.Noun} by receiving facility (state), the {len(top)} with the most, {self.span}",
            x_label=self.Noun, source=self.source,
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-top-facilities", table="detainers",
                             caption=f"The {len(top)} facilities that received the most {self.noun}")
        shown = facilities.head(20).assign(share=lambda f: f.share.map(lambda v: words.share(v, 1)))
        shown = shown.rename(columns={"facility": "Facility", "state": "State", "count": self.Noun, "share": "Share"})
        self.ctx.show_table(shown, name="issued-top-facilities", table="detainers",
                            caption=f"The {len(shown)} facilities that received the most {self.noun}, of "
                                    f"{self.n(len(facilities))} facilities, {self.span}",
                            counts=[self.Noun], align_right=["Share"])

    def _shares_by_year(self, long: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
        """Shares and counts (fiscal years as rows) of a `shares_by_fiscal_year` frame, and the year labels."""
        shares = dm.wide_shares(long)
        return shares, dm.wide_shares(long, "count").astype(int), words.fy_labels(shares.index, self.partial)

    def _counts_table(self, counts: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
        shown = counts.assign(Total=counts.sum(axis=1)).reset_index(drop=True)
        shown.insert(0, "Fiscal year", labels)
        return shown

    def criminality(self) -> None:
        shares, counts, labels = self._shares_by_year(dm.criminality_shares(self.counts("criminality")))
        fig = charts.stacked_shares(
            shares, self.partial, title=criminality_title(shares, labels, self.noun),
            subtitle=f"Criminality category at the time the detainer was prepared, {self.geography}", source=self.source,
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-criminality-shares", table="detainers",
                             caption=f"Criminality categories as shares of each fiscal year's {self.noun}")
        shown = self._counts_table(counts, labels)
        self.ctx.show_table(shown, name="issued-criminality", table="detainers",
                            caption=f"{self.Noun} by criminality category and fiscal year",
                            counts=[c for c in shown.columns if c != "Fiscal year"], total="Total")

    def detainer_types(self) -> None:
        shares, counts, labels = self._shares_by_year(dm.shares_by_fiscal_year(self.counts("detainer_type"), "detainer_type"))
        lead = dm.ranked_counts(self.counts("detainer_type"), "detainer_type").iloc[0]
        fig = charts.stacked_shares(
            shares, self.partial,
            title=f"Form {dm.form_name(lead.detainer_type)} made up {lead.share:.0%} of {self.noun}, {self.span}",
            subtitle=f"Detainer type (ICE form), {self.geography}", source=self.source,
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="issued-type-shares", table="detainers",
                             caption=f"Detainer types as shares of each fiscal year's {self.noun}")
        shown = counts.assign(Total=counts.sum(axis=1)).reset_index(drop=True)
        shown.columns = [dm.form_name(c) for c in shown.columns]
        shown.insert(0, "Fiscal year", labels)
        self.ctx.show_table(shown, name="issued-types", table="detainers",
                            caption=f"{self.Noun} by detainer type (ICE form: {form_legend(list(counts.columns))}) and "
                                    "fiscal year",
                            counts=[c for c in shown.columns if c != "Fiscal year"], total="Total")

"""Enforcement context (notebook 05): arrests, encounters and removals, and arrests in local
jails set beside detainers in each area of responsibility.

A part whose table is absent, or cannot be limited to the report's geography, says so in one
sentence and the section goes on. The rules that choose titles and sentences are the module's
functions; `EnforcementContext` draws the section's parts in the order the notebook calls them.
"""

from __future__ import annotations

from collections.abc import Container

import pandas as pd

from analysis import words
from analysis.figures import categories
from analysis.metrics import detainers as dm
from analysis.metrics import enforcement as em
from analysis.release import Release
from analysis.report.context import ReportContext
from analysis.vocab.definitions import ends_in_detainer, is_detainer_disposition

TABLES = ("arrests", "encounters", "removals")
OTHER_METHODS = "All other methods"


# ---------------------------------------------------------------- rules


def part_skip_reason(release: Release, table: str, what: str) -> str | None:
    """The one sentence saying why a part about `table` is not shown, or None if it can be:
    the table is absent, or it cannot be limited to the release's scope (never shown for the
    whole country instead)."""
    if not release.has(table):
        return f"This release has no {table} table, so {what} is not shown."
    if not release.can_scope(table):
        return (f"The {table} table has no {release.scope.geography_column} column, so {what} cannot be limited to "
                f"{release.scope.geography} and is not shown.")
    return None


def change_finding(by_year: pd.DataFrame, count_column: str, noun: str, partial: Container[int],
                   min_cell: int = 1) -> str:
    """A title sentence: the change between the last two complete fiscal years, or the total
    of the one complete year (or of all years, when every year is partial)."""
    complete = em.complete_years(by_year, partial)
    if len(complete) >= 2:
        (fy0, n0), (fy1, n1) = complete[["fiscal_year", count_column]].tail(2).itertuples(index=False, name=None)
        verb = "rose" if n1 > n0 else ("fell" if n1 < n0 else "held steady")
        amount = f" {abs(n1 - n0) / n0:.0%}" if n1 != n0 and n0 >= min_cell and n1 >= min_cell else ""
        return (f"{words.capital(noun)} {verb}{amount} from FY{fy0} to FY{fy1} "
                f"({words.count(n0, min_cell)} to {words.count(n1, min_cell)})")
    if len(complete) == 1:
        fy, n = (int(v) for v in complete[["fiscal_year", count_column]].iloc[0])
        return f"{words.count(n, min_cell)} {noun} in FY{fy}, the only complete fiscal year shown"
    return f"{words.count(int(by_year[count_column].sum()), min_cell)} {noun} in the partial fiscal years shown"


def jail_share_finding(shares: pd.DataFrame, partial: Container[int]) -> str:
    """The local-jail and 287(g) shares of arrests: first and last complete fiscal years (all
    years together when fewer than two are complete)."""
    complete = em.complete_years(shares, partial)
    if len(complete) >= 2:
        first, last = complete.iloc[0], complete.iloc[-1]
        g_first, g_last = f"{first['program_287g_share']:.0%}", f"{last['program_287g_share']:.0%}"
        return (f"Local jails made {first['local_jail_share']:.0%} of arrests in FY{int(first['fiscal_year'])} and "
                f"{last['local_jail_share']:.0%} in FY{int(last['fiscal_year'])}; 287(g) "
                + (f"{g_first} in both" if g_first == g_last else f"{g_first} and {g_last}"))
    total = shares["arrests"].sum()
    return (f"Local jails made {shares['local_jail'].sum() / total:.0%} of arrests; "
            f"287(g) {shares['program_287g'].sum() / total:.0%}")


def disposition_finding(dispositions: pd.Series, records: pd.Series | None = None) -> str:
    """The most frequent disposition's share of encounters, and the share ending in a detainer.
    `records`: how many encounters each value stands for (one each by default)."""
    weights = pd.Series(1, index=dispositions.index, dtype="int64") if records is None else records
    stripped = dispositions.astype("string").str.strip()
    labels = stripped.mask(stripped == "")
    total = int(weights.sum())
    counts = weights.groupby(labels.to_numpy()).sum()
    top, top_count = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0]
    finding = f"{top_count / total:.0%} of encounters ended in '{top}'"
    if not is_detainer_disposition(top):
        finding += f", {int(weights[ends_in_detainer(labels).to_numpy()].sum()) / total:.0%} in a detainer"
    return finding


def busiest_aor_finding(by_aor: pd.DataFrame, min_cell: int = 1) -> str:
    """`Houston recorded the most arrests (26,461), 30% of them in local jails`."""
    named = by_aor[by_aor["aor"] != em.NOT_RECORDED]
    top = named.iloc[0]
    return (f"{top['aor']} recorded the most arrests ({words.count(top['arrests'], min_cell)}), "
            f"{top['local_jail_share']:.0%} of them in local jails")


def ratio_range_finding(cooperation: pd.DataFrame, measure: str) -> str | None:
    """`Local-jail arrests per detainer ranged from 0.2 (Miami) to 1.4 (Dallas)`, over AORs
    with at least one detainer; None when fewer than two such AORs."""
    rated = cooperation.dropna(subset=["arrests_per_detainer"]).sort_values(["arrests_per_detainer", "aor"])
    if len(rated) < 2:
        return None
    low, high = rated.iloc[0], rated.iloc[-1]
    return (f"Local-jail arrests per {measure} ranged from {low['arrests_per_detainer']:.2f} ({low['aor']}) "
            f"to {high['arrests_per_detainer']:.2f} ({high['aor']})")


def years_list(by_year: pd.DataFrame, min_cell: int = 1, column: str = "records") -> str:
    """`110,104 in FY2016, 143,470 in FY2017`."""
    return ", ".join(f"{words.count(n, min_cell)} in FY{fy}"
                     for fy, n in zip(by_year["fiscal_year"], by_year[column], strict=True))


def arrests_introduction(records: str, place: str, years: str, labels: int) -> str:
    """How many arrests, and what the apprehension method says (and that its labels were recoded)."""
    return (f"ICE ERO recorded **{records} administrative arrests** in {place} ({years}). The apprehension method says "
            "where or how an arrest was made: 'CAP Local Incarceration' is an arrest of a person ICE identified in a "
            "county or city jail (Criminal Alien Program), '287(g) Program' one made through a local agency whose "
            "officers act under a 287(g) agreement. "
            f"ICE recoded method labels over time ({labels:,} different labels appear here), so a method that appears "
            "or vanishes between years or releases may be a relabelling, not a change in practice.")


def removals_basis(dated_by: str | None, has_aor: bool) -> str:
    """How the removals are counted, for the sentence after their total: by the fiscal year of
    the removal date, or of the date that stands in for it (`departed_date`), and by AOR."""
    if dated_by in (None, "removal_date"):
        when = "the fiscal year of removal"
    else:
        when = f"the fiscal year of their {dated_by.replace('_', ' ')} (the release has no removal date)"
    if has_aor:
        return f"counted by {when} and the area of responsibility ICE recorded."
    return f"counted by {when}; the table records no area of responsibility."


def comparison_skip_reason(release: Release, measure: dm.DetainerMeasure | None) -> str | None:
    """Why local-jail arrests cannot be set beside detainers per area of responsibility, or None."""
    reason = part_skip_reason(release, "arrests", "this comparison")
    if reason:
        return reason
    if measure is None:
        return ("This release has neither a detainers table nor encounters with a processing disposition, so this "
                "comparison is not shown.")
    return part_skip_reason(release, measure.table, "this comparison")


def unplaced_sentence(arrests: int, measured: int, label: str, min_cell: int = 1) -> str:
    """What the comparison leaves out for lack of a place."""
    if arrests or measured:
        return (f"{words.count(arrests, min_cell)} local-jail arrests and {words.count(measured, min_cell)} {label} "
                "recorded without an area of responsibility, or under ICE headquarters units (HQ) rather than a place, "
                "are left out.")
    return f"Every local-jail arrest and every one of the {label} names an area of responsibility."


RATIO_NOTES = (
    "**What the ratio can say.** Where jails honour detainers, many detainers should end in an ICE arrest at the jail, "
    "so an area with few local-jail arrests per detainer is one where detainers less often turned into arrests in "
    "local jails: jails there may decline detainers or release people before ICE arrives.",
    "**What it cannot say.** It is not a measure of any one agency's cooperation. A local-jail arrest can happen "
    "without a detainer (a jail notifies ICE, or ICE interviews people held in the jail); a detainer can end in an "
    "arrest recorded under another method (287(g), a state or federal prison) or in a later fiscal year; many "
    "detainers are lifted for reasons that have nothing to do with the jail (a transfer, dropped charges, a closed "
    "case); and an area of responsibility spans many jails, and often several states, with different policies. "
    "A ratio above one only says that local-jail arrests outnumbered the detainers counted.",
)
ENCOUNTERS_NOTE = (
    "**Encounters ending in a detainer are not detainers prepared.** This release has no detainers table, so "
    "detainers are counted here as encounters whose processing disposition is 'Detainer'. Counts of detainers "
    "prepared from other ICE extracts (such as TRAC's) measure something else and should not be expected to agree."
)


def ratio_notes(measure: dm.DetainerMeasure) -> str:
    """What the ratio of local-jail arrests to detainers can and cannot say (and, counted from
    encounters, that they are not detainers prepared)."""
    notes = [*RATIO_NOTES, *([ENCOUNTERS_NOTE] if measure.from_encounters else [])]
    return "\n\n".join(f"- {note}" for note in notes)


# ---------------------------------------------------------------- the section


class EnforcementContext:
    """Notebook 05's parts. Creating it stops the section in one sentence when the release has
    none of the arrests, encounters and removals tables."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.min_cell = ctx.params.min_cell
        self.place = words.place(ctx.params.state, ctx.params.aor, ctx.params.facility)
        if not any(ctx.has(table) for table in TABLES):
            ctx.require("arrests", why="the enforcement context (arrests, encounters and removals)")

    def _skipped(self, table: str, what: str) -> bool:
        """Say why the part about `table` is not shown, if it is not."""
        reason = part_skip_reason(self.ctx.data, table, what)
        if reason:
            self.ctx.say(f"*{reason}*")
        return reason is not None

    def _years(self, by_year: pd.DataFrame) -> str:
        return years_list(by_year, self.min_cell)

    # ---------------------------------------------------------------- arrests

    def arrests_introduction(self) -> None:
        self.arrests_skipped = self._skipped("arrests", "the arrests part")
        if self.arrests_skipped:
            return
        self.arrests = self.ctx.data.counts("arrests", ["fiscal_year", "aor", "apprehension_date", "apprehension_method"],
                                            months=["apprehension_date"])
        self.arrests_by_year = em.records_by_year(self.arrests)
        self.arrest_partial = self.ctx.data.partial_years("arrests").within(self.arrests_by_year["fiscal_year"])
        self.ctx.say(arrests_introduction(self.ctx.count(int(self.arrests["records"].sum())), self.place,
                                          self._years(self.arrests_by_year),
                                          self.arrests["apprehension_method"].nunique()))

    def arrests_by_method(self) -> None:
        if self.arrests_skipped:
            return
        by_method = em.counts_by_year(self.arrests, "apprehension_method", top=5)
        fig = categories.stacked_year_bars(
            by_method, [c for c in by_method.columns if c != "fiscal_year"], self.arrest_partial,
            title=change_finding(self.arrests_by_year, "records", "arrests", self.arrest_partial, self.min_cell),
            subtitle="Administrative arrests per fiscal year, by apprehension method (five most frequent; others "
                     "grouped)",
            y_label="Arrests", source=self.ctx.source("arrests"),
        )
        hatched = "; hatched bars are partial fiscal years" if self.arrest_partial else ""
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="arrests-by-method", table="arrests",
                             caption=f"Administrative arrests per fiscal year by apprehension method{hatched}")
        method_table = em.category_table(self.arrests, "apprehension_method", top=10).rename(
            columns={"category": "Apprehension method"})
        self.ctx.show_table(method_table, name="arrests-by-method", table="arrests",
                            caption="Administrative arrests by apprehension method (ten most frequent; others grouped) "
                                    "and fiscal year",
                            counts=[c for c in method_table.columns if c != "Apprehension method"], total="Total")

    def local_jails_and_287g(self) -> None:
        if self.arrests_skipped:
            return
        arrests, partial = self.arrests, self.arrest_partial
        jail_shares = em.method_shares_by_year(arrests)
        monthly, left_out = self.ctx.data.partial_months("arrests").leave_out(
            em.monthly_counts(arrests, "apprehension_date", em.jail_categories(arrests)))
        series = [c for c in monthly.columns if c != "month"]
        fig = categories.monthly_lines(
            monthly.rename(columns={em.OTHER: OTHER_METHODS}), [OTHER_METHODS if s == em.OTHER else s for s in series],
            partial, title=jail_share_finding(jail_shares, partial),
            subtitle="Administrative arrests per month: in local jails, through 287(g), and by all other methods",
            y_label="Arrests per month", source=self.ctx.source("arrests"),
        )
        shaded = "; shaded months belong to partial fiscal years" if partial else ""
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="arrests-local-jail-287g", table="arrests",
                             caption=words.with_note(
                                 "Administrative arrests per month made in local jails (CAP Local Incarceration), "
                                 f"through 287(g), and by all other methods{shaded}", left_out))
        shown = jail_shares.assign(
            fiscal_year=words.fy_labels(jail_shares["fiscal_year"], partial),
            local_jail_share=jail_shares["local_jail_share"].map(words.percent),
            program_287g_share=jail_shares["program_287g_share"].map(words.percent),
        ).rename(columns={"fiscal_year": "Fiscal year", "arrests": "Arrests", "local_jail": "In local jails",
                          "local_jail_share": "Share in local jails", "program_287g": "Through 287(g)",
                          "program_287g_share": "Share through 287(g)"})
        self.ctx.show_table(shown, name="arrests-local-jail-287g", table="arrests",
                            caption="Administrative arrests in local jails (CAP Local Incarceration) and through "
                                    "287(g) by fiscal year",
                            counts=["Arrests", "In local jails", "Through 287(g)"],
                            align_right=["Share in local jails", "Share through 287(g)"])

    def arrests_by_aor(self) -> None:
        if self.arrests_skipped:
            return
        by_aor = em.arrests_by_aor(self.arrests)
        if len(by_aor) >= 3:
            others = by_aor["arrests"] - by_aor["local_jail"] - by_aor["program_287g"]
            fig = categories.horizontal_bars(
                list(by_aor["aor"]),
                {"In local jails (CAP Local Incarceration)": list(by_aor["local_jail"]),
                 "Through 287(g)": list(by_aor["program_287g"]), OTHER_METHODS: list(others)},
                title=busiest_aor_finding(by_aor, self.min_cell),
                subtitle="Administrative arrests by area of responsibility and apprehension method, all fiscal years "
                         "shown",
                x_label="Arrests", source=self.ctx.source("arrests"),
            )
            self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="arrests-by-aor", table="arrests",
                                 caption="Administrative arrests by area of responsibility: in local jails, through "
                                         "287(g), and by all other methods")
        shown = by_aor.assign(local_jail_share=by_aor["local_jail_share"].map(words.percent)).rename(columns={
            "aor": "Area of responsibility", "arrests": "Arrests", "local_jail": "In local jails",
            "program_287g": "Through 287(g)", "local_jail_share": "Share in local jails"})
        self.ctx.show_table(shown, name="arrests-by-aor", table="arrests",
                            caption="Administrative arrests by area of responsibility, in local jails and through "
                                    "287(g)",
                            counts=["Arrests", "In local jails", "Through 287(g)"], align_right=["Share in local jails"])

    # ---------------------------------------------------------------- encounters and removals

    def encounters(self) -> None:
        if self._skipped("encounters", "the encounters part"):
            return
        encounters = self.ctx.data.counts("encounters", ["fiscal_year", dm.DISPOSITION])
        if not encounters["records"].sum():
            self.ctx.say(f"*The encounters table has no record in {self.place} in these years, so the encounters part "
                         "is not shown.*")
            return
        ending = dm.ending_in_detainer(encounters)
        self.ctx.say(
            f"ICE ERO recorded **{self.ctx.count(int(encounters['records'].sum()))} encounters** in {self.place} "
            f"({self._years(em.records_by_year(encounters))}). The processing disposition says how ICE dealt with the "
            f"person; 'Detainer' marks an encounter that ended in a detainer ({self._years(em.records_by_year(ending))})."
        )
        dispositions = em.category_table(encounters, dm.DISPOSITION, top=8)
        fig = categories.horizontal_bars(
            list(dispositions["category"]), {"Encounters": list(dispositions["Total"])},
            title=disposition_finding(encounters[dm.DISPOSITION], encounters["records"]),
            subtitle="Encounters by processing disposition (eight most frequent; others grouped), all fiscal years "
                     "shown",
            x_label="Encounters", source=self.ctx.source("encounters"),
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="encounters-by-disposition", table="encounters",
                             caption="Encounters by processing disposition, all fiscal years shown")
        shown = dispositions.rename(columns={"category": "Processing disposition"})
        self.ctx.show_table(shown, name="encounters-by-disposition", table="encounters",
                            caption="Encounters by processing disposition (eight most frequent; others grouped) and "
                                    "fiscal year",
                            counts=[c for c in shown.columns if c != "Processing disposition"], total="Total")

    def removals(self) -> None:
        if self._skipped("removals", "the removals part"):
            return
        counts = self.ctx.data.counts("removals", ["fiscal_year"])
        by_year = em.year_counts(counts)
        partial = self.ctx.data.partial_years("removals").within(by_year["fiscal_year"])
        has_aor = self.ctx.has("removals", ["aor"])
        where = self.place if has_aor or self.ctx.params.state or self.ctx.params.aor else "this release"
        self.ctx.say(f"ICE recorded **{self.ctx.count(counts['records'].sum())} removals** in {where} ({self._years(by_year)}), "
                     + removals_basis(self.ctx.date_column("removals"), has_aor))
        fig = categories.stacked_year_bars(
            by_year.rename(columns={"records": "Removals"}), ["Removals"], partial,
            title=change_finding(by_year, "records", "removals", partial, self.min_cell),
            subtitle="Removals per fiscal year", y_label="Removals", source=self.ctx.source("removals"),
        )
        hatched = "; hatched bars are partial fiscal years" if partial else ""
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="removals-by-year", table="removals", caption=f"Removals per fiscal year{hatched}")
        shown = by_year.assign(fiscal_year=words.fy_labels(by_year["fiscal_year"], partial)).rename(
            columns={"fiscal_year": "Fiscal year", "records": "Removals"})
        self.ctx.show_table(shown, name="removals-by-year", table="removals", caption="Removals per fiscal year",
                            counts=["Removals"])

    # ---------------------------------------------------------------- local-jail arrests and detainers

    def cooperation_introduction(self) -> None:
        self.measure = dm.detainer_measure(self.ctx.data, ["aor"])
        self.comparison_skipped = comparison_skip_reason(self.ctx.data, self.measure)
        if self.comparison_skipped:
            self.ctx.say(f"*{self.comparison_skipped}*")
            return
        assert self.measure is not None  # a comparison is shown only with a measure
        measured = self.measure.counts(self.ctx.data, ["aor"])
        label = self.measure.plural
        unplaced_arrests, unplaced_measure = em.unplaced(em.local_jail_arrests(self.arrests)), em.unplaced(measured)
        self.cooperation = em.hide_small_ratios(em.cooperation_by_aor(self.arrests, measured), self.min_cell)
        self.ctx.say(
            f"Each area of responsibility's arrests in local jails (CAP Local Incarceration) are set beside its {label} "
            f"(from the {self.measure.table} table), over the same fiscal years. "
            + unplaced_sentence(unplaced_arrests, unplaced_measure, label, self.min_cell)
        )

    def cooperation_by_aor(self) -> None:
        if self.comparison_skipped or self.measure is None:
            return
        cooperation, measure = self.cooperation, self.measure
        label, one, table = measure.plural, measure.singular, f"arrests and {measure.table}"
        finding = ratio_range_finding(cooperation, one)
        rated = cooperation.dropna(subset=["arrests_per_detainer"])
        if finding and len(rated) >= 3:
            ordered = cooperation.sort_values(["arrests_per_detainer", "aor"], na_position="last", kind="stable")
            fig = categories.paired_bars(
                list(ordered["aor"]), list(ordered["local_jail_arrests"]), list(ordered["detainers"]),
                ("Arrests in local jails", words.capital(label)),
                ["" if pd.isna(r) else f"{r:.2f}" for r in ordered["arrests_per_detainer"]],
                title=finding,
                subtitle=f"Arrests in local jails and {label} per area of responsibility; the number is their ratio",
                x_label="Records", source=self.ctx.source(table),
            )
            self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="local-jail-arrests-vs-detainers", table=table,
                                 caption=f"Arrests in local jails (CAP Local Incarceration) and {label} by area of "
                                         f"responsibility, ordered by local-jail arrests per {one}")
        else:
            self.ctx.say("*Fewer than three areas of responsibility have both measures here, so no figure is drawn; "
                         "the table shows them.*")
        shown = cooperation.assign(
            arrests_per_detainer=cooperation["arrests_per_detainer"].map(lambda r: "" if pd.isna(r) else f"{r:.2f}"),
        ).rename(columns={"aor": "Area of responsibility", "local_jail_arrests": "Arrests in local jails",
                          "detainers": words.capital(label), "arrests_per_detainer": f"Arrests per {one}"})
        self.ctx.show_table(shown, name="local-jail-arrests-vs-detainers", table=table,
                            caption=f"Arrests in local jails (CAP Local Incarceration) and {label} by area of "
                                    "responsibility",
                            counts=["Arrests in local jails", words.capital(label)], align_right=[f"Arrests per {one}"])

    def ratio_notes(self) -> None:
        if self.comparison_skipped or self.measure is None:
            return
        self.ctx.say(ratio_notes(self.measure))

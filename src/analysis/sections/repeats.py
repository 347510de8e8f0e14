"""Repeat detainers (notebook 04): whether people whose detainer was declined later received
another, set beside people whose detainer was honoured.

The rules that choose titles and sentences are the module's functions; `RepeatDetainers`
draws the section's parts in the order the notebook calls them.
"""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.figures import categories
from analysis.metrics import repeats as repeat
from analysis.release import Scope
from analysis.report.context import ReportContext
from analysis.vocab.definitions import DECLINED_DESCRIPTIONS

WHO = {"declined": "people with a declined detainer", "honoured": "people whose detainer was honoured"}


# ---------------------------------------------------------------- rules


def method(definition: str) -> str:
    """How people are followed, and what counts as an index event and a later detainer."""
    return ("Each detainer record carries an anonymized identifier that links one person's records **within this "
            "release only**: identifiers are assigned afresh in each release, so people cannot be followed from one "
            "release to the next, and a later detainer that appears only in a later release is not seen here. "
            "For each person the *index event* is their first detainer counted as declined "
            f"({definition} definition: {DECLINED_DESCRIPTIONS[definition]}); "
            "for the comparison group it is their first detainer honoured, that is ending in ICE custody (lift reason "
            "'Booked into Detention'). "
            "A *later detainer* is any detainer prepared on a later day than the index event (the same day does not "
            "count), whatever its outcome. A person can be in both groups.")


def unlinked_sentence(dropped: dict[str, int], min_cell: int = 1) -> str:
    """How many records could not be linked to a person for lack of an identifier."""
    if dropped["without_identifier"]:
        return (f"{words.count(dropped['without_identifier'], min_cell)} records without an identifier (redacted or "
                "blank) were left out: they cannot be linked to a person.")
    return "Every record carries an identifier, so none was left out for lack of one."


def scope_limits(scope: Scope) -> list[str]:
    """What the report's geography and years leave unseen."""
    limits = []
    if scope.state or scope.aor:
        limits.append(f"Only detainers in {words.place(scope.state, scope.aor, scope.facility)} are counted, so a later detainer "
                      "elsewhere is not seen.")
    if scope.limits_years:
        limits.append("Only detainers in the selected fiscal years are counted.")
    return limits


def records_paragraph(dropped: dict[str, int], observed_until: pd.Timestamp, scope: Scope, min_cell: int = 1) -> str:
    """What was left out, when the records end, and what the scope hides."""
    n = lambda value: words.count(value, min_cell)  # noqa: E731 - local shorthand
    parts = [
        f"{n(dropped['exact_duplicates'])} exact duplicate records (identical in every column) were counted once.",
        unlinked_sentence(dropped, min_cell),
        f"{n(dropped['without_date'])} records without a prepare date were left out." if dropped["without_date"] else "",
        f"The records end on {observed_until:%d %B %Y}.",
        *scope_limits(scope),
    ]
    return " ".join(part for part in parts if part)


def group_line(row, min_cell: int = 1) -> str:
    """One bullet per group: people, those with a later detainer (share and median wait shown
    only when that number is not a small cell), later detainers in all."""
    label = WHO[row.group]
    if row.people == 0:
        return f"- No {label} in these records."
    n = lambda value: words.count(value, min_cell)  # noqa: E731 - local shorthand
    shown = not words.is_small(row.with_later, min_cell)
    share = f" ({row.share_with_later:.0%})" if shown else ""
    timing = f"; the median wait for the next one was {row.days_median:,.0f} days" if row.with_later >= min_cell else ""
    return (f"- Of **{n(row.people)} {label}**, {n(row.with_later)}{share} received at least one later "
            f"detainer, {n(row.later_detainers)} later detainers in all{timing}.")


def comparison_finding(shares: pd.DataFrame) -> str | None:
    """The figure title: the share of each group with a later detainer at the longest horizon
    both groups can be followed for, or None when neither can."""
    both = shares.dropna(subset=["share"]).groupby("days")["group"].nunique()
    horizons = both[both == 2].index
    if not len(horizons):
        return None
    days = int(horizons.max())
    at = shares[shares["days"] == days].set_index("group")["share"]
    declined, honoured = at["declined"], at["honoured"]
    gap = round(100 * declined) - round(100 * honoured)
    relation = "more often than" if gap > 0 else ("less often than" if gap < 0 else "about as often as")
    window = "a year" if days == 365 else f"{days} days"
    return (f"{declined:.0%} of people with a declined detainer got another within {window}, "
            f"{relation} people whose detainer was honoured ({honoured:.0%})")


def summary_table(overview: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """`repeats.summary` for the report: labelled columns, shares and days as text; a share or
    days computed from a small cell (0 < people with a later detainer < min_cell) left blank."""
    shown_ok = list(~words.is_small(overview["with_later"], min_cell))

    def text(values: pd.Series, fmt: str) -> list[str]:
        return [fmt.format(v) if ok and pd.notna(v) else "" for v, ok in zip(values, shown_ok, strict=True)]

    return pd.DataFrame({
        "Index event": overview["group"].map(repeat.GROUP_LABELS),
        "People": overview["people"],
        "With a later detainer": overview["with_later"],
        "Share": text(overview["share_with_later"], "{:.1%}"),
        "Later detainers": overview["later_detainers"],
        "Days to next: 25th pct.": text(overview["days_p25"], "{:,.0f}"),
        "median": text(overview["days_median"], "{:,.0f}"),
        "75th pct.": text(overview["days_p75"], "{:,.0f}"),
    })


def shares_table(shares: pd.DataFrame) -> pd.DataFrame:
    """`repeats.cumulative_shares` for the report, shares as text (blank where hidden)."""
    return pd.DataFrame({
        "Index event": shares["group"].map(repeat.GROUP_LABELS),
        "Within": shares["days"].map(lambda d: f"{d} days"),
        "People followed that long": shares["people_followed"],
        "With a later detainer": shares["with_later"],
        "Share": shares["share"].map(lambda s: "" if pd.isna(s) else f"{s:.1%}"),
    })


def identifiers_caveat(dropped: dict[str, int], min_cell: int = 1) -> str:
    """The caveat on identifiers, which ends with how many records could not be linked."""
    return ("- **Identifiers are anonymized per release** and cannot follow people across releases; later detainers "
            f"recorded in another release are missing here. {unlinked_sentence(dropped, min_cell)}")


# ---------------------------------------------------------------- the section


class RepeatDetainers:
    """Notebook 04's parts. Creating it stops the section in one sentence when no detainer
    record can be linked to a person."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.min_cell = ctx.params.min_cell
        ctx.require("detainers", [repeat.PERSON, repeat.DATE, "detainer_lift_reason"],
                    why="the repeat-detainer analysis")
        linked = repeat.follow_ups(ctx.data, ctx.params.declined_definition)
        self.dropped, self.groups = linked.dropped, linked.counts
        if not self.dropped["usable"] or linked.observed_until is None:
            ctx.skip("No detainer record in the selected geography and years carries both an identifier and a "
                     "prepare date, so the repeat-detainer analysis is skipped.")
        self.observed_until = linked.observed_until

    def how_people_are_followed(self) -> None:
        self.ctx.say(method(self.ctx.params.declined_definition))
        self.ctx.say(records_paragraph(self.dropped, self.observed_until, self.ctx.params.scope, self.min_cell))

    def later_detainers(self) -> None:
        overview = repeat.summary(self.groups)
        self.ctx.say("\n".join(group_line(row, self.min_cell) for row in overview.itertuples()))
        self.ctx.show_table(summary_table(overview, self.min_cell), name="repeat-detainers-by-group", table="detainers",
                            caption="People with a later detainer after their first declined or honoured detainer, "
                                    "and days until the next one",
                            counts=["People", "With a later detainer", "Later detainers"],
                            align_right=["Share", "Days to next: 25th pct.", "median", "75th pct."])

    def within_days(self) -> None:
        self.shares = repeat.hide_small_shares(repeat.cumulative_shares(self.groups),
                                               self.min_cell)
        finding = comparison_finding(self.shares)
        if finding is None:
            self.ctx.say("*Too few people in these records could be followed for 30 days or more to compare the two "
                         "groups.*")
            return
        fig = categories.cumulative_share_lines(
            self.shares, repeat.GROUP_LABELS, title=finding,
            subtitle="Share of each group with a later detainer within 30, 90, 180 and 365 days of the index event",
            source=self.ctx.source("detainers"), note="each point counts only people followed at least that long",
        )
        self.ctx.show_figure(fig, alt=self.ctx.alt(fig), name="repeat-detainers-within-days", table="detainers",
                             caption="Share of people with a later detainer within 30, 90, 180 and 365 days of their "
                                     "first declined or honoured detainer; each share counts only people whose index "
                                     "event lies at least that many days before the end of the records")
        self.ctx.say(f"Each share counts only the people whose index event lies at least that many days before "
                     f"{self.observed_until:%d %B %Y}, when the records end, so that everyone counted could have been "
                     "seen for the whole period; people with a recent index event count in the short periods only.")

    def tables(self) -> None:
        self.ctx.show_table(shares_table(self.shares), name="repeat-detainers-within-days", table="detainers",
                            caption="People with a later detainer within 30, 90, 180 and 365 days, among people "
                                    "followed at least that long",
                            counts=["People followed that long", "With a later detainer"], align_right=["Share"])
        waits = repeat.days_distribution(self.groups).rename(
            columns={"days": "Days until the next detainer", **repeat.GROUP_LABELS})
        self.ctx.show_table(waits, name="repeat-detainers-days-to-next", table="detainers",
                            caption="People with a later detainer by days until the next one",
                            counts=list(repeat.GROUP_LABELS.values()))

    def identifiers_caveat(self) -> None:
        self.ctx.say(identifiers_caveat(self.dropped, self.min_cell))

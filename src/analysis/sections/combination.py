"""A combined release in the release-changes section: the productions it combines, which one each
table and fiscal year comes from, and every overlap with its revision (from the manifest that
`reading/combine.py` writes). A release that combines nothing gets no output at all."""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.checks.compare import _hide_small_changes, code
from analysis.report.context import ReportContext


def is_combined(manifest: dict) -> bool:
    return bool(manifest.get("combines"))


def productions_frame(manifest: dict) -> pd.DataFrame:
    """One row per production: its as-of date, FOIA numbers, what it holds and what of it is used."""
    used: dict[str, list[str]] = {}
    for table, info in manifest["tables"].items():
        years: dict[str, list[int]] = {}
        for fy, production in info.get("productions_used", {}).items():
            years.setdefault(production, []).append(int(fy))
        for production, fys in years.items():
            used.setdefault(production, []).append(f"{table} {words.fy_runs(fys)}")
    rows = []
    for production in manifest["combines"]:
        held = [f"{table} {words.fy_runs([int(fy) for fy in years])}"
                for table, years in production["rows_by_table_and_fiscal_year"].items() if years]
        rows.append({"Production": production["release"], "As of": production["as_of"] or "not stated",
                     "FOIA number": ", ".join(production["foia_numbers"]) or "not stated",
                     "Holds": "; ".join(held) or "–", "Used for": "; ".join(used.get(production["release"], [])) or "nothing"})
    return pd.DataFrame(rows, columns=["Production", "As of", "FOIA number", "Holds", "Used for"])


def overlaps_frame(manifest: dict, min_cell: int = 1) -> pd.DataFrame:
    """Every table and fiscal year in more than one production: records used against those replaced."""
    rows = [{"Table": o["table"], "Fiscal year": f"FY{o['fiscal_year']}", "Used": o["used"], "Records used": o["records"],
             "Replaced": o["previous"], "Records replaced": o["previous_records"], "Change": o["difference"],
             "Identical records": o["identical"]} for o in manifest.get("overlaps", [])]
    frame = pd.DataFrame(rows, columns=["Table", "Fiscal year", "Used", "Records used", "Replaced", "Records replaced",
                                        "Change", "Identical records"])
    return _hide_small_changes(frame, [("Records replaced", "Records used", "Change")], min_cell)


def overlap_sentence(overlap: dict, min_cell: int = 1) -> str:
    before, after, change = overlap["previous_records"], overlap["records"], overlap["difference"]
    revision = (f"revising its {words.count_in_prose(before, min_cell)} {'up' if change > 0 else 'down'} by "
                f"{words.count_in_prose(abs(change), min_cell)}" if change else f"the same number as its {words.count_in_prose(before, min_cell)}")
    others = [p["release"] for p in overlap["productions"][2:]]
    also = f" (also in {', '.join(code(o) for o in others)})" if others else ""
    return (f"FY{overlap['fiscal_year']} {overlap['table']} are in {code(overlap['previous'])}{also} and "
            f"{code(overlap['used'])}: the newer {code(overlap['used'])} is used, {words.count_in_prose(after, min_cell)} records, "
            f"{revision}; {words.count_in_prose(overlap['identical'], min_cell)} of them are exact duplicates of its records.")


def combination_paragraph(manifest: dict, min_cell: int = 1) -> str:
    productions = [code(p["release"]) for p in manifest["combines"]]
    parts = [f"Release **{manifest['release']}** combines {len(productions)} productions ({', '.join(productions)}) "
             "into one series. Where a table and fiscal year are in more than one production, the newest "
             "production's records are used (newest by the as-of date in its banners, then by the order listed), "
             "never both, so no record is counted twice."]
    overlaps = manifest.get("overlaps", [])
    if overlaps:
        parts += [overlap_sentence(o, min_cell) for o in overlaps]
    else:
        parts.append("No table and fiscal year is in more than one production, so nothing was replaced.")
    repeated = {t: info["duplicates_across_productions"] for t, info in manifest["tables"].items()
                if info.get("duplicates_across_productions")}
    if repeated:
        parts.append("Among the records used, " + ", ".join(f"{words.count_in_prose(n, min_cell)} {t}" for t, n in repeated.items())
                     + " records repeat exactly a record of another production (records without a fiscal year are "
                     "kept from every production); they are kept and counted among likely duplicates.")
    else:
        parts.append("No record used repeats exactly a record of another production.")
    return " ".join(parts)


def show_combination(ctx: ReportContext) -> None:
    """The combined release's part of the section; nothing for a release that combines nothing."""
    manifest = ctx.manifest
    if not is_combined(manifest):
        return
    ctx.say("## Productions combined\n\n" + combination_paragraph(manifest, ctx.params.min_cell))
    ctx.show_table(productions_frame(manifest), name="productions-combined", table="release manifest",
                   caption="Productions combined in this release, and the tables and fiscal years used from each")
    overlaps = overlaps_frame(manifest, ctx.params.min_cell)
    if not overlaps.empty:
        ctx.show_table(overlaps, name="production-overlaps", table="release manifest",
                       caption="Tables and fiscal years in more than one production: the newest production's records "
                       "are used; identical records are exact duplicates (same row hash) of the replaced production's",
                       counts=["Records used", "Records replaced", "Change", "Identical records"])

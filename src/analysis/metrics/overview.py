"""What a release holds, from its manifest: tables, rows by fiscal year, columns, data quality."""

from __future__ import annotations

import pandas as pd

from analysis import words
from analysis.escaping import md_text
from analysis.release import partial_years


def tables_overview(manifest: dict) -> pd.DataFrame:
    rows = []
    for name, info in sorted(manifest["tables"].items()):
        period = info.get("period") or {}
        years = sorted(info["rows_by_fiscal_year"])
        rows.append({
            "Table": name,
            "Records": info["rows"],
            "Fiscal years": words.fy_range(years),
            "First date": period.get("first", words.DASH),
            "Last date": period.get("last", words.DASH),
            "Columns": len(info["columns"]),
            "Likely duplicates": info["likely_duplicates"],
        })
    return pd.DataFrame(rows)


def rows_by_fiscal_year(manifest: dict) -> pd.DataFrame:
    """Records per table (columns) and fiscal year (rows), with partial years labelled."""
    data = {name: info["rows_by_fiscal_year"] for name, info in sorted(manifest["tables"].items())}
    frame = pd.DataFrame(data).fillna(0).astype(int).sort_index()
    frame.index.name = "fiscal_year"
    partial = {fy for name in data for fy in partial_years(manifest, name)}
    frame.insert(0, "partial", [int(fy) in partial for fy in frame.index])
    return frame.reset_index()


def column_quality(manifest: dict, table: str) -> pd.DataFrame:
    """Per column: type, share missing, share redacted (FOIA exemption markers), spellings seen."""
    info = manifest["tables"][table]
    rows = []
    total = max(info["rows"], 1)
    for name, column in info["columns"].items():
        rows.append({
            "Column": name,
            "Type": column["type"].replace("date32[day]", "date"),
            "Missing": column["nulls"] / total,
            "Redacted": column["redacted"] / total,
            "Header spellings": "; ".join(column.get("source_names", [])),
        })
    return pd.DataFrame(rows)


def most_redacted(manifest: dict) -> tuple[str, str, int, float] | None:
    """The (table, column, count, share) with the most redaction markers, or None."""
    best = None
    for table, info in manifest["tables"].items():
        for name, column in info["columns"].items():
            if column["redacted"] and (best is None or column["redacted"] > best[2]):
                best = (table, name, column["redacted"], column["redacted"] / max(info["rows"], 1))
    return best


def summary_sentence(manifest: dict) -> str:
    """Markdown: the release's names and numbers are data, escaped."""
    tables = manifest["tables"]
    total = sum(info["rows"] for info in tables.values())
    years = sorted({fy for info in tables.values() for fy in info["rows_by_fiscal_year"]})
    span = f"fiscal years {years[0]} to {years[-1]}" if len(years) > 1 else (
        f"fiscal year {years[0]}" if years else "no fiscal year (no record has an event date)")
    names = ", ".join(f"{md_text(name)} ({info['rows']:,})" for name, info in sorted(tables.items()))
    foia = manifest.get("foia_numbers") or []
    produced = f" produced under FOIA {md_text(', '.join(foia))}" if foia else ""
    files = len(manifest["files"])
    return (
        f"Release **{md_text(manifest['release'])}**{produced} holds **{total:,} records** in {len(tables)} "
        f"{words.plural(len(tables), 'table')}, {names}, read from {files} {words.plural(files, 'file')} "
        f"and covering {span}."
    )

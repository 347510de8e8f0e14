"""The index of a release's reports by geography: `reports/<id>/index.csv` and `index.html`.

Each batch (`--each state`, `--each aor`, ...) records its rows in `<batch>/index.json`; the
release's index is rebuilt from every batch's record, so a state run and an AOR run both appear.
index.html is one self-contained page: a reader sorts by any column and searches all rows with
the page's own small script, opened from disk, with nothing fetched. Every text from the release
is escaped (data, never markup); counts below the batch's `min_cell` are shown as `<N` in the page
and in the CSV alike, and the page's sort keys never hold the suppressed value.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from analysis.escaping import csv_cell
from analysis.vocab.definitions import DECLINED_DESCRIPTIONS
from analysis.words import count as format_count

BATCH_RECORD = "index.json"
COUNT_FIELDS = ("records", "declined_strict", "declined_broad")
CSV_FIELDS = ("batch", "kind", "name", "code", "table", "records", "declined_strict", "declined_broad", "status",
              "message", "pdf", "html")


@dataclass(frozen=True)
class Row:
    name: str
    code: str
    records: int | None
    declined_strict: int | None
    declined_broad: int | None
    status: str            # built, up to date, failed
    message: str = ""
    pdf: str = ""          # relative to reports/<id>/
    html: str = ""


def write_batch_record(batch_dir: Path, *, kind: str, noun: str, plural: str, table: str, min_records: int,
                       min_cell: int, left_out: int, unassigned: int, rows: list[Row]) -> None:
    record = {"kind": kind, "noun": noun, "plural": plural, "table": table, "min_records": min_records,
              "min_cell": min_cell, "left_out": left_out, "unassigned": unassigned,
              "rows": [_published(row.__dict__, min_cell) for row in rows]}
    batch_dir.mkdir(parents=True, exist_ok=True)
    _write_text(batch_dir / BATCH_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")


def _published(row: dict, min_cell: int) -> dict:
    """A row as it may be published: small counts already replaced by `<min_cell`."""
    shown = dict(row)
    for field in COUNT_FIELDS:
        value = shown[field]
        if value is not None and 0 < value < min_cell:
            shown[field] = format_count(value, min_cell)
    return shown


def write_release_index(release_dir: Path, release: str, synthetic: bool) -> tuple[Path, Path]:
    batches = {path.parent.name: json.loads(path.read_text(encoding="utf-8"))
               for path in sorted(release_dir.glob(f"by-*/{BATCH_RECORD}"))}
    csv_path, html_path = release_dir / "index.csv", release_dir / "index.html"
    _write_text(csv_path, index_csv(batches))
    _write_text(html_path, index_html(batches, release, synthetic))
    return csv_path, html_path


def index_csv(batches: dict[str, dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for batch, record in batches.items():
        for row in record["rows"]:
            values = {"batch": batch, "kind": record["kind"], "table": record["table"], **row}
            writer.writerow([csv_cell("" if values[f] is None else values[f]) for f in CSV_FIELDS])
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


# ------------------------------------------------------------------------------------ the page

def index_html(batches: dict[str, dict], release: str, synthetic: bool) -> str:
    esc = html.escape
    banner = ('<p class="synthetic">SYNTHETIC DATA: every record behind these reports was invented by the '
              "package's sample generator. No number here describes real people, jails or agencies.</p>"
              if synthetic else "")
    sections = "\n".join(_section(batch, record) for batch, record in batches.items())
    if not sections:
        sections = "<p>No reports by geography yet: run <code>analysis report RELEASE --each state</code>.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reports by geography: release {esc(release)}</title>
<style>{STYLE}</style>
</head>
<body>
{banner}
<h1>Reports by geography: release {esc(release)}</h1>
<p>One report per place, each with the same sections as the release's report, limited to that place.
Declined detainers are counted under two definitions. <b>Strict</b>: {esc(DECLINED_DESCRIPTIONS["strict"])}.
<b>Broad</b>: {esc(DECLINED_DESCRIPTIONS["broad"])}. ICE does not record why a detainer was declined and
agencies rarely tell it, so declines are undercounted. Click a column heading to sort; type to search every table.</p>
<p><label for="search">Search</label> <input id="search" type="search" autocomplete="off">
<span id="shown" aria-live="polite"></span></p>
{sections}
<pre id="errors" hidden></pre>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _section(batch: str, record: dict) -> str:
    esc = html.escape
    table_name = record["table"]
    heading = f"By {record['noun']}" + (f" ({esc(batch)})" if batch != f"by-{record['kind']}" else "")
    notes = [f"{len(record['rows'])} {esc(record['plural'])}; records and declines are counted in the "
             f"{esc(table_name)} table."]
    if record["left_out"]:
        notes.append(f"{record['left_out']:,} more {esc(record['plural'])} have fewer than "
                     f"{record['min_records']:,} records and no report.")
    if record["unassigned"]:
        notes.append(f"{format_count(record['unassigned'], record['min_cell'])} records have no "
                     f"{esc(record['noun'])} and are in no report of this list.")
    failed = sum(1 for row in record["rows"] if row["status"] == "failed")
    if failed:
        notes.append(f"<strong>{failed} failed</strong>: the reason is in the Status column.")
    headers = [("name", esc(record["noun"].capitalize()), "text"), ("code", "Code", "text"),
               ("records", esc(table_name.capitalize()), "number"), ("declined_strict", "Declined (strict)", "number"),
               ("declined_broad", "Declined (broad)", "number"), ("status", "Status", "text"),
               ("report", "Report", "text")]
    head = "".join(f'<th scope="col" data-key="{key}" data-type="{kind}"><button type="button">{label}</button></th>'
                   for key, label, kind in headers)
    body = "\n".join(_row(row, record["min_cell"]) for row in record["rows"])
    return (f'<section id="{esc(batch)}"><h2>{heading}</h2><p>{" ".join(notes)}</p>\n'
            f'<table class="index"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></section>')


def _row(row: dict, min_cell: int) -> str:
    esc = html.escape
    cells = [_text_cell(row["name"]), _text_cell(row["code"])]
    cells += [_count_cell(row[field], min_cell) for field in COUNT_FIELDS]
    status = esc(row["status"]) + (f'<br><span class="message">{esc(row["message"])}</span>' if row["message"] else "")
    cells.append(f'<td data-sort="{esc(row["status"])}" class="status-{esc(row["status"].replace(" ", "-"))}">{status}</td>')
    links = [f'<a href="{esc(_href(row[kind]))}">{kind.upper()}</a>' for kind in ("pdf", "html") if row[kind]]
    cells.append(f'<td>{" ".join(links) or "–"}</td>')
    return "<tr>" + "".join(cells) + "</tr>"


def _text_cell(text: str) -> str:
    return f'<td data-sort="{html.escape(text.lower())}">{html.escape(text)}</td>'


def _count_cell(value: int | str | None, min_cell: int) -> str:
    """A count, or `<min_cell` (sorted between 0 and min_cell), or `–` when not available."""
    if value is None:
        return '<td class="number" data-sort="-1">–</td>'
    if isinstance(value, str):  # suppressed when the record was written
        return f'<td class="number" data-sort="{min_cell - 0.5}">{html.escape(value)}</td>'
    return f'<td class="number" data-sort="{value}">{html.escape(format_count(value, min_cell))}</td>'


def _href(path: str) -> str:
    return "/".join(quote(part) for part in path.split("/"))


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
.synthetic { background: #fde9c8; border: 1px solid #d08c2b; padding: .5em .8em; font-weight: bold; }
table.index { border-collapse: collapse; width: 100%; }
table.index th, table.index td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
table.index td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.index th button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0; cursor: pointer; }
table.index th[aria-sort="ascending"] button::after { content: " ▲"; }
table.index th[aria-sort="descending"] button::after { content: " ▼"; }
.status-failed { color: #a40000; } .message { font-size: .85em; }
input[type=search] { font: inherit; padding: .2em .4em; width: 20em; }
#errors { color: #a40000; }
"""

# Sorting, searching, and `#q=text&sort=-records` in the address (so a link can carry both).
# Errors are written into the page, so a headless browser's DOM shows them.
SCRIPT = """
(function () {
  "use strict";
  var errors = document.getElementById("errors");
  window.addEventListener("error", function (event) {
    errors.hidden = false;
    errors.textContent += (event.message || "error") + "\\n";
  });
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var tables = Array.prototype.slice.call(document.querySelectorAll("table.index"));
  var rows = [];
  tables.forEach(function (table) {
    rows = rows.concat(Array.prototype.slice.call(table.tBodies[0].rows));
  });
  function value(row, index, type) {
    var key = row.cells[index].getAttribute("data-sort");
    return type === "number" ? parseFloat(key) : (key === null ? row.cells[index].textContent : key);
  }
  function sortTable(table, header, descending) {
    var index = header.cellIndex, type = header.getAttribute("data-type");
    var body = table.tBodies[0];
    var sorted = Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = value(a, index, type), y = value(b, index, type);
      var order = type === "number" ? x - y : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    sorted.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  function sortAll(key, descending) {
    tables.forEach(function (table) {
      var header = table.querySelector('th[data-key="' + key + '"]');
      if (header) { sortTable(table, header, descending); }
    });
  }
  function filter() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }
  tables.forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
      header.querySelector("button").addEventListener("click", function () {
        sortTable(table, header, header.getAttribute("aria-sort") === "ascending");
      });
    });
  });
  search.addEventListener("input", filter);
  var hash = new URLSearchParams(window.location.hash.slice(1));
  if (hash.get("q")) { search.value = hash.get("q"); }
  if (hash.get("sort")) {
    var key = hash.get("sort");
    sortAll(key.replace(/^-/, ""), key.charAt(0) === "-");
  }
  filter();
  document.documentElement.setAttribute("data-index-ready", "yes");
})();
"""

"""A small release built to attack the report (issue 12): markup and formula payloads in values,
column headers, sheet names and file names, pointing at a planted local file; identifiers under
every name ICE uses, and one recognisable only by its shape. Used by test_injection and
test_privacy; every file is written here, nothing is taken from elsewhere."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import random
import re
from pathlib import Path

import xlsxwriter

MARKER = "PLANTED-9c41e7-DO-NOT-EMBED"


def payloads(planted: Path, url: str = "http://127.0.0.1:9/leak") -> list[str]:
    """Text that would be markup somewhere (HTML, Markdown, Typst, LaTeX, math, citations) or a
    spreadsheet formula, aimed at the planted file."""
    return [
        f'<img src="{planted}">',
        f'<link rel="stylesheet" href="{planted}">',
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<b onmouseover=alert(1)>hover</b>",
        f"![x]({planted})",
        f"![y]({url})",
        f'<img src="{url}">',
        "[x](javascript:alert(1))",
        f'#read("{planted}")',
        f'#image("{planted}")',
        "@ref",
        f"\\input{{{planted}}}",
        "$x^2$",
        "[@key]",
        "=cmd",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "= heading",
        "- item",
    ]


# identifiers: (header, values) -- few distinct values, so that they look like categories
IDENTIFIER_SPELLINGS = ("Anonymized Unique Identifier", "Unique Identifier", "EID Subject ID", "EID Case ID",
                        "Alien File Number", "Event Number", "A-Number", "Subject ID")
SHAPE_COLUMN = "Booking Ref"  # no identifier name: found by the shape of its values


def identifier_values(header: str, release: str) -> list[str]:
    tag = "".join(word[0] for word in header.replace("-", " ").split())
    return [f"LEAKID{tag}{release[-1]}{k:03d}" for k in range(3)]


def shape_value(release: str, number: int) -> str:
    return f"BKR{release[-1]}-{number:07d}"


STATES = ["CA", "TX", "WA", "NY", "AZ"]
AORS = ["Los Angeles Area of Responsibility", "Houston Area of Responsibility", "Seattle Area of Responsibility",
        "New York City Area of Responsibility", "Phoenix Area of Responsibility"]
REASONS = ["Booked into Detention", "Detainer Declined by LEA", "Prosecution Deferred", ""]
METHODS = ["CAP Local Incarceration", "287(g) Program", "Located", "Non-Custodial Arrest"]


def write_release(folder: Path, planted: Path, *, release: str, previous: str | None = None, seed: int = 1,
                  rows: int = 400, url: str = "http://127.0.0.1:9/leak") -> list[str]:
    """Write the hostile release into `folder`; returns the payloads it carries."""
    rng = random.Random(seed)
    texts = payloads(planted, url)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "release.yml").write_text(f"release: {release}\n" + (f"previous_release: {previous}\n" if previous else ""))
    identifiers = {h: identifier_values(h, release) for h in IDENTIFIER_SPELLINGS}
    header = (["Detainer Prepare Date", "Facility State", "Facility AOR", "Detainer Facility", "Detainer Lift Reason",
               "Detainer Lift Date", "Detainer Criminality", "Detainer Type", "MSC Charge", "Anonymized Identifier"]
              + list(IDENTIFIER_SPELLINGS) + [SHAPE_COLUMN] + texts)
    records = []
    first = dt.date(2020, 10, 1)
    for number in range(rows):
        prepared = first + dt.timedelta(days=rng.randrange(730))
        area = rng.randrange(len(STATES))
        # payload facilities receive the most detainers, so every ranked table shows them
        facility = texts[number % 8] if number < 240 else f"County Jail {rng.randrange(30)}"
        reason = texts[number % len(texts)] if number < 2 * len(texts) else rng.choice(REASONS)
        lifted = (prepared + dt.timedelta(days=rng.randrange(1, 60))).strftime("%-m/%-d/%Y") if reason else ""
        state = texts[0] if number % 50 == 0 else STATES[area]
        criminality = rng.choice(["1 Convicted Criminal", "2 Pending Criminal Charges", "3 Other Immigration Violator"])
        kind = rng.choice(["I-247A", "I-247A", "+cmd|' /C calc'!A0", "@SUM(1+1)"])  # column headers of a table
        charge = rng.choice(["ASSAULT", "BURGLARY", texts[9], ""])
        records.append([prepared.strftime("%-m/%-d/%Y"), state, AORS[area], facility, reason, lifted, criminality, kind,
                        charge, f"HOSTILE-{rng.randrange(rows // 2):05d}"]
                       + [rng.choice(identifiers[h]) for h in IDENTIFIER_SPELLINGS]
                       + [shape_value(release, number % 300)] + ["x"] * len(texts))
    with (folder / "detainers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([["ERO-LESA Statistical Tracking Unit"], ["Detainers Prepared FY2021-FY2022"], header, *records])
    write_arrests(folder, texts, rng, release)
    write_workbook(folder)
    return texts


def write_arrests(folder: Path, texts: list[str], rng: random.Random, release: str) -> None:
    """Arrests in a file whose name is markup; apprehension methods that are formulas and markup
    (the busiest ones, so that they become column headers of the method table's CSV)."""
    name = "<img src=x onerror=alert(1)> $x$ @ref #image(planted) =cmd.csv"
    methods = ["+cmd|' /C calc'!A0", "=cmd", "@SUM(1+1)", texts[2], *METHODS]
    rows = [["ERO-LESA Statistical Tracking Unit"], ["ERO Administrative Arrests FY2021"],
            ["Area of Responsibility", "Apprehension Date", "Apprehension Method", "Citizenship", "Event Number"]]
    for number in range(300):
        day = dt.date(2020, 10, 1) + dt.timedelta(days=rng.randrange(365))
        rows.append([rng.choice(AORS), day.strftime("%-m/%-d/%Y"), methods[number % len(methods)],
                     rng.choice(["MEXICO", "GUATEMALA", texts[3]]), rng.choice(identifier_values("Event Number", release))])
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def write_workbook(folder: Path) -> None:
    """Sheets named with markup: two skipped summary sheets, one detainers sheet without records."""
    book = xlsxwriter.Workbook(str(folder / "detainer_sheets.xlsx"))
    for name in ("Summary <i onmouseover=alert()>", "Summary $x$ @ref =cmd"):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["Fiscal Year", "Total"])
        sheet.write_row(1, 0, ["FY2021", 1])
    empty = book.add_worksheet('#read("planted-secret.txt")')
    empty.write_row(0, 0, ["Detainers Prepared FY2021"])
    empty.write_row(1, 0, ["Detainer Prepare Date", "Facility State", "Detainer Facility"])
    book.close()


# ---------------------------------------------------------------- what the tests look for in outputs

IDENTIFIER_VALUE = re.compile(r"LEAKID[A-Z]+[a-z0-9]\d{3}|BKR[a-z0-9]-\d{7}|HOSTILE-\d{5}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^-?[\d,]*\.?\d+%?$")
TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u200b": None,
                            "\u2013": "--", "\u2014": "---", "\u2026": "..."})


def as_typed(text: str) -> str:
    """Text as typed: the report sets quotes, dashes and ellipses typographically, keeps "St. Paul"
    together and breaks long tokens invisibly."""
    return text.translate(TYPOGRAPHY)


def html_problems(page: str) -> list[str]:
    """Active or outside-reaching parts of an HTML page: scripts, event handlers, embeds,
    references other than embedded images and in-page or web links."""
    from bs4 import BeautifulSoup

    problems = []
    for tag in BeautifulSoup(page, "html.parser").find_all(True):
        if tag.name in ("script", "iframe", "object", "embed", "link", "base", "form"):
            problems.append(f"<{tag.name}>")
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.startswith("on"):
                problems.append(f"{tag.name} {name}")
            elif name in ("src", "srcset", "data", "poster") and not value.startswith(("data:image/svg+xml;base64,",
                                                                                       "data:image/png;base64,")):
                problems.append(f"{tag.name} {name}={value[:60]}")
            elif name == "href" and not value.startswith(("#", "https://", "http://", "mailto:")):
                problems.append(f"{tag.name} href={value[:60]}")
            elif name == "href" and "127.0.0.1" in value:
                problems.append(f"{tag.name} href={value[:60]}")
    return problems


def embedded_payloads(page: str) -> list[bytes]:
    """The decoded contents of every data: URI in a page."""
    found = []
    for match in re.finditer(r"data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)", page):
        found.append(base64.b64decode(match.group(1)))
    return found


def csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def formula_cells(path: Path) -> list[str]:
    """Cells (header cells included) a spreadsheet would run as a formula."""
    return [c for c in csv_cells(path) if c.startswith(FORMULA_START) and not NUMBER.match(c)]

"""Text from a release is data, never markup: the one place that says how data text is written
into Markdown (and so Typst and HTML), CSV and HTML.

Every string that comes from data (values, headers, file, sheet and table names, warnings,
claim texts) enters the report's Markdown through `md_text` (`md_literal` where not even
typography may change it, `md_code` inside a code span):
every ASCII punctuation character that can form markup is backslash-escaped, which pandoc's
Markdown reads as that character and nothing else, so raw HTML, links and images, attributes, `$` math, `@` citations,
LaTeX and emphasis all stay text. Pandoc's Typst and HTML writers then escape text for their own
languages (`#`, `@`, `$`, `<`, `&` ...), with one gap the Typst step closes (`typst_safe`).

Behind the escaping, `check_document` walks the document pandoc parsed and refuses anything a
release could use to reach outside the report: raw HTML/LaTeX/Typst, citations, math, an image
the package did not write, a link that is not http(s)/mailto/in-page, an attribute other than
`width` and `alt`. The reader itself is run with those extensions off (`MARKDOWN_READER`).

CSV: a cell, header cells included, that a spreadsheet would run as a formula (`=`, `+`, `-`,
`@`, tab or carriage return first) is prefixed with `'`.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import ReportError

# ---------------------------------------------------------------- Markdown

# Quotes, periods and hyphens form no markup inside a line: pandoc sets them typographically, as
# in all the report's prose (curly quotes, "St. Paul" kept together, dashes). At the start of a
# line they could begin a list (`- x`, `1. x`, `a) x`), so a leading marker is escaped there.
_TYPOGRAPHIC = "'\".-"
_PUNCTUATION = re.compile("([" + re.escape("".join(c for c in string.punctuation if c not in _TYPOGRAPHIC)) + "])")
_LIST_MARKER = re.compile(r"^(\s*)(-|(?:\d+|[A-Za-z]|[ivxlcdm]+|[IVXLCDM]+)(?=[.)]))")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u0085\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

# Pandoc's Markdown without the syntax that can pull in files, scripts or a bibliography, or
# hand text through unescaped: what the report's own prose never uses.
MARKDOWN_READER = "markdown" + "".join(f"-{extension}" for extension in (
    "raw_html", "raw_tex", "raw_attribute", "citations", "tex_math_dollars", "latex_macros", "yaml_metadata_block",
    "markdown_in_html_blocks", "native_divs", "native_spans",
))


def plain(value: object) -> str:
    """A value as one line of text: line breaks become spaces, control characters go."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(value)))


def md_text(value: object) -> str:
    """Text from the data (a value, a name, a header, a file name, a warning quoting them) for
    Markdown prose, headings, captions and table cells: shown as it is, never read as markup."""
    escaped = _PUNCTUATION.sub(r"\\\1", plain(value))
    marker = _LIST_MARKER.match(escaped)
    if marker is None:
        return escaped
    if marker.group(2) == "-":
        return marker.group(1) + "\\" + escaped[marker.end(1):]
    return escaped[: marker.end()] + "\\" + escaped[marker.end():]


_ALL_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def md_literal(value: object) -> str:
    """Text quoted exactly as written (ICE's footnotes, a codebook's values): every ASCII
    punctuation character escaped, quotes and periods too, so not even typography changes it;
    whitespace folded to single spaces."""
    return _ALL_PUNCTUATION.sub(r"\\\1", " ".join(plain(value).split()))


def md_code(value: object) -> str:
    """Data text shown as inline code: fenced by more backticks than it holds in a row."""
    text = " ".join(plain(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# ---------------------------------------------------------------- what pandoc may see

ALLOWED_LINK = re.compile(r"^(https?://|mailto:|#)", re.IGNORECASE)
ALLOWED_ATTRIBUTES = frozenset({"width", "alt"})  # what the assembler itself writes on figures
FORBIDDEN = {
    "RawInline": "raw markup", "RawBlock": "raw markup", "Cite": "a citation", "Math": "math",
    "Note": "a footnote",
}


def _nodes(value: Any) -> Iterator[dict]:
    """Every element of a pandoc JSON document, depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "t" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _is_attr(item: list) -> bool:
    """Whether a JSON list is a pandoc Attr: [identifier, [classes], [[key, value], ...]]."""
    return (len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], list) and isinstance(item[2], list)
            and all(isinstance(c, str) for c in item[1])
            and all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in item[2]))


def _attribute_keys(value: Any) -> Iterator[str]:
    """The key of every key-value attribute anywhere in a pandoc JSON document."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            if _is_attr(item):
                yield from (pair[0] for pair in item[2])
            stack.extend(item)


def check_document(document: dict, images: Iterable[str]) -> None:
    """Refuse a parsed report that holds anything data text could use to reach outside it.

    `images` are the only image targets allowed: the figures the package wrote. Data text
    reaches the document through `md_text`, so this never fires for a release; it fires if a
    code path forgot to escape, and then the report stops rather than embed or fetch anything."""
    allowed = set(images)
    for node in _nodes(document.get("blocks", [])):
        kind = node["t"]
        problem = FORBIDDEN.get(kind)
        if kind == "Image" and node["c"][2][0] not in allowed:
            problem = f"an image the package did not write ({node['c'][2][0][:80]!r})"
        elif kind == "Link" and not ALLOWED_LINK.match(node["c"][2][0]):
            problem = f"a link to {node['c'][2][0][:80]!r}"
        if problem:
            _refuse(problem)
    for key in _attribute_keys(document.get("blocks", [])):
        if key not in ALLOWED_ATTRIBUTES:
            _refuse(f"an attribute {key[:40]!r}")


def _refuse(problem: str) -> None:
    raise ReportError(f"the report's Markdown holds {problem}: text from the data reached it unescaped; "
                      "nothing was rendered (please report this)")


_TYPST_LINE_START = re.compile(r"^(=+|-|\+|/|\d+\.)$")


def typst_safe(document: dict) -> dict:
    """Pandoc's Typst writer escapes line-start markup at the start of a paragraph but not at the
    start of a table cell, a list item or a heading, where `= x` would become a heading and
    `- x`, `+ x`, `1. x`, `/ x:` a list. Escape such a first word of every paragraph, plain
    block and heading (in place; returns the document)."""
    for node in _nodes(document.get("blocks", [])):
        if node["t"] in ("Plain", "Para"):
            _escape_first_word(node["c"])
        elif node["t"] == "Header":
            _escape_first_word(node["c"][2])
    return document


def _escape_first_word(inlines: list) -> None:
    if len(inlines) < 2 or inlines[0]["t"] != "Str" or inlines[1]["t"] not in ("Space", "SoftBreak"):
        return
    word = inlines[0]["c"]
    if _TYPST_LINE_START.match(word):
        inlines[0:1] = [{"t": "Str", "c": word[:-1]}, {"t": "RawInline", "c": ["typst", "\\" + word[-1]]}]
        if not word[:-1]:
            del inlines[0]


# ---------------------------------------------------------------- HTML

ACTIVE_TAGS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "base", "form",
                         "audio", "video", "source", "track", "portal"})
EMBEDDED_IMAGE = re.compile(r"^data:image/(svg\+xml|png);base64,")
_OUTSIDE_URL = re.compile(r"url\(\s*['\"]?(?!#|data:image/)", re.IGNORECASE)


def html_text(value: object) -> str:
    """Data text inside HTML the package writes itself (the title block)."""
    return html.escape(str(value), quote=True)


class _PageCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.problems.append(f"a <{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"an event handler {name!r}")
            elif name in ("src", "srcset", "poster", "data", "xlink:href") and not EMBEDDED_IMAGE.match(value):
                self.problems.append(f"a reference to {value[:80]!r}")
            elif name == "href" and not ALLOWED_LINK.match(value):
                self.problems.append(f"a link to {value[:80]!r}")
            elif name == "style" and _OUTSIDE_URL.search(value):
                self.problems.append("a style that loads a resource")
            elif name == "http-equiv" and value.lower() == "refresh":
                self.problems.append("a refresh")


def check_html(page: str) -> None:
    """The finished self-contained page: no script, no event handler, no outside reference (its
    only images are embedded as data: URIs); a ReportError otherwise, and nothing is published."""
    checker = _PageCheck()
    checker.feed(page)
    checker.close()
    if checker.problems:
        raise ReportError(f"the HTML report would hold {checker.problems[0]}: refused, nothing was published "
                          "(please report this)")


# ---------------------------------------------------------------- CSV

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = r"^[=+\-@\t\r]"


def csv_cell(value: object) -> object:
    """A text cell that would start a spreadsheet formula, prefixed with `'`; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_header(names: Iterable[object]) -> list[str]:
    """Header cells of a CSV, neutralised like its values."""
    return [str(csv_cell(str(name))) for name in names]


def csv_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`csv_cell` on a whole Arrow string column."""
    starts_formula = pc.fill_null(pc.match_substring_regex(values, _FORMULA_START), False)
    return pc.if_else(starts_formula, pc.binary_join_element_wise("'", values, ""), values)

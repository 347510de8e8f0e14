"""Defences against hostile files.

In: a workbook's container is checked before any spreadsheet parser sees it. Encrypted
Office packages are named as such; zip members whose declared sizes would expand past a
limit, or that compress beyond any real spreadsheet (a zip bomb), are refused; XML parts
that declare a DOCTYPE (the carrier of entity-expansion attacks) are refused. The zip
reader behind python-calamine stops at each member's declared size, so the declared sizes
checked here bound what parsing can decompress.

What goes out (CSV cells, Markdown) is made safe in `analysis.escaping`.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from analysis.errors import InputFileError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_WORKBOOK_BYTES = 2 << 30  # declared uncompressed size of all members together
MAX_COMPRESSION_RATIO = 200  # real sheet XML compresses about 5-30:1
RATIO_CHECKED_FROM = 16 << 20  # small members (styles, themes) may compress very well
XML_PROLOG_BYTES = 64 << 10  # a DOCTYPE must come before the root element
DOCTYPE_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be"))
PASSWORD_MESSAGE = (
    "workbook is password-protected or encrypted; open it in Excel with its password and save an unprotected copy"
)
FOREIGN_FORMATS = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"{\\rtf", "an RTF document"),
)


# ---------------------------------------------------------------- files in


def foreign_format(head: bytes) -> str | None:
    """What a file is, when its first bytes say it is a known non-table format."""
    for magic, description in FOREIGN_FORMATS:
        if head.startswith(magic):
            return description
    start = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "an HTML page (open it in Excel and save it as .xlsx)"
    if start.startswith(b"<?xml"):
        return "an XML document (if it is an Excel 2003 XML spreadsheet, open it in Excel and save it as .xlsx)"
    return None


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def check_zip_workbook(path: Path, name: str) -> None:
    """Refuse a zip container that is not a workbook, is encrypted, would expand too far, or
    holds XML with a DOCTYPE, before a spreadsheet parser opens it."""
    if is_gzip(path):
        raise InputFileError("is a gzip-compressed workbook; decompress it (gunzip) and use the workbook itself", file=name)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_members(members, name)
            _check_xml_prologs(archive, members, name)
    except InputFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"corrupt or truncated workbook ({first})", file=name) from None


def _check_members(members: list[zipfile.ZipInfo], name: str) -> None:
    names = {m.filename for m in members}
    if not names & {"xl/workbook.xml", "xl/workbook.bin"} and not {"mimetype", "content.xml"} <= names:  # Excel, OpenDocument
        raise InputFileError(
            "is a zip archive but not an Excel workbook (no xl/workbook.xml); unzip it and put its files in the "
            "release folder",
            file=name,
        )
    if any(m.flag_bits & 0x1 for m in members):
        raise InputFileError(PASSWORD_MESSAGE, file=name)
    total = sum(m.file_size for m in members)
    if total > MAX_WORKBOOK_BYTES:
        raise InputFileError(
            f"workbook would expand to {total / (1 << 30):.1f} GiB of XML (limit {MAX_WORKBOOK_BYTES / (1 << 30):.0f} "
            "GiB): too large to read safely; export its sheets as '|'-delimited text and use those files instead",
            file=name,
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise InputFileError(
                f"workbook part {member.filename!r} would expand {ratio:,.0f}-fold to {member.file_size / (1 << 20):,.0f} "
                f"MiB (no real spreadsheet compresses beyond {MAX_COMPRESSION_RATIO}:1): refused as a likely zip bomb",
                file=name,
            )


def _check_xml_prologs(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str) -> None:
    for member in members:
        if not member.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(member) as handle:
            prolog = handle.read(XML_PROLOG_BYTES)
        if any(marker in prolog for marker in DOCTYPE_MARKERS):
            raise InputFileError(
                f"workbook part {member.filename!r} declares a DOCTYPE or XML entities, which no Excel file does "
                "(an entity-expansion attack?): refused",
                file=name,
            )


def check_ole2_workbook(path: Path, name: str) -> None:
    """An OLE2 (compound document) file holding an `EncryptedPackage` stream is an encrypted
    Office file: name it so, rather than as 'corrupt'. Legacy .xls files pass through."""
    if is_gzip(path):
        raise InputFileError("is a gzip-compressed workbook; decompress it (gunzip) and use the workbook itself", file=name)
    if _has_ole2_stream(path, "EncryptedPackage"):
        raise InputFileError(PASSWORD_MESSAGE, file=name)


def _has_ole2_stream(path: Path, stream: str) -> bool:
    """Whether a directory entry named `stream` exists: entries are 128-byte records starting
    with the UTF-16 name, then (at byte 64) the name's length in bytes with its terminator."""
    encoded = (stream + "\0").encode("utf-16-le")
    length_field = struct.pack("<H", len(encoded))
    chunk_bytes = 4 << 20
    with path.open("rb") as handle:
        offset = 0
        while chunk := handle.read(chunk_bytes + 128):
            start = chunk.find(encoded)
            while start != -1:
                at = offset + start
                if at % 128 == 0 and chunk[start + 64 : start + 66] == length_field:
                    return True
                start = chunk.find(encoded, start + 1)
            if len(chunk) <= chunk_bytes:
                return False
            offset += chunk_bytes
            handle.seek(offset)
    return False

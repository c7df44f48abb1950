"""What a file is, by its first bytes (never by its name): PDF, DOCX, DOC/WPS and XLS (OLE2),
OFD, XLSX, ZIP/RAR archives and images — and the conversion of DOC/WPS to DOCX through
LibreOffice when it is installed.

>>> sniff_binary(b"%PDF-1.7 ...")
'pdf'
>>> sniff_binary(b"<html>") is None   # text: the HTML/text readers take it
True
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from gongkai.transform.errors import ParseFailure
from gongkai.transform.pdf_reader import is_pdf

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONVERT_TIMEOUT = 120.0  # seconds for LibreOffice to convert one file

UNREAD_KINDS = {
    "ofd": "OFD document: this version does not read OFD (no well-kept Python reader of it exists)",
    "zip": "ZIP archive: no report file inside could be read",
    "rar": "RAR archive: this version does not open archives",
}


_WORD_STREAM = "WordDocument".encode("utf-16-le")
_BOOK_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le") + b"\x00\x00")


def ole2_kind(data: bytes) -> str:
    """An OLE2 compound file is a Word (or WPS) document or an Excel workbook: told by the
    stream its directory names (``WordDocument``, ``Workbook``/``Book``, in UTF-16)."""
    if _WORD_STREAM in data:
        return "doc"
    if any(name in data for name in _BOOK_STREAMS):
        return "xls"
    return "doc"


def sniff_binary(data: bytes) -> str | None:
    """"pdf", "docx", "doc", "xls", "ofd", "xlsx", "zip", "rar", "image", or None for text."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(OLE2_MAGIC):
        return ole2_kind(data)
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if "OFD.xml" in names:
            return "ofd"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    if is_pdf(data):  # a PDF behind a few stray bytes (some servers prepend them)
        return "pdf"
    return None


MAX_UNPACKED = 200 * 1024 * 1024  # a report's DOCX/XLSX unpacks to a few MB; a zip bomb is refused


def check_unpacked(data: bytes, what: str) -> None:
    """Raise ParseFailure when a ZIP-based document would unpack to more than MAX_UNPACKED."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if sum(i.file_size for i in z.infolist()) > MAX_UNPACKED:
            raise ParseFailure(f"{what} unpacks to more than {MAX_UNPACKED // 2**20} MB: refused")


def soffice() -> str | None:
    """LibreOffice's command, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def doc_to_docx(data: bytes) -> bytes:
    """A Word 97–2003 (or WPS) file converted to DOCX by LibreOffice headless, in a private
    profile folder and with a timeout; ParseFailure when LibreOffice is missing or fails."""
    command = soffice()
    if command is None:
        raise ParseFailure("needs LibreOffice to read .doc/.wps files (Debian: apt-get install "
                           "libreoffice-writer-nogui); the file is archived and is read once it is installed")
    with tempfile.TemporaryDirectory(prefix="gongkai-soffice-") as tmp:
        folder = Path(tmp)
        source = folder / "report.doc"
        source.write_bytes(data)
        profile = (folder / "profile").as_uri()
        try:
            subprocess.run([command, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                            "--convert-to", "docx", "--outdir", str(folder / "out"), str(source)],
                           check=True, capture_output=True, timeout=CONVERT_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise ParseFailure(f"LibreOffice did not convert the .doc within {CONVERT_TIMEOUT:.0f} s") from exc
        except (subprocess.CalledProcessError, OSError) as exc:
            raise ParseFailure(f"LibreOffice could not convert the .doc: {exc}") from exc
        converted = folder / "out" / "report.docx"
        if not converted.is_file():
            raise ParseFailure("LibreOffice could not convert the .doc (no output: a damaged Word or Excel "
                               "97–2003 file, or not one)")
        return converted.read_bytes()

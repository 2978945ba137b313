"""The receipt as a one-page PDF, written directly (PDF 1.4, the standard Helvetica font with
WinAnsi encoding, which covers Spanish: á é í ó ú ñ ü º ¿ ¡). A receipt is a dozen lines of text;
a PDF library would add megabytes to the phone build for nothing this needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

PAGE_W, PAGE_H = 226, 340  # points: an 80 mm roll-printer slip
MARGIN: Final = 14
LEADING: Final = 15


def _pdf_text(value: str) -> bytes:
    raw = value.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(line: str, width: int) -> list[str]:
    words, lines, current = line.split(" "), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) > width and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


def receipt_pdf(lines: Sequence[str], *, title: str = "Recibo") -> bytes:
    """`lines` as the receipt shows them (mobile.state.receipt.receipt_lines); the first two
    (company, receipt number) in bold."""
    body = [b"BT", f"{MARGIN} {PAGE_H - MARGIN - 10} Td".encode(), f"{LEADING} TL".encode()]
    for index, line in enumerate(lines):
        font, size = (b"/F2", 12) if index < 2 else (b"/F1", 9)
        body.append(font + f" {size} Tf".encode())
        for part in _wrap(line, 34 if index < 2 else 44):
            body.append(b"(" + _pdf_text(part) + b") Tj T*")
    body.append(b"ET")
    stream = b"\n".join(body)
    fonts = b"<< /F1 5 0 R /F2 6 0 R >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] ".encode()
        + b"/Resources << /Font "
        + fonts
        + b" >> /Contents 4 0 R >>",
        f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + _pdf_text(title) + b") /Producer (Recaudo) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)

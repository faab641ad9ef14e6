"""Attachment files the demo makes locally: a screenshot and a photo (PNG), a PDF and a short WAV
call recording."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

Shape = tuple[int, int, int, int, tuple[int, int, int]]  # x0, y0, x1, y1 and a colour

#: The demo's "screenshot": a customer's capture of a checkout page that failed: a browser's bar,
#: the shop's header, the basket's lines, a red "payment failed" banner and a button.
SCREEN = (800, 500)
_SCREEN: tuple[Shape, ...] = (
    (0, 0, 800, 36, (229, 231, 235)),  # the browser's bar
    (120, 8, 560, 28, (255, 255, 255)),  # its address field
    (0, 36, 800, 96, (15, 118, 110)),  # the shop's header
    (32, 56, 180, 76, (204, 251, 241)),  # its name
    (40, 120, 520, 300, (243, 244, 246)),  # the basket
    *(
        shape
        for row in range(4)
        for shape in (
            (60, 140 + 40 * row, 100, 172 + 40 * row, (209, 213, 219)),  # a product's picture
            (116, 146 + 40 * row, 300 - 30 * row, 156 + 40 * row, (156, 163, 175)),  # its name
            (420, 146 + 40 * row, 500, 156 + 40 * row, (107, 114, 128)),  # its price
        )
    ),
    (40, 320, 760, 380, (254, 226, 226)),  # "Payment failed"
    (40, 320, 48, 380, (220, 38, 38)),
    (64, 336, 420, 348, (239, 68, 68)),
    (64, 356, 600, 364, (252, 165, 165)),
    (560, 120, 760, 300, (249, 250, 251)),  # the order's total
    (580, 140, 700, 152, (156, 163, 175)),
    (580, 170, 740, 186, (17, 24, 39)),
    (560, 410, 760, 456, (15, 118, 110)),  # "Try again"
    (610, 428, 710, 438, (240, 253, 250)),
)

#: The showcase's photo: a navy jacket laid flat, its left sleeve torn open (a jagged light
#: line across it).
PHOTO = (640, 480)
_NAVY, _TEAR = (30, 41, 82), (226, 214, 190)
_PHOTO: tuple[Shape, ...] = (
    (0, 0, 640, 480, (214, 200, 176)),  # a table
    (230, 60, 410, 420, _NAVY),  # the body
    (290, 60, 350, 96, (214, 200, 176)),  # the neck
    (318, 100, 322, 400, (148, 163, 184)),  # the zip
    (110, 70, 230, 150, _NAVY),  # the left sleeve
    (70, 150, 190, 380, _NAVY),
    (410, 70, 530, 150, _NAVY),  # the right sleeve
    (450, 150, 570, 380, _NAVY),
    (70, 360, 190, 380, (51, 65, 111)),  # the cuffs
    (450, 360, 570, 380, (51, 65, 111)),
    *(
        (84 + 8 * i, 236 + 3 * i + 5 * (i % 2), 94 + 8 * i, 242 + 3 * i + 5 * (i % 2), _TEAR)
        for i in range(12)
    ),
)


def png() -> bytes:
    """The demo's screenshot attachment (``SCREEN`` pixels, about 4 KB), made locally: wide
    enough that the chat shows a smaller copy and a click shows the whole picture."""
    return _draw(SCREEN, _SCREEN)


def photo() -> bytes:
    """The showcase's photo of a torn jacket (``PHOTO`` pixels, a few KB), made locally."""
    return _draw(PHOTO, _PHOTO)


def _draw(size: tuple[int, int], shapes: tuple[Shape, ...]) -> bytes:
    """A PNG of ``shapes`` drawn in order on a white page."""
    width, height = size
    rows = []
    for y in range(height):
        row = bytearray(b"\xff" * (width * 3))
        for x0, y0, x1, y1, colour in shapes:
            if y0 <= y < y1:
                row[x0 * 3 : x1 * 3] = bytes(colour) * (x1 - x0)
        rows.append(b"\x00" + bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    body = b"BT /F1 18 Tf 40 100 Td (Invoice 2026-11 - Northwind Outfitters) Tj ET"
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 500 200]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
        b"4 0 obj<</Length "
        + str(len(body)).encode()
        + b">>stream\n"
        + body
        + b"\nendstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A short two-tone 'call' recording (8 kHz mono, telephony quality)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            f = 440 if i < rate else 660
            env = min(1.0, i / 400, (seconds * rate - i) / 400)
            frames += struct.pack("<h", int(8000 * env * math.sin(2 * math.pi * f * i / rate)))
        w.writeframes(bytes(frames))
    return buf.getvalue()

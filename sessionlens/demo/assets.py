"""Attachment files the demo makes locally: a PNG, a PDF and a short WAV call recording."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib


def png(size: int = 48) -> bytes:
    """A small gradient PNG made locally (a 'screenshot' attachment)."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 5 % 256, y * 5 % 256, 180)) for x in range(size))
        for y in range(size)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
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

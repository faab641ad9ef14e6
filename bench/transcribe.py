"""Transcription speed, memory and accuracy: the import pipeline against bare faster-whisper.

    python bench/transcribe.py [--long] [--json FILE]
    python bench/transcribe.py --repeat 3 [--json FILE]

Generates two-speaker support calls with espeak-ng (60 s and 5 min; mono and stereo, 16 kHz), and
for each prints the whole import pipeline with the default settings (probe, store, job, decode,
chunked transcription, messages written) next to bare faster-whisper on the same file (the same
model, int8, beam 5, no VAD): wall and CPU real-time factor, peak
memory and word error rate against the script. ``--long`` adds the peak memory of a 60-minute file
through the pipeline. Each measurement runs in a fresh process. Targets (issue 6): the pipeline
within 1.2x of bare faster-whisper's time, WER <= 6% on the 16 kHz calls, the 60-minute file under
1 GB peak.

``--repeat N`` (issue 9) transcribes one 10-minute two-speaker stereo call N times with the
worker's engine (each run in a fresh process, each channel on its own, as the pipeline does) and
prints each run's WER, its words, the seconds of detected speech left without text, and the spread
of WER between runs. Targets: WER <= 6% each run, spread <= 1 point, 0 s of speech without text.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LINES = [  # plain words, no numbers or names, so WER measures recognition, not spelling
    ("agent", "Thank you for calling customer support, how can I help you today"),
    ("customer", "Hello, my internet connection keeps dropping every evening"),
    ("agent", "I am sorry to hear that, could you tell me when the problem started"),
    ("customer", "It started last week after the big storm"),
    ("agent", "Thank you, I can see a problem on the line in your street"),
    ("customer", "Is there anything I can do myself in the meantime"),
    ("agent", "Please restart your modem and wait a few minutes"),
    ("customer", "I did that already and it did not help at all"),
    ("agent", "Then I will send a technician, would tomorrow morning suit you"),
    ("customer", "Tomorrow morning is fine, I work from home anyway"),
    ("agent", "Good, the technician will call you before arriving"),
    ("customer", "Great, thank you very much for your help"),
]
VOICES = {"agent": ("en-us+f3", "165"), "customer": ("en-gb+m3", "150")}


def _say(text: str, voice: tuple[str, str], out: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice[0], "-s", voice[1], "-w", str(out), text], check=True)
    with wave.open(str(out)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
        rate = w.getframerate()
    idx = np.round(np.arange(0, len(audio), rate / 16000)).astype(int)  # to 16 kHz
    return audio[idx[idx < len(audio)]]


def make_call(seconds: float, tmp: Path) -> tuple[Path, Path, str]:
    """A mono and a stereo (agent left, customer right) call of about ``seconds``, + script."""
    left, right, words, t = [], [], [], 0.0
    i = 0
    while t < seconds:
        who, text = LINES[i % len(LINES)]
        clip = _say(text, VOICES[who], tmp / "line.wav")
        gap = np.zeros(int(16000 * 0.6), np.float32)
        mine, other = (left, right) if who == "agent" else (right, left)
        mine += [clip, gap]
        other += [np.zeros_like(clip), gap]
        words.append(text)
        t += (len(clip) + len(gap)) / 16000
        i += 1
    l_track, r_track = np.concatenate(left), np.concatenate(right)
    mono, stereo = tmp / f"call_{int(seconds)}s.wav", tmp / f"call_{int(seconds)}s.stereo.wav"
    _write(mono, (l_track + r_track)[None, :])
    _write(stereo, np.stack([r_track, l_track]))  # customer on the left (the default setting)
    return mono, stereo, " ".join(words)


def _write(path: Path, channels: np.ndarray) -> None:
    pcm = np.clip(channels, -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[0])
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.T.tobytes())


def wer(reference: str, hypothesis: str) -> float:
    ref = re.sub(r"[^\w\s']", " ", reference.lower()).split()
    hyp = re.sub(r"[^\w\s']", " ", hypothesis.lower()).split()
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)] / max(len(ref), 1)


def child(mode: str, path: str) -> None:
    """Runs in a fresh process; prints one JSON line."""
    import resource

    if mode == "pipeline":
        prepared = _prepare()
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "bare":
        from faster_whisper import WhisperModel

        sys.path.insert(0, str(ROOT))
        from sessionlens.settings import Settings
        from sessionlens.transcription.engine import resolve_model

        settings = Settings()  # the same model as the pipeline (the default: base)
        model = WhisperModel(
            resolve_model(settings.whisper_model, settings.model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=2,
            local_files_only=True,
        )
        segments, _ = model.transcribe(path, language="en", beam_size=5)
        text = " ".join(s.text for s in segments)
    elif mode == "engine":
        text = _engine_run(Path(path))
    else:
        text = _pipeline(Path(path), *prepared)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall": time.perf_counter() - t0,
                "cpu": time.process_time() - c0,
                "rss_mb": rss,
                "text": text,
            }
        )
    )


def _prepare():  # type: ignore[no-untyped-def]
    """An empty app database, outside the timed part (a running app already has one)."""
    sys.path.insert(0, str(ROOT))
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade
    from sessionlens import demo, geo
    from sessionlens.blobs import LocalBlobStore
    from sessionlens.settings import Settings

    tmp = Path(tempfile.mkdtemp())
    settings = Settings(blob_dir=str(tmp / "blobs"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        demo.generate(conn, locator=geo.Locator(None), sessions=2, seed=1)
    return make_sessionmaker(engine), LocalBlobStore(settings.blob_dir), settings


def _pipeline(path: Path, maker, store, settings) -> str:  # type: ignore[no-untyped-def]
    """Import (probe, store, session, job) and a worker transcribing it, as the app does."""
    import datetime as dt

    from sqlalchemy import select

    from db.models import Agent, Message
    from sessionlens import identity
    from sessionlens.importer import import_recording
    from sessionlens.worker import Worker

    with maker.begin() as db:
        actor = identity.default_actor(db)
        agent = db.scalar(select(Agent.id).where(Agent.tenant_id == actor.tenant_id))
        done = import_recording(
            db,
            actor=actor,
            data=path.read_bytes(),
            filename=path.name,
            agent_id=agent,
            channel="sip",
            store=store,
            settings=settings,
            now=dt.datetime.now(dt.UTC),
        )
    Worker(maker, settings, store).run_once()
    with maker() as db:
        return " ".join(
            db.scalars(
                select(Message.text)
                .where(Message.session_id == done.session_id, Message.author_kind != "system")
                .order_by(Message.seq)
            )
        )


def _engine_run(path: Path) -> str:
    """The worker's engine on each channel of ``path``: text in time order, plus coverage."""
    sys.path.insert(0, str(ROOT))
    from sessionlens.settings import Settings
    from sessionlens.transcription.audio import decode
    from sessionlens.transcription.engine import WhisperEngine, speech_stretches, uncovered

    engine = WhisperEngine(Settings())
    audio = decode(path, stereo=True)
    segments, lost, inaudible = [], 0.0, 0
    for channel in audio.channels:
        found = list(engine.transcribe(channel))
        segments += found
        inaudible += sum(1 for g in found if g.inaudible)
        lost += sum(b - a for a, b in uncovered(speech_stretches(channel), found))
    segments.sort(key=lambda g: g.start)
    return json.dumps(
        {
            "text": " ".join(g.text for g in segments if g.text),
            "lost_s": lost,
            "inaudible": inaudible,
        }
    )


def repeat(times: int, tmp: Path) -> list[dict]:
    _, stereo, script = make_call(600, tmp)
    seconds = wave.open(str(stereo)).getnframes() / 16000
    rows = []
    for i in range(times):
        out = run("engine", stereo)
        found = json.loads(out["text"])
        rows.append(
            {
                "case": f"run {i + 1}: {seconds:.0f} s stereo",
                "wall_s": out["wall"],
                "cpu_s": out["cpu"],
                "words": len(found["text"].split()),
                "script_words": len(script.split()),
                "wer": wer(script, found["text"]),
                "speech_without_text_s": found["lost_s"],
                "inaudible_marked": found["inaudible"],
            }
        )
    spread = max(r["wer"] for r in rows) - min(r["wer"] for r in rows)
    head = f"{'case':<24}{'wall s':>8}{'cpu s':>8}{'words':>12}{'WER':>8}{'speech w/o text s':>19}{'inaudible':>11}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:<24}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}"
            f"{r['words']:>6}/{r['script_words']:<5}{r['wer']:>8.1%}"
            f"{r['speech_without_text_s']:>19.1f}{r['inaudible_marked']:>11}"
        )
    print(f"WER spread between runs: {spread * 100:.2f} points")
    for r in rows:
        r["wer_spread_points"] = spread * 100
    return rows


def run(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--long", action="store_true", help="also a 60-minute file (minutes)")
    ap.add_argument("--json", dest="json_path")
    ap.add_argument("--repeat", type=int, help="transcribe a 10-minute call this many times")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.repeat:
        with tempfile.TemporaryDirectory() as tmp:
            rows = repeat(args.repeat, Path(tmp))
        if args.json_path:
            Path(args.json_path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        calls = [make_call(s, Path(tmp)) for s in (60, 300)]
        for mono, stereo, script in calls:
            seconds = wave.open(str(mono)).getnframes() / 16000
            for label, path in (("mono", mono), ("stereo", stereo)):
                bare = run("bare", mono)  # bare faster-whisper reads the mono mix
                pipe = run("pipeline", path)
                rows.append(
                    {
                        "case": f"{seconds:.0f} s {label}",
                        "audio_s": seconds,
                        "pipeline_rtf_wall": pipe["wall"] / seconds,
                        "pipeline_rtf_cpu": pipe["cpu"] / seconds,
                        "pipeline_peak_mb": pipe["rss_mb"],
                        "pipeline_wer": wer(script, pipe["text"]),
                        "bare_rtf_wall": bare["wall"] / seconds,
                        "bare_rtf_cpu": bare["cpu"] / seconds,
                        "bare_peak_mb": bare["rss_mb"],
                        "bare_wer": wer(script, bare["text"]),
                        "time_ratio": pipe["wall"] / bare["wall"],
                    }
                )
        if args.long:
            mono = calls[1][0]
            with wave.open(str(mono)) as w:
                frames = w.readframes(w.getnframes())
            long = Path(tmp) / "call_60min.wav"
            with wave.open(str(long), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                for _ in range(int(3600 // (len(frames) / 32000)) + 1):
                    w.writeframes(frames)
            pipe = run("pipeline", long)
            rows.append(
                {
                    "case": "60 min mono, pipeline peak",
                    "audio_s": 3600,
                    "pipeline_rtf_wall": pipe["wall"] / 3600,
                    "pipeline_rtf_cpu": pipe["cpu"] / 3600,
                    "pipeline_peak_mb": pipe["rss_mb"],
                    "pipeline_wer": float("nan"),
                    "bare_rtf_wall": float("nan"),
                    "bare_rtf_cpu": float("nan"),
                    "bare_peak_mb": float("nan"),
                    "bare_wer": float("nan"),
                    "time_ratio": float("nan"),
                }
            )
    head = (
        f"{'case':<28}{'pipe RTF wall/cpu':>18}{'pipe peak MB':>13}{'pipe WER':>9}"
        f"{'bare RTF wall/cpu':>19}{'bare peak MB':>13}{'bare WER':>9}{'time ratio':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:<28}{r['pipeline_rtf_wall']:>9.3f}/{r['pipeline_rtf_cpu']:<8.3f}"
            f"{r['pipeline_peak_mb']:>13.0f}{r['pipeline_wer']:>9.1%}"
            f"{r['bare_rtf_wall']:>10.3f}/{r['bare_rtf_cpu']:<8.3f}{r['bare_peak_mb']:>13.0f}"
            f"{r['bare_wer']:>9.1%}{r['time_ratio']:>11.2f}"
        )
    if args.json_path:
        Path(args.json_path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


if __name__ == "__main__":
    main()

"""Ctrl-C ends a server started from a terminal the way a person expects: quietly, status 0.

uvicorn (under ``streamlit run app.py`` and ``sessionlens api``) shuts down gracefully on the
first Ctrl-C, then restores the SIGINT handler it found and raises the signal again, so that the
process "ends as if interrupted". With Python's default handler that is a KeyboardInterrupt after
the server has already stopped: ``streamlit run`` reports it as "Aborted!" with status 1, and
``make run`` adds "Error 1", although nothing went wrong. A bare Streamlit page says "Stopping..."
and exits 0; so does Sessionlens now.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

#: Threads that outlived their stop (the embedded transcription worker inside CTranslate2).
_outliving: list[threading.Thread] = []


def outlived(thread: threading.Thread) -> None:
    """``thread`` did not end when asked and may be inside native code (the transcription model
    decoding a 30-second window takes longer than the server's wait on a busy machine). If it is
    still alive when Ctrl-C ends the process, the process ends without Python's finalization,
    which would free the interpreter under that thread: seen as a crash at exit (SIGSEGV or
    SIGABRT, status -11 or -6) after "Stopped.", with the job already back in the queue."""
    _outliving.append(thread)


def quiet_ctrl_c() -> None:
    """Make a Ctrl-C that reaches Python's default handler exit with status 0 and one line.

    Only from the main thread and only while the default handler is in place: a server's own
    handler (uvicorn's, while it runs) is never replaced; it is the one that stops the server."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stopped)


def _stopped(_signum: int, _frame: FrameType | None) -> None:
    print("  Stopped.", file=sys.stderr, flush=True)
    if any(t.is_alive() for t in _outliving):
        logging.shutdown()  # what os._exit would not flush
        sys.stdout.flush()
        os._exit(0)
    raise SystemExit(0)

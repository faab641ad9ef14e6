"""What ``sessionlens serve`` (and so ``make run``) runs: ``streamlit run app.py`` with the options
given, in a process whose Ctrl-C ends quietly with status 0 (sessionlens/shutdown.py).

    python -m web.serve [STREAMLIT OPTIONS]
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.web import cli as streamlit_cli

from sessionlens import shutdown

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(options: list[str]) -> None:
    shutdown.quiet_ctrl_c()  # before uvicorn starts: it restores this handler when it stops
    sys.argv = ["streamlit", "run", str(APP), *options]
    streamlit_cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])

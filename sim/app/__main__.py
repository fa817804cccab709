"""Start the app on this machine only: `python -m sim.app [--server.port 8501 ...]` (extra options go to streamlit)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# localhost only, no usage statistics sent anywhere, uploads no bigger than a scenario may be (1 MB),
# and no "Deploy" button: the app runs on the planner's machine.
DEFAULTS = ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.maxUploadSize", "1",
            "--client.toolbarMode", "minimal"]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    script = Path(__file__).with_name("main.py")
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(script), *DEFAULTS, *argv])


if __name__ == "__main__":
    main()

"""PNG copies of a report's figures, for slides.

    python -m sim.report.export RESULTS_FOLDER [--scale 2]

Reads the figure specs `write_report` left in RESULTS_FOLDER/report_figures/
and writes one PNG beside each. Drawing needs a Chromium-family browser, which
kaleido 1.x drives; nothing is downloaded. It uses $BROWSER_PATH if set, else
the first of chromium, chromium-headless-shell, google-chrome on the PATH
(Debian/Ubuntu: `apt-get install chromium` or `chromium-headless-shell`).
Without one it says so and exits with status 2, writing nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from sim.report import FIGURES_DIR, write_atomic

BROWSERS = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome", "google-chrome-stable",
            "chrome")
NO_BROWSER = (
    "PNG export needs Chromium (or Chrome) and none was found. Install one, e.g. on Debian/Ubuntu "
    "`sudo apt-get install chromium` (or `chromium-headless-shell`), or set BROWSER_PATH to a Chromium executable."
)


# Figures are responsive on the page; a PNG needs a width. 1280 px suits a 16:9 slide.
PNG_WIDTH = 1280


class ExportError(Exception):
    """Why the PNGs could not be written (no browser, no figures)."""


def find_browser() -> str:
    """The browser kaleido should drive: $BROWSER_PATH if set, else the first Chromium on the PATH."""
    chosen = os.environ.get("BROWSER_PATH")
    if chosen:
        if Path(chosen).is_file() and os.access(chosen, os.X_OK):
            return chosen
        raise ExportError(f"BROWSER_PATH={chosen!r} is not an executable file. {NO_BROWSER}")
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ExportError(NO_BROWSER)


async def _draw(specs: dict[str, dict], browser: str, scale: float) -> dict[str, bytes]:
    import kaleido

    # mathjax=False: kaleido would otherwise load MathJax from a CDN; the figures use no TeX.
    async with kaleido.Kaleido(path=browser, mathjax=False, n=1) as k:
        opts = {"format": "png", "scale": scale, "width": PNG_WIDTH}
        return {name: await k.calc_fig(spec, opts=opts) for name, spec in specs.items()}


def export_pngs(folder: str | Path, scale: float = 2.0) -> list[Path]:
    """Write RESULTS_FOLDER/report_figures/<name>.png for every figure of the report; return their paths."""
    figures = Path(folder) / FIGURES_DIR
    specs = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(figures.glob("*.json"))}
    if not specs:
        raise ExportError(f"{figures}: no figures found; write the report first (run_scenario.py writes it)")
    browser = find_browser()
    if importlib.util.find_spec("kaleido") is None:
        raise ExportError("PNG export needs kaleido: pip install 'care-pathway-sim[png]' (or kaleido>=1.0)")
    images = asyncio.run(_draw(specs, browser, scale))
    paths = []
    for name, png in images.items():
        path = figures / f"{name}.png"
        write_atomic(path, png)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.report.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a results folder holding a report")
    parser.add_argument("--scale", type=float, default=2.0, help="pixel density; 2 suits slides (default 2)")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.scale > 10:
        print(f"--scale: must be above 0 and at most 10, got {args.scale:g}", file=sys.stderr)
        return 2
    try:
        paths = export_pngs(args.folder, args.scale)
    except ExportError as exc:
        print(f"{args.folder}: {exc}", file=sys.stderr)
        return 2
    print(f"{len(paths)} figures written as PNG to {args.folder / FIGURES_DIR}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

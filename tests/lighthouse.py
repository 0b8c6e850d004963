"""Lighthouse scores of the example site's home, an event and an actor page.

    python tests/lighthouse.py [OUTPUT_DIR]    (or `make lighthouse`)

Serves the built site on 127.0.0.1, runs the `lighthouse` npm package (in tests/.node)
against Debian's chromium through CHROME_PATH, prints the four category scores of each
page, keeps the JSON reports in artifacts/lighthouse/ and exits 1 when a score is under
95. Not part of `make test`: one run takes about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.static_server import serve_folder  # noqa: E402 - needs the path above

LIGHTHOUSE = REPO / "tests" / ".node" / "node_modules" / ".bin" / "lighthouse"
REPORTS = REPO / "artifacts" / "lighthouse"
PAGES = {
    "home": "",
    "event": "events/2023-10-19-lavrov-in-north-korea-warns-of-escalation/",
    "actor": "actors/sergei-lavrov/",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MINIMUM = 95


def run(url: str, report: Path) -> dict[str, int]:
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        timeout=300,
    )
    data = json.loads(report.read_text("utf-8"))
    return {c: round(data["categories"][c]["score"] * 100) for c in CATEGORIES}


def main() -> int:
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "output"
    REPORTS.mkdir(parents=True, exist_ok=True)
    low = []
    with serve_folder(site) as base:
        print(f"{'page':8}" + "".join(f"{c:>16}" for c in CATEGORIES))
        for name, path in PAGES.items():
            scores = run(base + path, REPORTS / f"{name}.json")
            print(f"{name:8}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES))
            low += [f"{name} {c} {s}" for c, s in scores.items() if s < MINIMUM]
    if low:
        print(f"under {MINIMUM}: {', '.join(low)}; see {REPORTS}", file=sys.stderr)
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())

"""Each HTML page (render, diff, impact) opened in a headless browser where Chromium is
installed: the page loads on its own (no network) and draws something (the screenshot's
size is checked). Skipped where no Chromium is found."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine")


def _page(capsys, tmp_path, name, argv) -> Path:
    assert main(argv) == 0
    path = tmp_path / f"{name}.html"
    path.write_text(capsys.readouterr().out)
    return path


def _screenshot(page: Path, tmp_path) -> int:
    shot = tmp_path / f"{page.stem}.png"
    subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   check=True, timeout=60, capture_output=True)
    return shot.stat().st_size


def test_every_html_page_renders_in_a_browser(capsys, tmp_path):
    population = tmp_path / "teams.jsonl"
    facts = json.loads((ROOT / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text())
    population.write_text(json.dumps(facts) + "\n" + json.dumps({**facts, "month": "2025-01"}) + "\n")
    pages = [
        _page(capsys, tmp_path, "render", ["render", "msa-fee", "--format", "html"]),
        _page(capsys, tmp_path, "diff", ["diff", "msa-fee", "2024-06-04", "2024-06-11", "--format", "html"]),
        _page(capsys, tmp_path, "impact", ["impact", "msa-fee", "2024-06-04", "2024-06-11", "--population",
                                           str(population), "--format", "html"]),
    ]
    for page in pages:
        assert _screenshot(page, tmp_path) > 20_000, page.name   # a blank 1200x1600 page is far smaller

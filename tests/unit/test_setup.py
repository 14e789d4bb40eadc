"""`make setup` is the one install path: the Dockerfile runs the same script, and a second run is a no-op."""

import os
import pathlib
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_dockerfile_installs_with_the_setup_script():
    runs = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("RUN")]
    assert any("scripts/setup.sh" in line for line in runs)
    assert "scripts/setup.sh" in (ROOT / "Makefile").read_text()


def test_setup_is_idempotent_and_quick_when_nothing_is_missing():
    started = time.monotonic()
    result = subprocess.run(
        ["scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=os.environ | {"VENV": str(ROOT / ".venv")},
    )
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stdout, result.stdout
    assert result.stdout.strip().endswith("setup: ready")
    assert time.monotonic() - started < 10

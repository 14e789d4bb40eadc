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


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        if line and not line.startswith("#"):
            pin, *options = line.split()
            package, sep, version = pin.partition("==")
            assert sep and version, f"{name}: {line!r} is not pinned"
            assert options and all(o.startswith("--hash=sha256:") for o in options), f"{name}: {line!r} has no hash"
            pins[package.lower().replace("_", "-")] = version
    return pins


def test_the_standard_lock_pins_what_the_requirement_files_pin():
    import tomllib

    locked = tomllib.loads((ROOT / "pylock.toml").read_text())["packages"]
    assert {p["name"].lower().replace("_", "-"): p["version"] for p in locked} == _pins("requirements-test.txt")


def test_every_dependency_is_pinned_and_installed_as_pinned():
    from importlib import metadata

    runtime, everything = _pins("requirements.txt"), _pins("requirements-test.txt")
    assert {"sqlalchemy", "alembic", "granian"} <= set(runtime)
    assert {"botocore", "boto3", "moto", "pytest", "ruff", "awscli", "werkzeug", "libvirt-python"} <= set(everything)
    assert all(everything[name] == version for name, version in runtime.items()), "the two locks disagree"
    for name, version in everything.items():
        assert metadata.version(name) == version, f"{name} is installed at another version than the lock's"

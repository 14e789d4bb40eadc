"""`make lock`, last step: the hashes pip recorded in pylock.toml (PEP 751) are written onto the pinned lines
of requirements-test.txt and requirements.txt, so that `make setup` installs in pip's hash-checking mode:
a file that is not the one locked is refused, not installed."""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def hashes(pylock: pathlib.Path) -> dict[str, list[str]]:
    """package name (normalised) -> the sha256 of every file pylock.toml lists for it."""
    found = {}
    for package in tomllib.loads(pylock.read_text())["packages"]:
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        found[normalised(package["name"])] = sorted(item["hashes"]["sha256"] for item in files)
    return found


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def write(requirements: pathlib.Path, known: dict[str, list[str]]) -> None:
    lines = []
    for line in requirements.read_text().splitlines():
        if line and not line.startswith("#"):
            pin = line.split()[0]
            line = " ".join([pin, *(f"--hash=sha256:{digest}" for digest in known[normalised(pin.split("==")[0])])])
        lines.append(line)
    requirements.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    known = hashes(ROOT / "pylock.toml")
    for name in ("requirements-test.txt", "requirements.txt"):
        write(ROOT / name, known)

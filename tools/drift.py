"""`make drift`: what the newest botocore's RDS model changed since the one we vendor. Never fails the build.

Installs the newest botocore into a temporary folder, builds the shapes file from it exactly as
tools/gen_shapes.py does, and lists operations, shapes and error codes that were added, removed or changed.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

TOOLS = pathlib.Path(__file__).resolve().parent
OUT = TOOLS.parent / "emulator" / "protocol" / "rds-shapes.json"
COMPARE = f"""
import json, sys, botocore, botocore.loaders
sys.path.insert(0, {str(TOOLS)!r})
from gen_shapes import build
model = botocore.loaders.Loader().load_service_model("rds", "service-2")
print(json.dumps(build(model, botocore.__version__)))
"""


def changes(name: str, old: dict, new: dict) -> list[str]:
    lines = [f"+ {name} {key}" for key in sorted(set(new) - set(old))]
    lines += [f"- {name} {key}" for key in sorted(set(old) - set(new))]
    lines += [f"~ {name} {key}" for key in sorted(set(old) & set(new)) if old[key] != new[key]]
    return lines


def main() -> int:
    ours = json.loads(OUT.read_text())
    with tempfile.TemporaryDirectory() as target:
        install = [sys.executable, "-m", "pip", "install", "-q", "--upgrade", "--target", target, "botocore"]
        if subprocess.run(install, env=os.environ | {"PIP_CONSTRAINT": ""}).returncode != 0:
            print("drift: could not install the newest botocore")
            return 0
        out = subprocess.run([sys.executable, "-c", COMPARE], env=os.environ | {"PYTHONPATH": target},
                             capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"drift: could not read the newest model: {out.stderr.strip()[-500:]}")
        return 0
    newest = json.loads(out.stdout)
    print(f"drift: vendored botocore {ours['botocoreVersion']}, newest {newest['botocoreVersion']}")
    lines = changes("operation", ours["operations"], newest["operations"])
    lines += changes("error", ours["errors"], newest["errors"])
    lines += changes("shape", ours["shapes"], newest["shapes"])
    print("\n".join(lines) if lines else "drift: no change in the RDS model")
    return 0


if __name__ == "__main__":
    sys.exit(main())

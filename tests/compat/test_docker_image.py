"""The Docker image: what a build may read (never a developer's data directory, keys or venv), and, where a
container engine runs on the machine, the image built and run as docs/docker.md says: the access key shown
at start, an instance made through the published API port and reached on its published port."""

import fnmatch
import json
import pathlib
import re
import shutil
import subprocess

import boto3
import pytest

from tests.emulator_process import free_port, wait_for
from tests.mysql_client import read_rows, write_rows

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGE = "rds-emulator-test"


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of a build, as Docker reads it: a pattern is matched against
    the path from the context's root, or (with **/) at any depth, and excluding a folder excludes all in it."""
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line and not line.startswith("#")]
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        prefix, name = "/".join(parts[:depth]), parts[depth - 1]
        for pattern in patterns:
            anywhere = pattern.startswith("**/")
            if fnmatch.fnmatchcase(name if anywhere else prefix, pattern.removeprefix("**/")):
                return True
    return False


def test_a_build_never_reads_a_developers_data_keys_or_venv():
    for path in ("data/access.key", "data/emulator.sqlite", "data/servers/db-X/data/ibdata1", ".venv/bin/python",
                 "data-other/master-passwords.key", "emulator/__pycache__/x.pyc", "notes/storage-encryption.key",
                 ".git/config"):
        assert ignored(path), path
    for path in ("emulator/cli.py", "scripts/setup.sh", "requirements.txt", "scripts/docker-entrypoint.sh"):
        assert not ignored(path), path


def engine() -> str | None:
    """A container engine that runs here (not only its client)."""
    for tool in ("docker", "podman"):
        if shutil.which(tool) and subprocess.run([tool, "info"], capture_output=True, timeout=60).returncode == 0:
            return tool
    return None


def test_the_image_serves_reachable_instances():
    tool = engine()
    if tool is None:
        pytest.skip("no container engine runs on this machine (a docker or podman client without its daemon): "
                    "the image is not built or run here")
    subprocess.run([tool, "build", "-t", IMAGE, str(ROOT)], check=True, timeout=1800)
    api, server = free_port(), 13306
    started = subprocess.run([tool, "run", "-d", "--cap-add", "SYS_ADMIN", "-p", f"127.0.0.1:{api}:8765",
                              "-p", f"127.0.0.1:{server}-{server + 99}:13306-13405", IMAGE],
                             capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    try:
        def logs() -> str:
            return subprocess.run([tool, "logs", started], capture_output=True, text=True, timeout=60).stdout
        wait_for(lambda: "export AWS_SECRET_ACCESS_KEY=" in logs(), 1800, "the image's first start")
        keys = dict(re.findall(r"export (AWS_\w+)=(\S+)", logs()))
        rds = boto3.client("rds", endpoint_url=f"http://127.0.0.1:{api}", region_name="us-east-1",
                           aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"])
        wait_for(lambda: _answers(rds), 120, "the API")
        rds.create_db_instance(DBInstanceIdentifier="boxed", Engine="mariadb", DBInstanceClass="db.t3.micro",
                               AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="boxed-Pass-1",
                               DBName="app")
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="boxed",
                                                     WaiterConfig={"Delay": 2, "MaxAttempts": 150})
        endpoint = rds.describe_db_instances(DBInstanceIdentifier="boxed")["DBInstances"][0]["Endpoint"]
        assert endpoint["Address"] == "127.0.0.1"
        write_rows(endpoint, "admin", "boxed-Pass-1", "app", ["from the host"])
        assert read_rows(endpoint, "admin", "boxed-Pass-1", "app") == ["from the host"]
        assert keys["AWS_SECRET_ACCESS_KEY"] not in json.dumps(rds.describe_db_instances(), default=str)
    finally:
        subprocess.run([tool, "rm", "-f", started], capture_output=True, timeout=120)


def _answers(rds) -> bool:
    try:
        rds.describe_db_instances()
    except Exception:  # noqa: BLE001 - not up yet
        return False
    return True

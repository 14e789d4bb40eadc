"""The benchmark's and the campaign's scripts still import: CI runs neither, and a module they use may move."""

import importlib
import pathlib

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("module", sorted(path.stem for path in BENCH.glob("*.py")))
def test_each_bench_script_imports(module):
    importlib.import_module(f"bench.{module}")

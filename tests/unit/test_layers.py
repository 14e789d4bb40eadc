"""The imports follow the layers of ../shared/design.md: each module imports only from its own layer's
allowed neighbours or below, and no import cycle exists. Read from the source, so that it fails on the
line that breaks the rule (imports under TYPE_CHECKING count too: a type is a dependency)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("emulator", "scheduler", "compat")
MAX_LINES = 520

# Lower numbers are lower layers; a module may import from its own rank (subject to FORBIDDEN) or lower.
# cli -> runtime -> web -> api -> work -> store, drivers.base, engines, host -> model -> protocol;
# scheduler -> work; drivers.* -> drivers.base, engines, images.
RANKS = (
    ("emulator.protocol", 0),
    ("emulator.config", 0),
    ("emulator.clock", 0),
    ("emulator.foreground", 0),
    ("emulator.failures", 0),
    ("emulator.model", 1),
    ("emulator.store", 2),
    ("emulator.drivers.base", 2),
    ("emulator.drivers.log_dir", 2),
    ("emulator.engines", 2),
    ("emulator.host", 2),
    ("emulator.images", 2),
    ("emulator.drivers", 3),
    ("emulator.context", 4),
    ("emulator.work", 5),
    ("emulator.api", 6),
    ("scheduler", 6),
    ("emulator.web", 7),
    ("emulator.runtime", 8),
    ("emulator.cli", 9),
    ("compat", 9),
)
# Imports the ranks allow that the design forbids: (importer prefix, imported prefix).
FORBIDDEN = (
    ("emulator.engines", "emulator.drivers"),
    ("emulator.engines", "emulator.store"),
    ("emulator.engines", "emulator.host"),
    ("emulator.drivers", "emulator.store"),
    ("emulator.images", "emulator.drivers"),
    ("emulator.images", "emulator.store"),
    ("emulator.store", "emulator.engines"),
    ("emulator.store", "emulator.drivers"),
    ("emulator.store", "emulator.host"),
    ("emulator.host", "emulator.store"),
    ("emulator.host", "emulator.drivers"),
    ("emulator.drivers.base", "emulator.drivers."),
    ("emulator.protocol", "emulator.config"),
    ("emulator.protocol", "emulator.clock"),
    ("compat", "emulator.api"),
    ("compat", "emulator.store"),
    ("compat", "emulator.work"),
    ("compat", "emulator.runtime"),
)
# The API modules do not import each other, but for what they share.
API_SHARED = ("emulator.api.common", "emulator.api.paging", "emulator.api.master_users")


def modules() -> dict[str, pathlib.Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: pathlib.Path, known: set[str]) -> dict[str, int]:
    """Our modules that `name` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.setdefault(target, node.lineno)
    return found


def rank(name: str) -> int:
    best = max((prefix for prefix, _ in RANKS if name == prefix or name.startswith(prefix + ".")), key=len)
    return dict(RANKS)[best]


def under(name: str, prefix: str) -> bool:
    return name.startswith(prefix) if prefix.endswith(".") else name == prefix or name.startswith(prefix + ".")


def graph() -> dict[str, dict[str, int]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_every_import_goes_down_the_layers():
    wrong = []
    for name, targets in graph().items():
        if name in ("emulator", "emulator.api"):
            continue  # the package roots: the dispatch table gathers the handlers
        for target, line in targets.items():
            if target in ("emulator",) or under(name, target):
                continue  # a package's own __init__
            if rank(target) > rank(name):
                wrong.append(f"{name}:{line} imports {target}, a higher layer")
            for importer, imported in FORBIDDEN:
                if under(name, importer) and under(target, imported):
                    wrong.append(f"{name}:{line} imports {target}: {importer} never imports {imported}")
            if under(name, "emulator.api") and under(target, "emulator.api") and name not in API_SHARED \
                    and target not in API_SHARED:
                wrong.append(f"{name}:{line} imports {target}: API modules share through api/common.py")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    edges = graph()
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in edges.get(node, {}):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_no_module_is_longer_than_one_person_holds_in_mind():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_the_rule_catches_an_import_against_the_layers(tmp_path):
    """The checker itself: an upward import is found (so that the test above can fail)."""
    module = tmp_path / "probe.py"
    module.write_text("from emulator.api import ACTIONS\n")
    assert imports_of("emulator.model.probe", module, set(modules()) | {"emulator.model.probe"}) == {"emulator.api": 1}
    assert rank("emulator.api") > rank("emulator.model.instance")

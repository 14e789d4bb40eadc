"""Whether a handler's result fits the declared wire shape (the pinned botocore's), before it is serialized."""

from datetime import datetime

from emulator.protocol.xml import Written

_TYPES = {"string": str, "integer": int, "long": int, "boolean": bool, "timestamp": datetime, "double": (int, float)}


def emitted_as_declared(shape, value, path: str) -> None:
    """A handler's result fits the declared (botocore's) shape: only its members, each of its type."""
    if value is None or type(value) is Written:  # a Written was checked as it was written (conftest.py)
        return
    if shape.type == "structure":
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path} emits members the model does not have: {unknown}"
        for name, item in value.items():
            emitted_as_declared(shape.members[name][0], item, f"{path}.{name}")
    elif shape.type == "list":
        assert isinstance(value, list), path
        for n, item in enumerate(value):
            emitted_as_declared(shape.member, item, f"{path}[{n}]")
    else:
        wanted = _TYPES[shape.type]
        assert isinstance(value, wanted) and not (shape.type != "boolean" and isinstance(value, bool)), (
            f"{path} is {type(value).__name__}, the model says {shape.type}")

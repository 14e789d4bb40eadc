"""DB log files: DescribeDBLogFiles and DownloadDBLogFilePortion, served by the driver from wherever the
server writes them (a guest's logs live inside the guest)."""

from typing import Any

from emulator.api import common
from emulator.api.paging import page_sequence
from emulator.context import Context
from emulator.protocol.errors import RdsError, invalid, shown

# RDS's limits on one portion: 10,000 lines, 1 MB.
MOST_LINES = 10000
MOST_BYTES = 1024 * 1024


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    if request.get("Filters"):
        raise invalid("DescribeDBLogFiles does not support Filters; use FilenameContains, FileLastWritten or FileSize.")
    contains = request.get("FilenameContains") or ""
    since, larger = request.get("FileLastWritten") or 0, request.get("FileSize") or 0
    files = [
        {"LogFileName": name, "LastWritten": int(found.last_written * 1000), "Size": found.size}
        for name, found in sorted(ctx.driver.log_files(ctx.spec(instance)).items())
        if contains in name and found.last_written * 1000 >= since and found.size >= larger
    ]
    listed, marker = page_sequence(files, request, largest=1000)
    return {"DescribeDBLogFiles": listed, "Marker": marker}


def download(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    name = request["LogFileName"]
    spec = ctx.spec(instance)
    found = ctx.driver.log_files(spec).get(name)
    if found is None:
        raise _no_file(name)
    lines = request.get("NumberOfLines")
    if lines is not None and not 1 <= lines <= MOST_LINES:
        raise invalid(f"NumberOfLines must be between 1 and {MOST_LINES}.")
    marker = request.get("Marker")
    try:
        if marker is None:
            return _tail(ctx.driver.read_log, spec, name, found.size, lines or MOST_LINES)
        return _forward(ctx.driver.read_log, spec, name, found.size, _offset(marker), lines or MOST_LINES)
    except FileNotFoundError:  # rotated away meanwhile
        raise _no_file(name) from None


def _tail(read: Any, spec: Any, name: str, size: int, lines: int) -> dict[str, Any]:
    """No marker: the file's last lines, newest last, as RDS gives them."""
    start = max(size - MOST_BYTES, 0)
    chunk = read(spec, name, start, size - start)
    kept = chunk.splitlines(keepends=True)
    if start > 0 and kept:
        kept = kept[1:]  # the first line was cut by the 1 MB window
    return {"LogFileData": _text(b"".join(kept[-lines:])), "Marker": str(start + len(chunk)),
            "AdditionalDataPending": False}


def _forward(read: Any, spec: Any, name: str, size: int, offset: int, lines: int) -> dict[str, Any]:
    """From a marker onwards: whole lines, at most `lines` of them and 1 MB."""
    chunk = read(spec, name, offset, MOST_BYTES) if offset < size else b""
    kept = chunk.splitlines(keepends=True)[:lines]
    if kept and not kept[-1].endswith(b"\n") and len(kept) > 1:
        kept = kept[:-1]  # a line still being written, or cut by the 1 MB window: the next portion has it
    data = b"".join(kept)
    end = offset + len(data)
    return {"LogFileData": _text(data), "Marker": str(end), "AdditionalDataPending": end < size}


def _offset(marker: str) -> int:
    if not (marker.isascii() and marker.isdigit() and len(marker) <= 18):
        raise invalid(f"The marker {shown(marker)} is not valid: use 0, or a Marker from an earlier response.")
    return int(marker)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _no_file(name: str) -> RdsError:
    return RdsError("DBLogFileNotFoundFault", f"DBLog File: {shown(name)}, is not found on the DB instance")

"""The HTTP server: granian's Rust HTTP/1.1 worker, run in a thread of the emulator's own process.

granian's own `Granian(...).serve()` runs the app in worker processes it spawns, which a `kill -9` of the
emulator would leave holding the data directory. Its worker class serves from any thread, so the emulator
drives it directly: the sockets, the parsing and the keep-alive are Rust's (no GIL), and the app runs on a
pool of Python threads. These are granian's internal names, hence the exact pin in pyproject.toml; a test
of every request goes through here, so a change there fails the suite, not a user.
"""

import asyncio
import errno
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from granian._futures import _new_cbscheduler
from granian._granian import ListenerSpec, WorkerSignal, WSGIWorker
from granian.http import HTTP1Settings

# Threads that run the app: as many requests at once as waitress ran before.
THREADS = 8
# Requests taken in before the app's threads refuse more: the rest wait in the kernel's backlog.
BACKLOG = 1024
# An idle keep-alive connection is closed after a minute, so that no crowd of idle clients holds the
# server; the SDKs open a new one.
IDLE_MS = 60_000
HEADERS_BYTES = 64 * 1024
# The most of a body the app left unread (one it refused as too large, say) that is read and dropped before
# the answer: a client still sending would otherwise meet a closed connection instead of the error. Larger
# bodies are cut off, as waitress cut them off before.
UNREAD_LIMIT = 64 * 1024 * 1024
UNREAD_CHUNK = 1024 * 1024
# Each client connection holds a descriptor: the emulator raises its open-file limit to hold this many.
CONNECTIONS = 4000
# What is the same in every request's environ; the process's own environment is not in it.
BASE_ENVIRON = {
    "GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "SERVER_SOFTWARE": "rds-emulator",
    "wsgi.input_terminated": True, "wsgi.multiprocess": False, "wsgi.multithread": True,
    "wsgi.run_once": False, "wsgi.version": (1, 0),
}

ERRNO = re.compile(r"\(os error (\d+)\)")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class HttpServer:
    """Listens at once (OSError if the address is taken); `run()` serves until `close()`."""

    def __init__(self, app: WsgiApp, host: str, port: int):
        self.app = app
        # granian's listener takes SO_REUSEPORT, which would let a second emulator share the port: a plain
        # bind first refuses an address in use, as any server would
        with socket.create_server((host, port)) as probe:
            self.effective_port: int = probe.getsockname()[1]
        # built now, so that what fails fails here; the worker listens on this very socket
        self.listener = ListenerSpec(host, self.effective_port, BACKLOG)
        try:
            self.listener.build()
        except RuntimeError as error:  # granian gives io errors as text: "... (os error 98)"
            raise OSError(_errno_of(str(error)), os.strerror(_errno_of(str(error)))) from None
        self.stopping = WorkerSignal()
        self.stopped = threading.Event()

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            worker = WSGIWorker(
                1, (self.listener, None), None,
                1, 512,  # the Rust runtime: one thread, and its pool for blocking work
                THREADS, 30, BACKLOG,
                "1", HTTP1Settings(header_read_timeout=IDLE_MS, max_buffer_size=HEADERS_BYTES), None,
                None,  # no static files
                False, None, None, None, "tls1.3", None, [], False,  # no TLS
                (None, None),  # no metrics
            )
            worker.serve_str(_new_cbscheduler(loop, self._call, impl_asyncio=False), loop, self.stopping)
            self.stopped.wait()
        finally:
            loop.close()

    def close(self) -> None:
        self.stopping.set()
        self.stopped.set()

    def _call(self, proto: Any, scope: dict[str, Any]) -> int:
        """One request, on one of the app's threads: the WSGI call, and its whole answer handed back."""
        environ = BASE_ENVIRON | scope
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = (int(status.split(" ", 1)[0]), headers)

        chunks = self.app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        # hyper closes a connection whose request body was not read to its end: the client's next request on
        # it would meet a broken pipe, or this one would before it reads the answer
        _drain(environ["wsgi.input"])
        proto.response_bytes(started[0], started[1], body)
        return started[0]


def _errno_of(message: str) -> int:
    found = ERRNO.search(message)
    return int(found.group(1)) if found else errno.EIO


def _drain(stream: Any) -> None:
    left = UNREAD_LIMIT
    while left > 0 and (chunk := stream.read(min(UNREAD_CHUNK, left))):
        left -= len(chunk)

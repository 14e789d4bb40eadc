"""The Flask app: the Query endpoint's blueprint and the operator's, and the HTTP server that serves them."""

from collections.abc import Callable

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from emulator.context import Context
from emulator.web import operator, query

# Idle keep-alive connections cost no thread in waitress, only a descriptor: allow many, and close those
# idle for a minute, so that no crowd of idle clients locks the others out.
CONNECTIONS = 4000


def create_app(ctx: Context, clock_moved: Callable[[], None] | None = None,
               access_keys: dict[str, str] | None = None) -> Flask:
    """`clock_moved` runs after the operator moved the clock; `access_keys` (id -> secret) are those a request
    must be signed with (SigV4), None lets any request in."""
    app = Flask(__name__)
    # The body is bounded and read by the Query view itself (query.MAX_BODY, with its RDS error); Flask keeps
    # no session and serves no static files here.
    app.static_folder = None
    app.register_blueprint(operator.blueprint(ctx, clock_moved, access_keys))
    app.register_blueprint(query.blueprint(ctx, access_keys))
    app.register_error_handler(405, query.method_not_allowed)
    return app


def server(app: Callable, host: str, port: int) -> BaseWSGIServer | MultiSocketServer:
    """The HTTP server the emulator (and the benchmark's floor) answers on."""
    return create_server(
        app, host=host, port=port, threads=8, ident="rds-emulator",
        connection_limit=CONNECTIONS, channel_timeout=60, cleanup_interval=10,
        max_request_body_size=64 * 1024 * 1024,
    )

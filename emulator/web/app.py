"""The Flask app: the Query endpoint's blueprint and the operator's, and the HTTP server that serves them."""

from collections.abc import Callable

from flask import Flask

from emulator.context import Context
from emulator.web import operator, query
from emulator.web.http_server import HttpServer, WsgiApp


def create_app(ctx: Context, clock_moved: Callable[[], None] | None = None,
               access_keys: dict[str, str] | None = None) -> Flask:
    """`clock_moved` runs after the operator moved the clock; `access_keys` (id -> secret) are those a request
    must be signed with (SigV4), None lets any request in."""
    app = Flask(__name__)
    # The body is bounded and read by the Query view itself (bodies.MAX_BODY, with its RDS error); Flask keeps
    # no session and serves no static files here.
    app.static_folder = None
    app.register_blueprint(operator.blueprint(ctx, clock_moved, access_keys))
    app.register_blueprint(query.blueprint(ctx, access_keys))
    app.register_error_handler(405, query.method_not_allowed)
    return app


def server(app: WsgiApp, host: str, port: int) -> HttpServer:
    """The HTTP server the emulator (and the benchmark's floor) answers on."""
    return HttpServer(app, host, port)

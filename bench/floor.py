"""The floor of a lookup: an empty Flask route answering a constant, on the HTTP server the emulator uses
(emulator/web/app.py's), in a process of its own. `python bench/floor.py PORT`."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402

from emulator.web.app import server  # noqa: E402


def main() -> None:
    app = Flask(__name__)
    app.static_folder = None

    @app.route("/", methods=("GET", "POST"))
    def constant() -> str:
        return "<DescribeDBInstancesResponse/>"

    server(app, "127.0.0.1", int(sys.argv[1])).run()


if __name__ == "__main__":
    main()

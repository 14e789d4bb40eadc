VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8765
DATA ?= $(CURDIR)/data
PY := $(VENV)/bin/python

.PHONY: setup run test lint bench drift lock clean

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/bin/rds-emulator serve --host $(HOST) --port $(PORT) --data-dir $(DATA)

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run.py

# Not part of `make test`: what the newest botocore's RDS model changed since the pinned one.
drift: setup
	$(PY) tools/drift.py

# Re-pin every dependency at its newest allowed release, and regenerate the wire shapes with it.
lock:
	tools/lock.sh

clean:
	rm -rf $(VENV) data

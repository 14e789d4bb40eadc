VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8765
DATA ?= $(CURDIR)/data
PY := $(VENV)/bin/python

.PHONY: setup run test test-unit lint bench drift lock clean

setup:
	@scripts/setup.sh

AUTH ?= sigv4

# The access key first (made now for a new data directory): the server's own output never holds a secret.
run: setup
	@if [ "$(AUTH)" = sigv4 ]; then echo "Signed requests (SigV4) only; the access key, for your shell:"; \
		$(VENV)/bin/rds-emulator credentials --data-dir $(DATA); \
	else echo "Any request is taken (AUTH=off)."; fi
	$(VENV)/bin/rds-emulator serve --host $(HOST) --port $(PORT) --data-dir $(DATA) --auth $(AUTH)

lint: setup
	$(VENV)/bin/ruff check .

# The guests' tests beside all the others, two pytest runs at once (scripts/test.sh).
test: setup lint
	@PY=$(PY) scripts/test.sh $(PYTEST_ARGS)

# The inner loop: the tests that need no real server (no MariaDB process, no guest), in well under a minute.
test-unit: setup lint
	$(PY) -m pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS)

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

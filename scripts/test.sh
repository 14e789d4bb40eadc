#!/usr/bin/env bash
# `make test`: two pytest runs side by side, since most of the suite waits (on servers, guests, the clock,
# the Debian mirror) rather than computes: the guests' tests (QEMU under libvirt, the longest share) with the
# server trees' (debootstrap), and all the others. Each run gives its emulators' instances a port range of its
# own (two emulators taking one free port at one moment would both take it). The guests' output follows the
# others'; the exit status fails if either run fails.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PY:-.venv/bin/python}
log=$(mktemp)
guests=""
trap '[ -z "$guests" ] || kill "$guests" 2>/dev/null; rm -f "$log"' EXIT
RDS_EMULATOR_PORTS=15306-16305 "$py" -m pytest -q -p no:cacheprovider -m "guests or images" "$@" >"$log" 2>&1 &
guests=$!
RDS_EMULATOR_PORTS=13306-14305 "$py" -m pytest -q -p no:cacheprovider -m "not guests and not images" "$@"
others=$?
wait "$guests"
theirs=$?
guests=""
echo "--- the guests' tests (beside the others)"
cat "$log"
# pytest's 5: nothing was selected (a run of -k that names no guest test, say)
for status in "$others" "$theirs"; do
    [ "$status" -eq 0 ] || [ "$status" -eq 5 ] || exit 1
done
[ "$others" -ne 5 ] || [ "$theirs" -ne 5 ] || exit 5

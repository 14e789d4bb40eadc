#!/bin/sh
# The container's start: the engines' server trees built on first start (into the cache volume, with their
# progress), the access key shown as `make run` shows it, then the emulator. Servers listen on the
# container's own addresses; endpoints report the address the host reaches them at, through the ports
# published for them (docs/docker.md).
set -eu
data=${RDS_EMULATOR_DATA_DIR:-/var/lib/rds-emulator}
for engine in ${RDS_EMULATOR_ENGINES:-mariadb mysql}; do
    .venv/bin/rds-emulator image build --engine "$engine"
done
if [ "${RDS_EMULATOR_AUTH:-sigv4}" = sigv4 ]; then
    echo "Signed requests (SigV4) only; the access key, for your shell:"
    .venv/bin/rds-emulator credentials --data-dir "$data"
fi
exec .venv/bin/rds-emulator serve --host 0.0.0.0 --port 8765 --data-dir "$data" --driver process \
    --server-host 0.0.0.0 --endpoint-address "${RDS_EMULATOR_ENDPOINT_ADDRESS:-127.0.0.1}" "$@"

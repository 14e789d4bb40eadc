#!/usr/bin/env bash
# Installs everything RDS Emulator needs on Debian 12, and nothing twice.
# Used by `make setup` and by the Dockerfile alike. EXTRAS picks the pip extras (default: test).
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${EXTRAS-test}
venv=${VENV:-.venv}

need_apt=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need_apt+=(mariadb-client)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)

if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} from Debian's packages"
    # A package script must not start a system-wide server: the emulator runs its own.
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        guard=/usr/sbin/policy-rc.d
    fi
    trap '[ -n "$guard" ] && rm -f "$guard"' EXIT
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

stamp="$venv/.installed"
spec="."
[ -n "$extras" ] && spec=".[$extras]"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$(cat "$stamp")" != "$spec" ]; then
    echo "setup: installing $spec into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -e "$spec"
    echo "$spec" > "$stamp"
fi
echo "setup: ready"

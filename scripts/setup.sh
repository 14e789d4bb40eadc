#!/usr/bin/env bash
# Installs everything RDS Emulator needs on Debian 12, and nothing twice.
# Used by `make setup` and by the Dockerfile alike (GUESTS: see below). EXTRAS picks the pip extras: test (default) installs from
# requirements-test.txt, an empty EXTRAS from requirements.txt. Every Python package comes pinned from the
# lock; the venv is rebuilt from scratch whenever the lock or pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${EXTRAS-test}
venv=${VENV:-.venv}

need_apt=()
# Each engine version's server and tools are a tree built from Debian's packages (below), never the host's
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_apt+=(debootstrap)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
# DB security groups are enforced with nftables (nft); the tests make network namespaces with ip
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need_apt+=(nftables)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need_apt+=(iproute2)
# An encrypted instance's archived binary logs are sealed with openssl
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The libvirt driver's guest template is built from Debian's packages and booted under QEMU; GUESTS= (empty)
# leaves that out, as the process driver's container image does.
if [ -n "${GUESTS-yes}" ]; then
    command -v qemu-system-x86_64 >/dev/null 2>&1 || need_apt+=(qemu-system-x86)
    command -v qemu-img >/dev/null 2>&1 || need_apt+=(qemu-utils)
    command -v lz4 >/dev/null 2>&1 || need_apt+=(lz4)
    # newer suites' kernels (trixie's, for the MariaDB 11.8 guests) are compressed with zstd
    command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
    command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.ext4 ] || need_apt+=(e2fsprogs)
    # libvirtd runs without systemd (the tests start it); the -system package brings its users and config
    { [ -x /usr/sbin/libvirtd ] && id libvirt-qemu >/dev/null 2>&1; } || \
        need_apt+=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients)
    # libvirt-python (pinned in requirements-test.txt) builds from source against the installed libvirt
    pkg-config --exists libvirt 2>/dev/null || need_apt+=(libvirt-dev pkg-config python3-dev gcc)
fi
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

lock=requirements.txt
spec="."
if [ -n "$extras" ]; then
    lock=requirements-test.txt
    spec=".[$extras]"
fi
stamp="$venv/.installed"
want="$spec $(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing $spec into $venv from $lock"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # Pinned, and no site-wide constraints: the lock alone decides what is installed.
    export PIP_CONSTRAINT= PIP_DISABLE_PIP_VERSION_CHECK=1
    "$venv/bin/pip" install -q -r "$lock"
    "$venv/bin/pip" install -q --no-deps --no-build-isolation -e .
    "$venv/bin/pip" check >/dev/null
    echo "$want" > "$stamp"
fi
# Every engine version's server tree, built once (about a minute each from Debian's mirror) and cached.
if [ "$(id -u)" = 0 ]; then
    "$venv/bin/rds-emulator" image build --all-engines
else
    echo "setup: not root: engine versions' servers are built by the first run as root"
fi
echo "setup: ready"

# shellcheck shell=bash
# Shared by deploy/dev/up, deploy/dev/down, deploy/dev/stack and tests/run (sourced, bash).
# Everything a local stack needs: Debian packages, the build, and helpers that print progress.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian 12 packages for building, running and testing.
PACKAGES=(
    build-essential autoconf automake pkg-config clang
    libfcgi-dev libyajl-dev libpq-dev libsodium-dev libcrypt-dev libsystemd-dev libcmocka-dev
    libcurl4-openssl-dev
    postgresql postgresql-client nginx-light
    python3 python3-pytest python3-psycopg2 curl wrk systemd man-db strace
    chromium
)

say() { printf '==> %s\n' "$*"; }

# The state of the checkout's dev stack (deploy/dev/up): outside the checkout, because PostgreSQL,
# the daemon and nginx run as their own users and a checkout may sit where only root can enter
# (/root is 0700). .run in the checkout is a link to it.
dev_state_dir() {
    printf '/var/lib/webhookd-dev/%s\n' "$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)"
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}): run as root or install them"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine has no package lists: update before installing.
    apt-get update -qq || die "apt-get update failed"
    # Installing nginx or PostgreSQL may start Debian's own instances where systemd runs;
    # policy-rc.d keeps them stopped: this stack runs its own, on its own ports.
    local policy=/usr/sbin/policy-rc.d created_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    local rc=$?
    [ -n "$created_policy" ] && rm -f "$policy"
    [ $rc -eq 0 ] || die "apt-get install failed"
}

# build DIR [configure args]: an out-of-tree build in $ROOT/DIR (build/ is the one deploy/dev/up
# runs; tests/run adds build-sanitizers/). The source tree itself is never configured.
build() {
    local dir=$1; shift
    local want="$*" have=
    ( cd "$ROOT" && { [ -x configure ] || ./autogen.sh >/dev/null 2>&1; } ) || die "autogen.sh failed"
    { mkdir -p "$ROOT/$dir" && cd "$ROOT/$dir"; } || die "cannot enter $ROOT/$dir"
    [ -f .configure-args ] && have=$(cat .configure-args)
    if [ ! -f Makefile ] || [ "$want" != "$have" ]; then
        say "configuring $dir${want:+ ($want)}"
        "$ROOT/configure" -q --enable-werror "$@" || die "configure failed"
        printf '%s' "$want" > .configure-args
    fi
    say "building $dir"
    make -s -j"$(nproc)" >/dev/null || { make -j1; die "build failed"; }
    cd "$ROOT" || die "cannot enter $ROOT"
}

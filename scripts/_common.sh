# shellcheck shell=bash
# Shared helpers for SupportGym's offline infrastructure scripts.
# Sourced, never executed. Callers must already run under `set -euo pipefail`.

SUPPORTGYM_CACHE="${SUPPORTGYM_CACHE:-$HOME/.cache/supportgym}"
export SUPPORTGYM_CACHE

# Name of the calling script, for log prefixes.
_SG_NAME="$(basename -- "${0}")"

log()  { printf '[%s] %s\n' "$_SG_NAME" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$_SG_NAME" "$*" >&2; }
die()  { # die EXIT_CODE MESSAGE...
    local code="$1"; shift
    printf '[%s] ERROR: %s\n' "$_SG_NAME" "$*" >&2
    exit "$code"
}

# Print the leading comment block of the calling script (the usage text).
usage_from_header() {
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# Run a command as root (directly, or through sudo when available).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        return 1
    fi
}

_SG_APT_UPDATED=0
# apt_install PKG... — non-interactive install from Debian's packages.
# apt's chatter goes to $SUPPORTGYM_CACHE/apt.log; its tail is shown on failure.
apt_install() {
    command -v apt-get >/dev/null 2>&1 || { warn "apt-get not available"; return 1; }
    mkdir -p "$SUPPORTGYM_CACHE"
    local aptlog="$SUPPORTGYM_CACHE/apt.log"
    local envs=(env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1)
    if [ "$_SG_APT_UPDATED" -eq 0 ]; then
        log "apt-get update (log: $aptlog)"
        if ! as_root "${envs[@]}" apt-get update >>"$aptlog" 2>&1; then
            tail -n 20 "$aptlog" >&2; return 1
        fi
        _SG_APT_UPDATED=1
    fi
    log "apt-get install -y $* (log: $aptlog)"
    if ! as_root "${envs[@]}" apt-get install -y "$@" >>"$aptlog" 2>&1; then
        tail -n 20 "$aptlog" >&2; return 1
    fi
}

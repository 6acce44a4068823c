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

# --- the llama.cpp build ---------------------------------------------------------------------
# CMake flags of the llama-cpp-python build (CMAKE_ARGS overrides them). The default is a
# portable build, not -march=native: on x86-64, AVX2/FMA/F16C and no AVX-512 or AMX. Two
# reasons: llama.cpp's AMX matmul segfaults at the first prompt on Sapphire Rapids CPUs
# (llama.cpp issue 20824, seen on this project's machines), and a wheel cached by one CI
# machine must also run on the next, whatever its CPU.
llama_cmake_args() {
    if [ -n "${CMAKE_ARGS:-}" ]; then
        printf '%s\n' "$CMAKE_ARGS"
    elif [ "$(uname -m)" = "x86_64" ]; then
        printf '%s\n' "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    else
        printf '%s\n' "-DGGML_NATIVE=OFF"
    fi
}
LLAMA_VERSION="${SUPPORTGYM_LLAMA_CPP_VERSION:-0.3.36}"
# The build's identity: version and flags. The llama wheel lives in a folder named after it,
# and installs record it, so changing the flags rebuilds and reinstalls instead of reusing.
LLAMA_FLAVOUR="$LLAMA_VERSION-$(printf '%s' "$(llama_cmake_args)" | sha1sum | cut -c1-10)"
WHEELHOUSE="$SUPPORTGYM_CACHE/wheelhouse"
LLAMA_WHEEL_DIR="$WHEELHOUSE/llama-$LLAMA_FLAVOUR"

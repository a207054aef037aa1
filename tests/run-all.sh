#!/usr/bin/env bash
# Runs every check and test of the project, as CI does: on Debian bookworm, as root (the
# real-stack tests install packages once and run each test in its own network namespace).
#   bash tests/run-all.sh
# Twice: against Debian 12's kamailio 5.6.3 (the installed packages), then against Kamailio
# 6.0.1 (Debian 13's), built from Debian trixie's source package into target/kamailio/6.0.1/
# and used through KAMAILIO_BIN (the build's host) and KAMAILIO_PREFIX (the test stack's host),
# with its own target dir (target/k60) so neither run can load the other's modules.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n[run-all] %s\n' "$*"; }

# The host comes from the installed `kamailio -v` (5.6.3 part) or from the lines below (6.0.1
# part), never from the caller's environment.
unset KAMAILIO_BIN KAMAILIO_PREFIX KAMAILIO_VERSION KAMAILIO_FLAGS KAMAILIO_UNTESTED_HOST

T0=$SECONDS
failed=()

say "installing and building what the real-stack tests need"
bash tests/stack/setup.sh

if ! command -v cargo-nextest >/dev/null 2>&1; then
    say "installing cargo-nextest"
    cargo install --locked cargo-nextest
fi

# ---- Kamailio 5.6.3 (Debian 12's packages) ----
T56=$SECONDS
say "5.6.3: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

say "5.6.3: building the modules (this also regenerates include/pua_xmpp.h)"
cargo build --workspace
if ! git diff --quiet -- include/pua_xmpp.h; then
    git --no-pager diff -- include/pua_xmpp.h
    echo "include/pua_xmpp.h is stale: commit the regenerated header" >&2
    exit 1
fi

say "5.6.3: tests (unit, property, fake-host FFI, C consumer, layout, real Kamailio + Prosody)"
cargo nextest run --workspace --no-fail-fast || failed+=("tests against 5.6.3")
T56=$((SECONDS - T56))

# ---- Kamailio 6.0.1 (Debian 13's, built from its source package) ----
TB=$SECONDS
say "6.0.1: building Kamailio from Debian trixie's source package (skipped when up to date)"
bash tests/stack/build-kamailio-6.0.sh
TB=$((SECONDS - TB))

T60=$SECONDS
K60="$PWD/target/kamailio/6.0.1"
run60() {
    KAMAILIO_BIN="$K60/sbin/kamailio" KAMAILIO_PREFIX="$K60" CARGO_TARGET_DIR="$PWD/target/k60" "$@"
}
say "6.0.1: lints"
run60 cargo clippy --workspace --all-targets -- -D warnings

say "6.0.1: building the modules"
run60 cargo build --workspace

say "6.0.1: tests (the same suite)"
run60 cargo nextest run --workspace --no-fail-fast || failed+=("tests against 6.0.1")
T60=$((SECONDS - T60))

say "timing: 5.6.3 part ${T56} s, 6.0.1 build ${TB} s, 6.0.1 part ${T60} s, total $((SECONDS - T0)) s"
if [ "${#failed[@]}" -gt 0 ]; then
    printf '[run-all] FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
say "all passed"

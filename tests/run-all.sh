#!/usr/bin/env bash
# Runs every check and test of the project, as CI does: on Debian bookworm, as root (the
# real-stack tests install packages once and run each test in its own network namespace).
#   bash tests/run-all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n[run-all] %s\n' "$*"; }

say "installing and building what the real-stack tests need"
bash tests/stack/setup.sh

if ! command -v cargo-nextest >/dev/null 2>&1; then
    say "installing cargo-nextest"
    cargo install --locked cargo-nextest
fi

say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

say "building the modules (this also regenerates include/pua_xmpp.h)"
cargo build --workspace
if ! git diff --quiet -- include/pua_xmpp.h; then
    git --no-pager diff -- include/pua_xmpp.h
    echo "include/pua_xmpp.h is stale: commit the regenerated header" >&2
    exit 1
fi

say "tests (unit, property, fake-host FFI, C consumer, layout, real Kamailio + Prosody)"
cargo nextest run --workspace --no-fail-fast

#!/bin/sh
# Runs every fuzz target for $1 seconds (default 600), one after the other, at low priority,
# from binaries built beforehand with `RUSTC_BOOTSTRAP=1 cargo fuzz build -O`.
cd "$(dirname "$0")"
secs=${1:-600}
bin=target/x86_64-unknown-linux-gnu/release
logs=target/logs
mkdir -p $logs
for target in ${TARGETS:-pidf xmpp_presence watcherinfo sip_message subscription_state xmpp_stanza}; do
    mkdir -p corpus/$target artifacts/$target
    nice -n 10 $bin/$target -max_total_time=$secs -print_final_stats=1 \
        -artifact_prefix=artifacts/$target/ corpus/$target > $logs/$target.log 2>&1
    echo "$target exit $?" >> $logs/summary.log
done

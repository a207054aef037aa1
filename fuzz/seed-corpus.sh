#!/bin/sh
# Seeds each fuzz target's corpus from the crate's test data files.
set -e
cd "$(dirname "$0")"
data=../crates/presence/tests/data
mkdir -p corpus/pidf corpus/xmpp_presence corpus/watcherinfo corpus/sip_message corpus/subscription_state
cp "$data"/pidf_*.xml "$data"/bad_*.xml corpus/pidf/
cp "$data"/xmpp_*.xml corpus/xmpp_presence/
cp "$data"/winfo_*.xml corpus/watcherinfo/
cp "$data"/sip_*.txt corpus/sip_message/
i=0
for value in 'active;expires=3600' 'terminated;reason=timeout' 'Terminated ; Reason = "giveup" ; retry-after=30' \
    'pending' 'terminated;reason=noresource;x="a;b\"c"' 'presence;id=1' 'presence.winfo'; do
    i=$((i + 1))
    printf '%s' "$value" > corpus/subscription_state/seed$i
done

#!/bin/sh
# Seeds each fuzz target's corpus from the crate's test data files.
set -e
cd "$(dirname "$0")"
data=../crates/presence/tests/data
mkdir -p corpus/pidf corpus/xmpp_presence corpus/watcherinfo corpus/sip_message corpus/subscription_state \
    corpus/xmpp_stanza
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
i=0
for stanza in "<message from='carol@xmpp.example/laptop' to='alice*sip.example@gw' type='chat' id='c1'><body>It&apos;s 1 &lt; 2</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>" \
    "<presence from='a*sip.example@gw' to='bob@xmpp.example'><show>dnd</show><status xml:lang='en'>In a call</status><priority>1</priority></presence>" \
    "<iq type='get' id='v1' from='a@b/r' to='gw'><query xmlns='jabber:iq:version'/></iq>" \
    "<message from='a' to='b'><body><![CDATA[<x>]]>&#65;</body></message>"; do
    i=$((i + 1))
    printf '%s' "$stanza" > corpus/xmpp_stanza/seed$i
done

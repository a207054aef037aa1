//! The messages: PIDF bodies of the NOTIFYs (one tuple with a note; ten tuples with RPID, the
//! shape presence_xml aggregates from ten devices) and the XMPP stanzas injected into the gateway.

/// NOTIFY body kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    OneTuple,
    TenTuples,
}

impl Body {
    pub fn label(self) -> &'static str {
        match self {
            Body::OneTuple => "1-tuple",
            Body::TenTuples => "10-tuple",
        }
    }

    /// The PIDF document. The first tuple is open, as the C module reads only the first
    /// `<basic>` (a closed first tuple would skip the rest of its work).
    pub fn pidf(self) -> Vec<u8> {
        match self {
            Body::OneTuple => b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:alice@sip.example\">\n\
  <tuple id=\"a8f3kz0\">\n\
    <status>\n\
      <basic>open</basic>\n\
    </status>\n\
    <contact priority=\"0.8\">sip:alice@192.0.2.10:5060</contact>\n\
    <note>Working from home today</note>\n\
  </tuple>\n\
</presence>\n"
                .to_vec(),
            Body::TenTuples => ten_tuples().into_bytes(),
        }
    }
}

fn ten_tuples() -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" \
xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" \
xmlns:c=\"urn:ietf:params:xml:ns:pidf:cipid\" entity=\"sip:alice@sip.example\">\n",
    );
    let devices = [
        "desk phone",
        "softphone",
        "mobile",
        "tablet",
        "web client",
        "conference room",
        "car kit",
        "home office",
        "headset",
        "watch",
    ];
    for (i, dev) in devices.iter().enumerate() {
        let basic = if i % 3 == 2 { "closed" } else { "open" };
        xml.push_str(&format!(
            "  <tuple id=\"t{i}x7\">\n\
    <status><basic>{basic}</basic></status>\n\
    <rpid:user-input idle-threshold=\"600\">active</rpid:user-input>\n\
    <rpid:class>device-{i}</rpid:class>\n\
    <dm:deviceID>urn:uuid:6c8f0d3e-0000-4000-8000-00000000000{i}</dm:deviceID>\n\
    <contact priority=\"0.{p}\">sip:alice@192.0.2.{h}:5060;transport=udp</contact>\n\
    <note xml:lang=\"en\">On the {dev}</note>\n\
    <timestamp>2025-11-26T06:0{i}:00Z</timestamp>\n\
  </tuple>\n",
            p = 9 - i,
            h = 10 + i,
        ));
    }
    xml.push_str(
        "  <dm:person id=\"p1\">\n\
    <rpid:activities><rpid:on-the-phone/></rpid:activities>\n\
    <rpid:mood><rpid:happy/></rpid:mood>\n\
    <c:display-name>Alice</c:display-name>\n\
    <dm:note>In a call until 3pm</dm:note>\n\
    <dm:timestamp>2025-11-26T06:10:00Z</dm:timestamp>\n\
  </dm:person>\n\
</presence>\n",
    );
    xml
}

/// `<presence type='subscribe'>` from XMPP user `bobN` to SIP user `aliceN`: the gateway then
/// subscribes to sip:aliceN@sip.example.
pub fn subscribe_stanza(n: usize) -> String {
    format!(
        "<presence from='bob{n}@xmpp.example' to='alice{n}*sip.example@sip-gw.xmpp.example' \
         type='subscribe' id='s{n}'/>"
    )
}

/// The `i`-th stanza of the XMPP -> SIP run over `users` users: user `i % users`, available
/// (with show, status, priority and caps, as a client sends it) in even rounds, unavailable
/// in odd rounds, so every user's presence alternates.
pub fn user_presence(i: u64, users: u64) -> String {
    let u = i % users;
    let from = format!("carol{u}@xmpp.example/laptop");
    let to = format!("alice{u}*sip.example@sip-gw.xmpp.example");
    if (i / users).is_multiple_of(2) {
        format!(
            "<presence from='{from}' to='{to}' xml:lang='en'><show>away</show>\
             <status>Back in ten minutes</status><priority>5</priority>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' \
             ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>"
        )
    } else {
        format!("<presence from='{from}' to='{to}' type='unavailable'/>")
    }
}

/// Text of the `i`-th SIP MESSAGE to an XMPP user (about 100 bytes, with characters the
/// transport must escape in the stanza's `<body>`).
pub fn sip_message_text(i: u64) -> String {
    format!("Meeting moved to room 4 <B> & starts at 3pm, bring the \"Q3\" slides. (message {i})")
}

/// The `i`-th chat message from XMPP user `carolN` to SIP user `aliceN` (N = i mod `users`),
/// as a client sends it: the gateway makes it a SIP MESSAGE to sip:aliceN@sip.example.
pub fn chat_stanza(i: u64, users: u64) -> String {
    let u = i % users;
    format!(
        "<message from='carol{u}@xmpp.example/laptop' to='alice{u}*sip.example@sip-gw.xmpp.example' \
         type='chat' id='c{i}' xml:lang='en'><body>Can you call me back after the meeting? \
         It&apos;s about the Q3 &amp; Q4 numbers. ({i})</body>\
         <active xmlns='http://jabber.org/protocol/chatstates'/></message>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_announced_shape() {
        let one = String::from_utf8(Body::OneTuple.pidf()).unwrap();
        assert_eq!(one.matches("<tuple").count(), 1);
        assert!(one.contains("<note>"));
        let ten = String::from_utf8(Body::TenTuples.pidf()).unwrap();
        assert_eq!(ten.matches("<tuple").count(), 10);
        assert!(ten.contains("<rpid:activities>"));
        assert!(ten.find("<basic>open").unwrap() < ten.find("<basic>closed").unwrap());
    }

    #[test]
    fn presences_alternate_per_user() {
        assert!(!user_presence(3, 10).contains("unavailable"));
        assert!(user_presence(13, 10).contains("type='unavailable'"));
        assert!(user_presence(13, 10).contains("carol3@"));
    }

    #[test]
    fn messages_address_the_same_users() {
        assert!(chat_stanza(12, 10).contains("from='carol2@xmpp.example/laptop'"));
        assert!(chat_stanza(12, 10).contains("to='alice2*sip.example@"));
        assert!(sip_message_text(7).ends_with("(message 7)"));
    }
}

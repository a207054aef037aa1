//! The SIP MESSAGE made from an XMPP `<message>`, as the C module's `xmpp_send_sip_msg`: From
//! is the sender's JID encoded as a gateway SIP URI (also the Contact), the Request-URI and To
//! are the recipient decoded from its JID, the body is the text, sent through tm's
//! `t_uac_send` to `outbound_proxy` if set.

use xmpp_component_link::address::AddressConfig;
use xmpp_component_link::stanza::InboundMessage;

/// A MESSAGE ready for `t_uac_send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub ruri: String,
    /// Header lines, each ending in CRLF (no Content-Length: tm adds it).
    pub headers: String,
    pub body: String,
}

/// Characters that would let an address break out of its header line or its `<>`.
fn header_safe(uri: &str) -> bool {
    !uri.contains(['\r', '\n', '\0', '<', '>'])
}

/// Builds the MESSAGE for `message`, or says why it cannot be sent.
pub fn build(addresses: &AddressConfig, message: &InboundMessage) -> Result<OutMessage, String> {
    let from = addresses
        .encode_uri_xmpp_sip(&message.from)
        .ok_or_else(|| format!("cannot translate sender '{}'", message.from))?;
    let to = addresses
        .decode_uri_xmpp_sip(&message.to)
        .ok_or_else(|| format!("cannot translate recipient '{}'", message.to))?;
    if !header_safe(&from) || !header_safe(&to) {
        return Err(format!("unsafe address in <{from}> or <{to}>"));
    }
    Ok(OutMessage {
        headers: format!(
            "From: <{from}>\r\nTo: <{to}>\r\nContact: <{from}>\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n"
        ),
        ruri: to,
        body: message.body.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(from: &str, to: &str) -> InboundMessage {
        InboundMessage {
            from: from.into(),
            to: to.into(),
            body: "hi".into(),
            id: None,
        }
    }

    #[test]
    fn addresses_like_c() {
        let a = AddressConfig {
            gateway_domain: "gw.sip".into(),
            xmpp_domain: "gw.xmpp".into(),
            ..AddressConfig::default()
        };
        let m = build(
            &a,
            &inbound("bob@x.example/phone", "alice*sip.example@gw.xmpp"),
        )
        .unwrap();
        assert_eq!(m.ruri, "sip:alice@sip.example");
        assert_eq!(
            m.headers,
            "From: <sip:bob*x.example@gw.sip>\r\nTo: <sip:alice@sip.example>\r\n\
             Contact: <sip:bob*x.example@gw.sip>\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        );
        assert!(build(&a, &inbound("bob@x.example", "a>b*c@gw.xmpp")).is_err());
        assert!(build(&a, &inbound("", "alice*s@gw.xmpp")).is_err());
    }
}

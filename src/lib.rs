//! pua_xmpp.

//! Real Kamailio + Prosody test stack.

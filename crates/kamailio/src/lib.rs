//! Kamailio module ABI.

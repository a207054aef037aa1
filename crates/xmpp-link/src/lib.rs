//! XEP-0114 component link.

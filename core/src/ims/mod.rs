//! 3GPP IMS specifics: the registration event package body (RFC 3680 reginfo).

pub mod reginfo;

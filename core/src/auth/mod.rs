//! Authentication for SIP requests: HTTP Digest (RFC 2617, RFC 7616, RFC 8760 as used by
//! RFC 3261 §22), IMS AKA on top of it (RFC 3310, RFC 4169) and Milenage (TS 35.206).

pub mod aka;
pub mod digest;
pub mod milenage;

pub use aka::{AkaAnswer, AkaError, AkaKeys, AkaVersion, SqnState, answer};
pub use milenage::{F2345, Milenage};

pub use digest::{
    Algorithm, DigestChallenge, DigestError, DigestRequest, Ha1, HexDigest, Qop, Secret,
    write_authorization, write_authorization_with,
};

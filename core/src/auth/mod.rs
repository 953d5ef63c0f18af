//! Authentication for SIP requests: HTTP Digest (RFC 2617, RFC 7616, RFC 8760 as used by
//! RFC 3261 §22); IMS AKA comes later on top of the same pieces.

pub mod digest;

pub use digest::{
    Algorithm, DigestChallenge, DigestError, DigestRequest, Ha1, HexDigest, Qop, Secret,
    write_authorization,
};

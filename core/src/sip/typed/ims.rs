//! 3GPP headers: P-Access-Network-Info (RFC 7315), P-Charging-Vector (RFC 7315),
//! Security-Client/-Server/-Verify (RFC 3329).

use super::params::{Params, scan_params};
use super::{TypedHeader, expect_end, token, unexpected, value_error};
use crate::sip::chars::{Scanner, as_str, is_token};
use crate::sip::error::{HeaderError, HeaderErrorKind};
use crate::sip::header::HeaderKind;

fn token_with_params(value: &[u8]) -> Result<(&str, Params<'_>), HeaderError> {
    let mut scanner = Scanner::for_value(value);
    let first = token(&mut scanner)?;
    let params = scan_params(&mut scanner)?;
    expect_end(&mut scanner)?;
    Ok((first, params))
}

/// `P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=...` (RFC 7315 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PAccessNetworkInfo<'a> {
    /// The access type, e.g. `3GPP-E-UTRAN-FDD`, `IEEE-802.11`.
    pub access_type: &'a str,
    /// The access info parameters.
    pub params: Params<'a>,
}

impl<'a> TypedHeader<'a> for PAccessNetworkInfo<'a> {
    const KIND: HeaderKind = HeaderKind::PAccessNetworkInfo;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        let (access_type, params) = token_with_params(value)?;
        Ok(PAccessNetworkInfo {
            access_type,
            params,
        })
    }
}

/// `P-Charging-Vector: icid-value=...; orig-ioi=...` (RFC 7315 §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PChargingVector<'a> {
    /// The `icid-value`.
    pub icid_value: &'a str,
    /// All parameters, `icid-value` included.
    pub params: Params<'a>,
}

impl<'a> PChargingVector<'a> {
    /// `icid-generated-at`
    pub fn icid_generated_at(&self) -> Option<&'a str> {
        self.params.value("icid-generated-at").flatten()
    }
    /// `orig-ioi`
    pub fn orig_ioi(&self) -> Option<&'a str> {
        self.params.value("orig-ioi").flatten()
    }
    /// `term-ioi`
    pub fn term_ioi(&self) -> Option<&'a str> {
        self.params.value("term-ioi").flatten()
    }
}

impl<'a> TypedHeader<'a> for PChargingVector<'a> {
    const KIND: HeaderKind = HeaderKind::PChargingVector;
    fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
        // The value is a parameter list whose first element is icid-value=...; read it
        // as params by prefixing the scan with a virtual ';'.
        let mut scanner = Scanner::for_value(value);
        scanner.skip_ws();
        let start = scanner.pos();
        let name = token(&mut scanner)?;
        if !name.eq_ignore_ascii_case("icid-value") {
            return Err(value_error(HeaderErrorKind::Missing, start));
        }
        scanner.skip_ws();
        if !scanner.eat(b'=') {
            return Err(unexpected(&scanner));
        }
        scanner.skip_ws();
        let icid_offset = scanner.pos();
        let icid = if scanner.peek() == Some(b'"') {
            scanner
                .quoted_string()
                .ok_or_else(|| value_error(HeaderErrorKind::UnterminatedQuote, icid_offset))?
        } else {
            scanner.take_while(|b| is_token(b) || b == b':' || b == b'[' || b == b']')
        };
        let icid_value =
            as_str(icid).ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, icid_offset))?;
        if icid_value.is_empty() {
            return Err(unexpected(&scanner));
        }
        let params = scan_params(&mut scanner)?;
        expect_end(&mut scanner)?;
        Ok(PChargingVector { icid_value, params })
    }
}

/// One security mechanism of Security-Client/-Server/-Verify (RFC 3329 §2.2), e.g.
/// `ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1111; spi-s=2222; port-c=5062; port-s=5064`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityMechanism<'a> {
    /// The mechanism: `digest`, `tls`, `ipsec-ike`, `ipsec-man`, `ipsec-3gpp`, ...
    pub mechanism: &'a str,
    /// The parameters.
    pub params: Params<'a>,
}

impl<'a> SecurityMechanism<'a> {
    /// `q` preference as thousandths.
    pub fn q(&self) -> Option<u16> {
        super::name_addr::parse_qvalue(self.params.value("q")??)
    }
    /// `alg` (integrity algorithm)
    pub fn alg(&self) -> Option<&'a str> {
        self.params.value("alg").flatten()
    }
    /// `ealg` (encryption algorithm)
    pub fn ealg(&self) -> Option<&'a str> {
        self.params.value("ealg").flatten()
    }
    /// `prot`
    pub fn prot(&self) -> Option<&'a str> {
        self.params.value("prot").flatten()
    }
    /// `mod`
    pub fn mode(&self) -> Option<&'a str> {
        self.params.value("mod").flatten()
    }
    fn number(&self, name: &str) -> Option<u32> {
        self.params.value(name)??.parse().ok()
    }
    /// `spi-c`
    pub fn spi_c(&self) -> Option<u32> {
        self.number("spi-c")
    }
    /// `spi-s`
    pub fn spi_s(&self) -> Option<u32> {
        self.number("spi-s")
    }
    /// `port-c`
    pub fn port_c(&self) -> Option<u16> {
        self.number("port-c").and_then(|p| u16::try_from(p).ok())
    }
    /// `port-s`
    pub fn port_s(&self) -> Option<u16> {
        self.number("port-s").and_then(|p| u16::try_from(p).ok())
    }
}

macro_rules! security_header {
    ($( $(#[$doc:meta])* $name:ident => $kind:ident; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name<'a>(pub SecurityMechanism<'a>);

            impl<'a> std::ops::Deref for $name<'a> {
                type Target = SecurityMechanism<'a>;
                fn deref(&self) -> &SecurityMechanism<'a> {
                    &self.0
                }
            }

            impl<'a> TypedHeader<'a> for $name<'a> {
                const KIND: HeaderKind = HeaderKind::$kind;
                fn parse(value: &'a [u8]) -> Result<Self, HeaderError> {
                    let (mechanism, params) = token_with_params(value)?;
                    Ok($name(SecurityMechanism { mechanism, params }))
                }
            }
        )*
    };
}

security_header! {
    /// One `Security-Client` mechanism.
    SecurityClient => SecurityClient;
    /// One `Security-Server` mechanism.
    SecurityServer => SecurityServer;
    /// One `Security-Verify` mechanism.
    SecurityVerify => SecurityVerify;
}

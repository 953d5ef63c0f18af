//! The TOML configuration file: engine settings and accounts.
//!
//! ```toml
//! listen = "127.0.0.1:0"          # UDP and TCP on one port; 0 = any free port
//! t1_ms = 500                     # RFC 3261 timers (optional)
//!
//! [[accounts]]
//! aor = "sip:alice@ims.test"
//! password = "ims-demo"
//! proxy = "127.0.0.1:5060"        # or "sip:pcscf.ims.test:5060;transport=tcp"; leave out
//!                                 # to find the P-CSCF in DNS from the AOR's domain
//! transport = "udp"               # udp or tcp (default: the proxy URI's, else udp)
//! expires = 600
//! ```
//!
//! Reading the file is the caller's business (`std::fs::read_to_string`); this module
//! only parses and checks. Passwords never appear in `Debug` output.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::Secret;
use crate::auth::{AkaKeys, SqnState};
use crate::engine::{EngineConfig, RegistrationPolicy};
use crate::sip::Uri;
use crate::transaction::TimerConfig;
use crate::transport::Transport;
use crate::ua::{AccountConfig, ImsConfig};

/// A parsed configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen (UDP and TCP on the same port). Default `0.0.0.0:0`: any address,
    /// any free port; the driver then advertises the address that routes to the proxy.
    #[serde(default)]
    pub listen: Option<String>,
    /// The User-Agent header (default `ims-rs/<version>`; empty string sends none).
    #[serde(default)]
    pub user_agent: Option<String>,
    /// T1 in milliseconds (default 500).
    #[serde(default)]
    pub t1_ms: Option<u64>,
    /// T2 in milliseconds (default 4000).
    #[serde(default)]
    pub t2_ms: Option<u64>,
    /// T4 in milliseconds (default 5000).
    #[serde(default)]
    pub t4_ms: Option<u64>,
    /// Refresh this many seconds before a registration expires (default 30).
    #[serde(default)]
    pub refresh_margin_s: Option<u64>,
    /// First registration retry delay in seconds (default 5).
    #[serde(default)]
    pub retry_base_s: Option<u64>,
    /// Longest registration retry delay in seconds (default 300).
    #[serde(default)]
    pub retry_max_s: Option<u64>,
    /// The accounts.
    #[serde(default)]
    pub accounts: Vec<AccountSettings>,
}

/// One `[[accounts]]` table.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Address of record, `sip:alice@ims.test`.
    pub aor: String,
    /// The password.
    pub password: String,
    /// Authentication user name (default: the AOR's user).
    #[serde(default)]
    pub auth_username: Option<String>,
    /// Only answer challenges from this realm.
    #[serde(default)]
    pub realm: Option<String>,
    /// REGISTER Request-URI (default `sip:<domain>`).
    #[serde(default)]
    pub registrar: Option<String>,
    /// Next hop: `host[:port]`, `[v6]:port` or `sip:host[:port][;transport=tcp]`. When
    /// absent, the caller finds the P-CSCF by DNS (RFC 3263) from [`domain`](Self::domain).
    #[serde(default)]
    pub proxy: Option<String>,
    /// `udp` or `tcp` (default: the proxy URI's transport, else udp; without a proxy, what
    /// DNS offers).
    #[serde(default)]
    pub transport: Option<Transport>,
    /// Registration lifetime in seconds (default 600).
    #[serde(default)]
    pub expires: Option<u32>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `+sip.instance` value, e.g. `<urn:uuid:...>`.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// IMS settings (`[accounts.ims]`); absent for a plain SIP account.
    #[serde(default)]
    pub ims: Option<ImsSettings>,
    /// DNS server (`ip:port`) for finding the P-CSCF when no `proxy` is given (default:
    /// the system's resolver).
    #[serde(default)]
    pub dns_server: Option<SocketAddr>,
}

/// `[accounts.ims]`: what makes an account an IMS one (TS 24.229).
///
/// ```toml
/// [accounts.ims]
/// k = "465b5ce8b199b49faa5f0a2ee238a6bc"     # ISIM key, hex (AKA); never logged
/// opc = "cd63cb71954a9f4e48a5994e37a02baf"   # or op = "..."
/// amf = "8000"
/// access_network_info = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B"
/// reg_event = true
/// ```
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImsSettings {
    /// K, 32 hex digits (for AKAv1/AKAv2-MD5 challenges).
    #[serde(default)]
    pub k: Option<String>,
    /// OP, 32 hex digits (give OP or OPc).
    #[serde(default)]
    pub op: Option<String>,
    /// OPc, 32 hex digits.
    #[serde(default)]
    pub opc: Option<String>,
    /// AMF, 4 hex digits (default `8000`).
    #[serde(default)]
    pub amf: Option<String>,
    /// P-Access-Network-Info value.
    #[serde(default)]
    pub access_network_info: Option<String>,
    /// Security-Client value for sec-agree header negotiation (no IPsec yet).
    #[serde(default)]
    pub security_client: Option<String>,
    /// Subscribe to the reg event after registering (default true).
    #[serde(default)]
    pub reg_event: Option<bool>,
    /// Add gruu to Supported.
    #[serde(default)]
    pub gruu: bool,
    /// P-Preferred-Identity for requests other than REGISTER.
    #[serde(default)]
    pub preferred_identity: Option<String>,
}

impl std::fmt::Debug for ImsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ImsSettings")
            .field("k", &hidden(&self.k))
            .field("op", &hidden(&self.op))
            .field("opc", &hidden(&self.opc))
            .field("amf", &self.amf)
            .field("access_network_info", &self.access_network_info)
            .field("security_client", &self.security_client)
            .field("reg_event", &self.reg_event)
            .field("gruu", &self.gruu)
            .field("preferred_identity", &self.preferred_identity)
            .finish()
    }
}

impl ImsSettings {
    /// The engine's IMS config (`sqn` starts empty: the application loads the stored one).
    pub fn ims_config(&self) -> Result<ImsConfig, ConfigFileError> {
        let aka = match &self.k {
            Some(k) => Some(
                AkaKeys::from_hex(
                    k,
                    self.op.as_deref(),
                    self.opc.as_deref(),
                    self.amf.as_deref().unwrap_or("8000"),
                )
                .map_err(|e| invalid("ims", e.to_string()))?,
            ),
            None if self.op.is_some() || self.opc.is_some() => {
                return Err(invalid("ims.k", "op/opc given without k"));
            }
            None => None,
        };
        Ok(ImsConfig {
            aka,
            sqn: SqnState::default(),
            access_network_info: self.access_network_info.clone(),
            security_client: self.security_client.clone(),
            gruu: self.gruu,
            reg_event: self.reg_event.unwrap_or(true),
            preferred_identity: self.preferred_identity.clone(),
        })
    }
}

impl std::fmt::Debug for AccountSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSettings")
            .field("aor", &self.aor)
            .field("password", &"<redacted>")
            .field("auth_username", &self.auth_username)
            .field("realm", &self.realm)
            .field("registrar", &self.registrar)
            .field("proxy", &self.proxy)
            .field("transport", &self.transport)
            .field("expires", &self.expires)
            .field("display_name", &self.display_name)
            .field("instance_id", &self.instance_id)
            .field("dns_server", &self.dns_server)
            .finish()
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The TOML is malformed or has unknown keys.
    #[error("configuration: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range or malformed.
    #[error("configuration: {field}: {problem}")]
    Invalid {
        /// Which key.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ConfigFileError {
    ConfigFileError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A next hop as written in the config, before name resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAddress {
    /// Host name or IP address (no brackets).
    pub host: String,
    /// Port (5060 when not given).
    pub port: u16,
    /// `transport=` from a URI form.
    pub transport: Option<Transport>,
}

impl ProxyAddress {
    /// Parses `host[:port]`, `[v6][:port]` or `sip:host[:port][;transport=x]`.
    pub fn parse(text: &str) -> Result<ProxyAddress, ConfigFileError> {
        let text = text.trim();
        if let Ok(address) = text.parse::<SocketAddr>() {
            return Ok(ProxyAddress {
                host: address.ip().to_string(),
                port: address.port(),
                transport: None,
            });
        }
        if text.starts_with("sip:") || text.starts_with("sips:") {
            let uri = Uri::parse(text).map_err(|e| invalid("proxy", e.to_string()))?;
            let transport = match uri.param("transport").flatten() {
                Some(t) => Some(
                    Transport::from_token(t)
                        .ok_or_else(|| invalid("proxy", format!("unsupported transport {t:?}")))?,
                ),
                None => None,
            };
            return Ok(ProxyAddress {
                host: uri.host_str().trim_matches(['[', ']']).to_owned(),
                port: uri.port().unwrap_or(5060),
                transport,
            });
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                let port = port
                    .parse()
                    .map_err(|_| invalid("proxy", format!("bad port in {text:?}")))?;
                (host, port)
            }
            _ => (text, 5060),
        };
        let host = host.trim_matches(['[', ']']);
        if host.is_empty()
            || host
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b == b'/' || b == b';')
        {
            return Err(invalid(
                "proxy",
                format!("{text:?} is not host[:port] or a sip: URI"),
            ));
        }
        Ok(ProxyAddress {
            host: host.to_owned(),
            port,
            transport: None,
        })
    }

    /// `host:port` for name resolution (brackets around IPv6).
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl Config {
    /// Parses and checks a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigFileError> {
        let config: Config = toml::from_str(text)?;
        config.engine_config()?;
        if let Some(listen) = &config.listen {
            listen
                .parse::<SocketAddr>()
                .map_err(|_| invalid("listen", format!("{listen:?} is not ip:port")))?;
        }
        for (index, account) in config.accounts.iter().enumerate() {
            match &account.proxy {
                Some(proxy) => ProxyAddress::parse(proxy)
                    .map(drop)
                    .map_err(|e| invalid(format!("accounts[{index}].proxy"), e.to_string()))?,
                None if account.domain().is_none() => {
                    return Err(invalid(
                        format!("accounts[{index}].proxy"),
                        "missing, and the aor has no domain to find a P-CSCF in DNS",
                    ));
                }
                None => {}
            }
            let checked = account.account_config(
                "127.0.0.1:5060"
                    .parse()
                    .map_err(|_| invalid("proxy", "internal"))?,
            );
            if !checked.aor.starts_with("sip:") && !checked.aor.starts_with("sips:") {
                return Err(invalid(
                    format!("accounts[{index}].aor"),
                    "must be a sip: URI",
                ));
            }
            if let Some(ims) = &account.ims {
                ims.ims_config()
                    .map_err(|e| invalid(format!("accounts[{index}].ims"), e.to_string()))?;
            }
            if account.expires == Some(0) {
                return Err(invalid(
                    format!("accounts[{index}].expires"),
                    "must be at least 1",
                ));
            }
        }
        Ok(config)
    }

    /// The listen address (default `0.0.0.0:0`).
    pub fn listen_address(&self) -> Result<SocketAddr, ConfigFileError> {
        self.listen
            .as_deref()
            .unwrap_or("0.0.0.0:0")
            .parse()
            .map_err(|_| invalid("listen", "not ip:port"))
    }

    /// The engine configuration these settings give (`rng_seed` left to the driver).
    pub fn engine_config(&self) -> Result<EngineConfig, ConfigFileError> {
        let mut engine = EngineConfig::default();
        let ms = Duration::from_millis;
        let defaults = TimerConfig::default();
        engine.timers = TimerConfig {
            t1: self.t1_ms.map_or(defaults.t1, ms),
            t2: self.t2_ms.map_or(defaults.t2, ms),
            t4: self.t4_ms.map_or(defaults.t4, ms),
            timer_d: defaults.timer_d,
        };
        engine
            .timers
            .validate()
            .map_err(|e| invalid("t1_ms/t2_ms/t4_ms", e.to_string()))?;
        match self.user_agent.as_deref() {
            Some("") => engine.user_agent = None,
            Some(agent) => engine.user_agent = Some(agent.to_owned()),
            None => {}
        }
        let policy = RegistrationPolicy::default();
        let secs = Duration::from_secs;
        engine.registration = RegistrationPolicy {
            refresh_margin: self.refresh_margin_s.map_or(policy.refresh_margin, secs),
            retry_base: self.retry_base_s.map_or(policy.retry_base, secs),
            retry_max: self.retry_max_s.map_or(policy.retry_max, secs),
            max_redirects: policy.max_redirects,
        };
        let mut probe = engine.clone();
        probe.rng_seed = Some([0; 32]);
        probe
            .validate()
            .map_err(|e| invalid("engine", e.to_string()))?;
        Ok(engine)
    }
}

impl AccountSettings {
    /// The transport: explicit, else the proxy URI's, else UDP.
    pub fn transport(&self) -> Transport {
        self.transport_preference().unwrap_or(Transport::Udp)
    }

    /// The transport asked for: explicit, else the proxy URI's; `None` leaves the choice to
    /// DNS (NAPTR/SRV) or to the UDP default.
    pub fn transport_preference(&self) -> Option<Transport> {
        self.transport.or_else(|| {
            let proxy = ProxyAddress::parse(self.proxy.as_deref()?).ok()?;
            proxy.transport
        })
    }

    /// The AOR's domain (`ims.test` for `sip:alice@ims.test`), where the P-CSCF is looked up
    /// in DNS when no proxy is configured (RFC 3263 §4, TS 24.229 §9.2.1).
    pub fn domain(&self) -> Option<&str> {
        let host = Uri::parse(&self.aor).ok()?.host_str();
        (!host.is_empty()).then_some(host)
    }

    /// The engine's account config, with the proxy resolved to `proxy`.
    pub fn account_config(&self, proxy: SocketAddr) -> AccountConfig {
        AccountConfig {
            aor: self.aor.clone(),
            display_name: self.display_name.clone(),
            auth_username: self.auth_username.clone(),
            password: Secret::new(self.password.as_str()),
            realm: self.realm.clone(),
            registrar: self.registrar.clone(),
            proxy,
            transport: self.transport(),
            failover: Vec::new(),
            // TS 24.229 §5.1.1.2.1: IMS registrations ask for 600000 s by default.
            expires: self
                .expires
                .unwrap_or(if self.ims.is_some() { 600_000 } else { 600 }),
            instance_id: self.instance_id.clone(),
            contact_user: None,
            local: None,
            // Checked by `Config::from_toml`; a config built by hand with bad keys gets
            // no IMS part rather than a panic.
            ims: self
                .ims
                .as_ref()
                .and_then(|ims| ims.ims_config().ok())
                .map(Box::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
listen = "127.0.0.1:0"
t1_ms = 100

[[accounts]]
aor = "sip:alice@ims.test"
password = "hunter2-secret"
proxy = "sip:127.0.0.1:5070;transport=tcp"
expires = 300
"#;

    #[test]
    fn example_parses_and_maps_to_engine_and_account_config() {
        let config = Config::from_toml(EXAMPLE).unwrap();
        assert_eq!(
            config.listen_address().unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        let engine = config.engine_config().unwrap();
        assert_eq!(engine.timers.t1, Duration::from_millis(100));
        let account = &config.accounts[0];
        assert_eq!(account.transport(), Transport::Tcp);
        let proxy = ProxyAddress::parse(account.proxy.as_deref().unwrap()).unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("127.0.0.1", 5070));
        let engine_account = account.account_config("127.0.0.1:5070".parse().unwrap());
        assert_eq!(engine_account.expires, 300);
        assert_eq!(engine_account.password.expose(), b"hunter2-secret");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let config = Config::from_toml(EXAMPLE).unwrap();
        let shown = format!(
            "{config:?} {:?}",
            config.accounts[0].account_config("127.0.0.1:1".parse().unwrap())
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn typos_and_bad_values_are_named() {
        let typo = Config::from_toml("lisen = \"1.2.3.4:5\"")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("lisen"), "{typo}");
        let t1 = Config::from_toml("t1_ms = 0").unwrap_err().to_string();
        assert!(t1.contains("T1"), "{t1}");
        let proxy = Config::from_toml(
            "[[accounts]]\naor = \"sip:a@b\"\npassword = \"p\"\nproxy = \"sip:x;transport=sctp\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            proxy.contains("accounts[0].proxy") && proxy.contains("sctp"),
            "{proxy}"
        );
    }

    #[test]
    fn without_a_proxy_the_aor_domain_is_for_dns() {
        let config = Config::from_toml(
            "[[accounts]]\naor = \"sip:alice@ims.test\"\npassword = \"p\"\n\n\
             [[accounts]]\naor = \"sip:bob@ims.test\"\npassword = \"p\"\ntransport = \"tcp\"\n",
        )
        .unwrap();
        let alice = &config.accounts[0];
        assert_eq!(alice.proxy, None);
        assert_eq!(alice.domain(), Some("ims.test"));
        assert_eq!(alice.transport_preference(), None);
        assert_eq!(alice.transport(), Transport::Udp);
        assert_eq!(
            config.accounts[1].transport_preference(),
            Some(Transport::Tcp)
        );
        // With a proxy the URI's transport is the preference.
        let config = Config::from_toml(
            "[[accounts]]\naor = \"sip:a@b\"\npassword = \"p\"\nproxy = \"sip:x;transport=tcp\"\n",
        )
        .unwrap();
        assert_eq!(
            config.accounts[0].transport_preference(),
            Some(Transport::Tcp)
        );
        // No proxy and no domain to look up: named.
        let error = Config::from_toml("[[accounts]]\naor = \"alice\"\npassword = \"p\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("accounts[0].proxy"), "{error}");
    }

    #[test]
    fn ims_table_maps_to_aka_keys_and_hides_them() {
        let text = r#"
[[accounts]]
aor = "sip:alice@ims.test"
password = ""
auth_username = "alice@ims.test"
proxy = "127.0.0.1:5060"
[accounts.ims]
k = "465b5ce8b199b49faa5f0a2ee238a6bc"
op = "cdc202d5123e20f62b6d676ac72cb318"
amf = "b9b9"
access_network_info = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B"
"#;
        let config = Config::from_toml(text).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("465b5ce8"), "{shown}");
        let account = config.accounts[0].account_config("127.0.0.1:5060".parse().unwrap());
        assert_eq!(account.expires, 600_000);
        let ims = account.ims.expect("ims part");
        assert!(ims.aka.is_some());
        assert!(ims.reg_event);
        let bad = text.replace("b9b9", "b9");
        let error = Config::from_toml(&bad).unwrap_err().to_string();
        assert!(
            error.contains("accounts[0].ims") && error.contains("AMF"),
            "{error}"
        );
        assert!(!error.contains("465b5ce8"), "{error}");
    }

    #[test]
    fn proxy_forms() {
        let p = |s| ProxyAddress::parse(s).unwrap();
        assert_eq!(p("pcscf.ims.test").port, 5060);
        assert_eq!(p("pcscf.ims.test:5070").host_port(), "pcscf.ims.test:5070");
        assert_eq!(p("[::1]:5080").host_port(), "[::1]:5080");
        assert_eq!(p("::1").host, "::1");
        assert!(ProxyAddress::parse("a b").is_err());
    }
}

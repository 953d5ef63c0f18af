//! Accounts: one user agent's identity, credentials and next hop.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::digest::Secret;
use crate::sip::{Scheme, Uri};
use crate::transport::Transport;

use super::registration::Registration;

/// Names one account (user agent) inside an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub(crate) u32);

impl AccountId {
    /// The index of the account in the engine (0, 1, 2, ... in the order added).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account#{}", self.0)
    }
}

/// What the engine needs to run one account. The driver builds it from the TOML config
/// (with the proxy resolved to an address); tests build it directly.
#[derive(Clone)]
pub struct AccountConfig {
    /// The address of record, `sip:alice@ims.test`.
    pub aor: String,
    /// Display name for From/To (optional).
    pub display_name: Option<String>,
    /// The authentication user name (IMS: the private identity). Defaults to the AOR's user.
    pub auth_username: Option<String>,
    /// The password (Digest). Never printed.
    pub password: Secret,
    /// Only answer challenges for this realm (any realm when `None`).
    pub realm: Option<String>,
    /// The REGISTER Request-URI; defaults to `sip:<domain of the AOR>`.
    pub registrar: Option<String>,
    /// The next hop for every request: outbound proxy, P-CSCF or the registrar itself.
    pub proxy: SocketAddr,
    /// The transport to the proxy.
    pub transport: Transport,
    /// Further next hops, tried in order when the current one times out or fails at the
    /// transport (RFC 3263 §4.3; e.g. the P-CSCFs DNS discovery found).
    pub failover: Vec<(SocketAddr, Transport)>,
    /// Requested registration lifetime in seconds (RFC 3261 §10.2.1.1).
    pub expires: u32,
    /// `+sip.instance` for the Contact (RFC 5626 §4.1), e.g. `<urn:uuid:...>`.
    pub instance_id: Option<String>,
    /// User part of the Contact URI; defaults to the AOR's user.
    pub contact_user: Option<String>,
    /// The local address this account sends from and puts in its Via and Contact: one the
    /// engine was given with `Engine::add_local` for this transport. `None` takes the
    /// engine's first local address of the transport and the proxy's address family.
    /// A load generator gives each virtual user its own port this way, as a P-CSCF
    /// tells UEs apart by address and port.
    pub local: Option<SocketAddr>,
    /// IMS behaviour (TS 24.229 §5.1.1); `None` for a plain SIP account. Boxed: with the
    /// AKA keys and SQN state it is about 1 KiB, which a plain account should not carry.
    pub ims: Option<Box<ImsConfig>>,
}

/// What makes an account an IMS one (TS 24.229 §5.1.1).
#[derive(Debug, Clone, Default)]
pub struct ImsConfig {
    /// The ISIM's K, OP/OPc and AMF for AKAv1-/AKAv2-MD5 challenges (RFC 3310, RFC 4169).
    /// Without them only Digest with the password works.
    pub aka: Option<crate::auth::AkaKeys>,
    /// The highest SQNs accepted so far, as the store kept them
    /// ([`Event::SqnUpdated`](crate::engine::Event::SqnUpdated) gives each new state).
    pub sqn: crate::auth::SqnState,
    /// `P-Access-Network-Info` value for every request, e.g.
    /// `3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B`.
    pub access_network_info: Option<String>,
    /// `Security-Client` value (RFC 3329 sec-agree header negotiation; no IPsec yet),
    /// e.g. `digest`. With it, REGISTERs carry `Require`/`Proxy-Require: sec-agree` and
    /// echo the network's `Security-Server` as `Security-Verify`.
    pub security_client: Option<String>,
    /// Add `gruu` to `Supported` (RFC 5627).
    pub gruu: bool,
    /// Subscribe to the own registration state (RFC 3680) after registering.
    pub reg_event: bool,
    /// `P-Preferred-Identity` for requests other than REGISTER (one of the
    /// P-Associated-URIs; default: none, the network picks).
    pub preferred_identity: Option<String>,
}

impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("aor", &self.aor)
            .field("display_name", &self.display_name)
            .field("auth_username", &self.auth_username)
            .field("password", &"<redacted>")
            .field("realm", &self.realm)
            .field("registrar", &self.registrar)
            .field("proxy", &self.proxy)
            .field("transport", &self.transport)
            .field("failover", &self.failover)
            .field("expires", &self.expires)
            .field("instance_id", &self.instance_id)
            .field("contact_user", &self.contact_user)
            .field("local", &self.local)
            .field("ims", &self.ims)
            .finish()
    }
}

impl AccountConfig {
    /// An account with defaults: registrar from the AOR's domain, 600 s expiry.
    pub fn new(
        aor: &str,
        password: &str,
        proxy: SocketAddr,
        transport: Transport,
    ) -> AccountConfig {
        AccountConfig {
            aor: aor.to_owned(),
            display_name: None,
            auth_username: None,
            password: Secret::new(password),
            realm: None,
            registrar: None,
            proxy,
            transport,
            failover: Vec::new(),
            expires: 600,
            instance_id: None,
            contact_user: None,
            local: None,
            ims: None,
        }
    }
}

/// An account the engine cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The AOR is not a `sip:`/`sips:` URI with a user and host.
    #[error("address of record {aor:?} is not a sip: URI with user and host")]
    InvalidAor {
        /// The AOR as given.
        aor: String,
    },
    /// The registrar is not a SIP URI.
    #[error("registrar {registrar:?} is not a sip: URI")]
    InvalidRegistrar {
        /// The registrar as given.
        registrar: String,
    },
    /// A value would break the message (CR, LF or a quote inside a header value).
    #[error("{field} contains a character that cannot go into a SIP header")]
    UnsafeValue {
        /// Which field.
        field: &'static str,
    },
    /// The engine has no local address for the account's transport and address family.
    #[error("no local {transport} address of the same family as proxy {proxy}")]
    NoLocalAddress {
        /// The transport.
        transport: Transport,
        /// The proxy.
        proxy: SocketAddr,
    },
    /// The account asks for a local address the engine was not given for its transport.
    #[error("local {transport} address {local} is not one of the engine's")]
    UnknownLocalAddress {
        /// The transport.
        transport: Transport,
        /// The address asked for.
        local: SocketAddr,
    },
    /// Expires must be 1..=(2^31 - 1) seconds... within reason.
    #[error("expires must be between 1 and 2147483647 seconds")]
    InvalidExpires,
    /// No such account.
    #[error("no account {0}")]
    Unknown(AccountId),
}

/// An account inside the engine: its config with derived values, and its registration.
pub(crate) struct Account {
    pub(crate) id: AccountId,
    pub(crate) config: AccountConfig,
    /// `<sip:alice@ims.test>` (with the display name when set), for From and To.
    pub(crate) address: String,
    pub(crate) auth_username: String,
    /// The realm for the initial IMS Authorization: the configured one, else the domain.
    pub(crate) home_realm: String,
    pub(crate) registrar: String,
    /// The Contact URI, `sip:alice@127.0.0.1:5062;transport=tcp`.
    pub(crate) contact: String,
    /// The local address requests go out from.
    pub(crate) local: SocketAddr,
    /// The transport in use (the config's, or a failover target's).
    pub(crate) transport: Transport,
    /// Which next hop is in use: 0 = `config.proxy`, n = `config.failover[n - 1]`.
    pub(crate) target: usize,
    /// Next hops given up on since the last success.
    pub(crate) failovers: usize,
    pub(crate) contact_user: String,
    pub(crate) registration: Registration,
    /// The reg-event subscription (IMS accounts with `reg_event`); boxed, as most
    /// accounts never have one.
    pub(crate) reg_event: Option<Box<super::subscription::RegSubscription>>,
    /// When the next keep-alive step (ping, or pong check) is due on a TCP flow.
    pub(crate) keepalive_at: Option<std::time::Instant>,
}

impl Account {
    pub(crate) fn new(
        id: AccountId,
        config: AccountConfig,
        local: SocketAddr,
        registration: Registration,
    ) -> Result<Account, AccountError> {
        for (field, value) in [
            ("aor", Some(config.aor.as_str())),
            ("display_name", config.display_name.as_deref()),
            ("auth_username", config.auth_username.as_deref()),
            ("realm", config.realm.as_deref()),
            ("registrar", config.registrar.as_deref()),
            ("instance_id", config.instance_id.as_deref()),
            ("contact_user", config.contact_user.as_deref()),
            (
                "access_network_info",
                config
                    .ims
                    .as_ref()
                    .and_then(|i| i.access_network_info.as_deref()),
            ),
            (
                "preferred_identity",
                config
                    .ims
                    .as_ref()
                    .and_then(|i| i.preferred_identity.as_deref()),
            ),
        ] {
            if value.is_some_and(|v| v.bytes().any(|b| matches!(b, b'\r' | b'\n' | b'"' | 0))) {
                return Err(AccountError::UnsafeValue { field });
            }
        }
        if config
            .ims
            .as_ref()
            .and_then(|i| i.security_client.as_deref())
            .is_some_and(|v| v.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)))
        {
            return Err(AccountError::UnsafeValue {
                field: "security_client",
            });
        }
        if config.expires == 0 || config.expires > i32::MAX as u32 {
            return Err(AccountError::InvalidExpires);
        }
        let invalid_aor = || AccountError::InvalidAor {
            aor: config.aor.clone(),
        };
        let uri = Uri::parse(&config.aor).map_err(|_| invalid_aor())?;
        if !matches!(uri.scheme(), Scheme::Sip | Scheme::Sips) {
            return Err(invalid_aor());
        }
        let user = uri.user().ok_or_else(invalid_aor)?.to_owned();
        let domain = uri.host_str().to_owned();
        let registrar = match &config.registrar {
            Some(registrar) => {
                let parsed = Uri::parse(registrar).map_err(|_| AccountError::InvalidRegistrar {
                    registrar: registrar.clone(),
                })?;
                if !parsed.is_sip() {
                    return Err(AccountError::InvalidRegistrar {
                        registrar: registrar.clone(),
                    });
                }
                registrar.clone()
            }
            None => format!("sip:{domain}"),
        };
        let address = match &config.display_name {
            Some(name) => format!("\"{name}\" <{}>", config.aor),
            None => format!("<{}>", config.aor),
        };
        let contact_user = config.contact_user.clone().unwrap_or_else(|| user.clone());
        let contact = contact_uri(&contact_user, local, config.transport);
        let auth_username = config.auth_username.clone().unwrap_or(user);
        let home_realm = config.realm.clone().unwrap_or_else(|| domain.clone());
        Ok(Account {
            id,
            transport: config.transport,
            target: 0,
            failovers: 0,
            contact_user,
            home_realm,
            address,
            auth_username,
            registrar,
            contact,
            local,
            registration,
            reg_event: None,
            keepalive_at: None,
            config,
        })
    }

    /// Approximate heap bytes held (for the memory benchmark and stats).
    pub(crate) fn heap_bytes(&self) -> usize {
        let c = &self.config;
        c.aor.capacity()
            + c.display_name.as_ref().map_or(0, String::capacity)
            + c.auth_username.as_ref().map_or(0, String::capacity)
            + c.password.expose().len()
            + c.realm.as_ref().map_or(0, String::capacity)
            + c.registrar.as_ref().map_or(0, String::capacity)
            + c.instance_id.as_ref().map_or(0, String::capacity)
            + c.contact_user.as_ref().map_or(0, String::capacity)
            + self.address.capacity()
            + self.auth_username.capacity()
            + self.registrar.capacity()
            + self.contact.capacity()
            + self.contact_user.capacity()
            + c.failover.capacity() * std::mem::size_of::<(SocketAddr, Transport)>()
            + self.registration.heap_bytes()
    }
}

/// `sip:alice@127.0.0.1:5062[;transport=tcp]`.
pub(crate) fn contact_uri(user: &str, local: SocketAddr, transport: Transport) -> String {
    let host = match local {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    let mut contact = format!("sip:{user}@{host}:{}", local.port());
    if transport != Transport::Udp {
        contact.push_str(";transport=");
        contact.push_str(transport.param());
    }
    contact
}

/// The parts of an account its registration reads while it changes itself (borrowed
/// beside `&mut Registration`, see [`Account::split_registration`]).
pub(crate) struct AccountView<'a> {
    pub(crate) config: &'a AccountConfig,
    pub(crate) address: &'a str,
    pub(crate) auth_username: &'a str,
    pub(crate) home_realm: &'a str,
    pub(crate) registrar: &'a str,
    pub(crate) contact: &'a str,
}

impl Account {
    /// The registration, mutable, and the read-only parts it needs (split borrows, so
    /// nothing is moved out and back).
    pub(crate) fn split_registration(&mut self) -> (&mut Registration, AccountView<'_>) {
        let view = AccountView {
            config: &self.config,
            address: &self.address,
            auth_username: &self.auth_username,
            home_realm: &self.home_realm,
            registrar: &self.registrar,
            contact: &self.contact,
        };
        (&mut self.registration, view)
    }

    /// Next hop `index` (0 = the configured proxy).
    pub(crate) fn target_at(&self, index: usize) -> Option<(SocketAddr, Transport)> {
        match index {
            0 => Some((self.config.proxy, self.config.transport)),
            n => self.config.failover.get(n - 1).copied(),
        }
    }

    /// How many next hops there are.
    pub(crate) fn target_count(&self) -> usize {
        1 + self.config.failover.len()
    }

    /// The IMS headers of every request other than REGISTER: P-Preferred-Identity,
    /// P-Access-Network-Info and, with sec-agree, Security-Verify.
    pub(crate) fn write_ims_headers(&self, writer: &mut crate::sip::MessageWriter<'_>) {
        use crate::sip::HeaderName;
        let Some(ims) = &self.config.ims else { return };
        if let Some(identity) = &ims.preferred_identity {
            writer.header_with(HeaderName::PPreferredIdentity, |b| {
                b.push(b'<');
                b.extend_from_slice(identity.as_bytes());
                b.push(b'>');
            });
        }
        if let Some(info) = &ims.access_network_info {
            writer.header(HeaderName::PAccessNetworkInfo, info.as_bytes());
        }
        if ims.security_client.is_some() {
            for server in &self.registration.security_server {
                writer.header(HeaderName::SecurityVerify, server.as_bytes());
            }
            writer.header(HeaderName::ProxyRequire, b"sec-agree");
            writer.header(HeaderName::Require, b"sec-agree");
        }
    }
}

/// How long before expiry a refresh goes out: `margin`, or half the lifetime when that
/// is shorter.
pub(crate) fn refresh_after(expires: u32, margin: Duration) -> Duration {
    let lifetime = Duration::from_secs(u64::from(expires));
    let half = lifetime / 2;
    lifetime.saturating_sub(margin.min(half))
}

//! Registration (RFC 3261 §10): REGISTER, refresh before expiry, de-registration, Digest
//! challenges, 423 Interval Too Brief, redirects, and retry with back-off.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::auth::digest::{
    CredentialsHash, DigestChallenge, DigestRequest, Ha2Memo, Secret, write_authorization_memoised,
};
use crate::auth::{AkaError, AkaVersion, aka};
use crate::sip::typed::{
    Challenge, Contact, Expires, MinExpires, PAssociatedUri, TypedHeader, split_list,
};
use crate::sip::{HeaderKind, HeaderName, MessageWriter, Method, SipMessage, Uri, WriteOptions};
use crate::transaction::TransactionKey;

use super::account::AccountView;
use super::challenges::Challenges;

/// Where a registration stands, as the application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationState {
    /// Not registered and not trying.
    Idle,
    /// A REGISTER is on its way (first registration, challenge answer or retry).
    Registering,
    /// Registered for `expires` seconds from the last 2xx; a refresh is scheduled.
    Registered {
        /// The granted lifetime in seconds.
        expires: u32,
    },
    /// Waiting to retry after a temporary failure.
    WaitingToRetry,
    /// A de-registration (Expires: 0) is on its way.
    Unregistering,
    /// Gave up: a permanent failure (wrong password, 403, ...). A new `Register` command
    /// starts over.
    Failed,
}

/// Why a registration failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The registrar rejected our credentials (a fresh challenge after we answered one).
    #[error("authentication failed for user {username:?} in realm {realm:?}: wrong password?")]
    AuthenticationFailed {
        /// The user name we sent.
        username: String,
        /// The realm.
        realm: String,
    },
    /// A 401/407 carried no challenge we can answer.
    #[error("{status} without a Digest challenge we support (realm or algorithm)")]
    NoUsableChallenge {
        /// 401 or 407.
        status: u16,
    },
    /// Challenged again and again (stale nonces in a loop).
    #[error("the registrar keeps challenging (stale nonce loop)")]
    ChallengeLoop,
    /// A final response we cannot recover from (403, 404, 6xx, ...).
    #[error("registrar answered {status} {reason}")]
    Rejected {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// 423 without a usable Min-Expires.
    #[error("423 Interval Too Brief without a usable Min-Expires")]
    IntervalTooBrief,
    /// A temporary failure (5xx, 408, 480) — retried.
    #[error("registrar answered {status} {reason} (temporary)")]
    Unavailable {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// No final response within Timer F.
    #[error("no response from {proxy} (timeout)")]
    Timeout {
        /// The next hop.
        proxy: SocketAddr,
    },
    /// The transport to the proxy failed (connection refused or lost).
    #[error("cannot reach {proxy} over the transport")]
    Transport {
        /// The next hop.
        proxy: SocketAddr,
    },
    /// More 3xx redirects than allowed.
    #[error("too many redirects")]
    TooManyRedirects,
    /// An AKAv1/AKAv2 challenge, but the account has no K/OP(c) configured.
    #[error("the network asks for IMS AKA but the account has no K and OP/OPc")]
    AkaNotConfigured,
    /// AUTN did not verify: the network is not our home network, or K/OP/OPc are wrong.
    /// One REGISTER without a valid response was sent; nothing more (RFC 3310 §3.3).
    #[error(
        "the network failed AKA authentication (MAC mismatch): wrong K/OP/OPc, or a fake network"
    )]
    NetworkAuthenticationFailed,
    /// The AKA challenge could not be answered (malformed nonce, ...).
    #[error("AKA: {0}")]
    Aka(crate::auth::AkaError),
    /// The network ended the registration (reg-event NOTIFY, RFC 3680): `deactivated`,
    /// `expired` or `probation` re-register at once; `rejected` or `unregistered` stop.
    #[error("the network de-registered us ({event})")]
    NetworkDeregistered {
        /// The reginfo contact event.
        event: String,
    },
}

/// What the account wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    Registered,
    Unregistered,
}

/// A challenge kept across requests, with its nonce count.
#[derive(Debug)]
pub(crate) struct CachedChallenge {
    pub(crate) challenge: DigestChallenge,
    pub(crate) nc: u32,
    /// The AKA-derived password (RES or the AKAv2 PRF) for this nonce.
    pub(crate) password: Option<Secret>,
    /// `auts` to send once (AKA resynchronisation).
    pub(crate) auts: Option<String>,
    /// AUTN failed: answer with an empty `response=""` (TS 24.229 §5.1.1.5.3).
    pub(crate) empty_response: bool,
    /// H(username:realm:password) for this challenge, made by its first answer.
    pub(crate) credentials: Option<CredentialsHash>,
}

/// The decision after a final response or a failure.
#[derive(Debug)]
pub(crate) enum Next {
    /// Send a REGISTER now.
    Send,
    /// Registered for this long, with this many bindings at the registrar.
    Registered { expires: u32, bindings: usize },
    /// De-registered.
    Unregistered,
    /// Temporary failure: try again after a delay (the given one, or back-off when None).
    Retry {
        after: Option<Duration>,
        error: RegistrationError,
    },
    /// Permanent failure.
    Fail(RegistrationError),
}

/// One account's registration.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) state: RegistrationState,
    pub(crate) goal: Goal,
    pub(crate) call_id: String,
    pub(crate) from_tag: String,
    pub(crate) cseq: u32,
    /// The lifetime asked for in the next REGISTER (raised by 423).
    pub(crate) expires: u32,
    pub(crate) challenges: Challenges,
    /// The credentials in the request in flight answer the challenge of the response just
    /// before it (so a new challenge means they were wrong).
    pub(crate) answered_fresh_challenge: bool,
    pub(crate) challenge_rounds: u8,
    pub(crate) redirects: u8,
    pub(crate) transaction: Option<TransactionKey>,
    /// The request in flight de-registers.
    pub(crate) in_flight_expires: u32,
    /// The next REGISTER goes here (a 3xx may move it).
    pub(crate) request_uri: Option<String>,
    pub(crate) next_hop: SocketAddr,
    pub(crate) wake_at: Option<Instant>,
    pub(crate) failures: u32,
    /// The lifetime granted by the last 2xx.
    pub(crate) granted: u32,
    /// AKA SQN freshness state.
    /// Boxed: only IMS accounts answering AKA need it (256 bytes).
    pub(crate) sqn: Option<Box<crate::auth::SqnState>>,
    /// The SQN state changed (the engine reports it for the store).
    pub(crate) sqn_changed: bool,
    /// The last AKA challenge failed MAC: the REGISTER in flight carries no valid answer.
    pub(crate) mac_failed: bool,
    /// Our address as the registrar saw it (Via received/rport).
    pub(crate) observed: Option<SocketAddr>,
    /// Service-Route of the last 2xx (RFC 3608), pre-loaded as Route on later requests.
    pub(crate) service_route: Vec<String>,
    /// P-Associated-URI of the last 2xx (RFC 3455): the implicitly registered IMPUs.
    pub(crate) associated_uris: Vec<String>,
    /// Security-Server of the last 401/407 (RFC 3329), echoed as Security-Verify.
    pub(crate) security_server: Vec<String>,
}

impl Registration {
    pub(crate) fn new(
        call_id: String,
        from_tag: String,
        cseq: u32,
        expires: u32,
        next_hop: SocketAddr,
    ) -> Self {
        Registration {
            state: RegistrationState::Idle,
            goal: Goal::Unregistered,
            call_id,
            from_tag,
            cseq,
            expires,
            challenges: Challenges::default(),
            answered_fresh_challenge: false,
            challenge_rounds: 0,
            redirects: 0,
            transaction: None,
            in_flight_expires: expires,
            request_uri: None,
            next_hop,
            wake_at: None,
            failures: 0,
            granted: 0,
            sqn: None,
            sqn_changed: false,
            mac_failed: false,
            observed: None,
            service_route: Vec::new(),
            associated_uris: Vec::new(),
            security_server: Vec::new(),
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let strings = |list: &Vec<String>| {
            list.capacity() * std::mem::size_of::<String>()
                + list.iter().map(String::capacity).sum::<usize>()
        };
        self.call_id.capacity()
            + self.from_tag.capacity()
            + strings(&self.service_route)
            + strings(&self.associated_uris)
            + strings(&self.security_server)
            + self.request_uri.as_ref().map_or(0, String::capacity)
            + self.challenges.heap_bytes()
            + self
                .challenges
                .iter()
                .map(|c| c.challenge.heap_bytes())
                .sum::<usize>()
    }

    /// Decides what follows a final response to our REGISTER.
    pub(crate) fn on_final(
        &mut self,
        response: &SipMessage<'_>,
        account: &AccountView<'_>,
        max_redirects: u8,
    ) -> Next {
        let status = response.status().unwrap_or(500);
        let reason = || String::from_utf8_lossy(response.reason().unwrap_or_default()).into_owned();
        let answered_fresh = std::mem::replace(&mut self.answered_fresh_challenge, false);
        // After a MAC failure the network either challenges again (answered as usual;
        // TS 34.229-1 §9.1) or refuses: then it has failed to authenticate itself.
        let after_mac_failure = std::mem::replace(&mut self.mac_failed, false);
        if after_mac_failure && status >= 300 && status != 401 && status != 407 {
            self.challenges.clear();
            return Next::Fail(RegistrationError::NetworkAuthenticationFailed);
        }
        match status {
            200..=299 => {
                self.challenge_rounds = 0;
                self.redirects = 0;
                self.failures = 0;
                if self.in_flight_expires == 0 {
                    return Next::Unregistered;
                }
                let (expires, bindings) =
                    granted_expires(response, account.contact, self.in_flight_expires);
                self.service_route = list_values(response, HeaderKind::ServiceRoute);
                self.associated_uris = response
                    .header_values::<PAssociatedUri>()
                    .filter_map(Result::ok)
                    .map(|uri| uri.uri.as_str().to_owned())
                    .collect();
                if expires == 0 {
                    // The registrar kept no binding for us.
                    return Next::Retry {
                        after: None,
                        error: RegistrationError::Rejected {
                            status,
                            reason: "registrar returned no binding for our Contact".to_owned(),
                        },
                    };
                }
                Next::Registered { expires, bindings }
            }
            401 | 407 => {
                let kind = if status == 401 {
                    HeaderKind::WwwAuthenticate
                } else {
                    HeaderKind::ProxyAuthenticate
                };
                let chosen = pick_challenge(
                    response,
                    kind,
                    account.config.realm.as_deref(),
                    status == 407,
                );
                let security_server = list_values(response, HeaderKind::SecurityServer);
                if !security_server.is_empty() {
                    self.security_server = security_server;
                }
                let Some(challenge) = chosen else {
                    return Next::Fail(RegistrationError::NoUsableChallenge { status });
                };
                if answered_fresh && !challenge.stale {
                    return Next::Fail(RegistrationError::AuthenticationFailed {
                        username: account.auth_username.to_owned(),
                        realm: challenge.realm().to_owned(),
                    });
                }
                self.challenge_rounds = self.challenge_rounds.saturating_add(1);
                if self.challenge_rounds > 4 {
                    return Next::Fail(RegistrationError::ChallengeLoop);
                }
                let proxy = challenge.proxy;
                let mut cached = CachedChallenge {
                    challenge,
                    nc: 0,
                    password: None,
                    auts: None,
                    empty_response: false,
                    credentials: None,
                };
                self.answered_fresh_challenge = true;
                if let Some(version) = AkaVersion::from_algorithm(cached.challenge.algorithm) {
                    let Some(keys) = account.config.ims.as_ref().and_then(|i| i.aka.as_ref())
                    else {
                        return Next::Fail(RegistrationError::AkaNotConfigured);
                    };
                    let sqn = self.sqn.get_or_insert_with(Box::default);
                    match aka::answer(keys, version, cached.challenge.nonce(), sqn) {
                        Ok(answer) => {
                            cached.password = Some(answer.password());
                            cached.auts = answer.auts().map(str::to_owned);
                            if cached.auts.is_some() {
                                // A resynchronisation is not a wrong password: the network
                                // answers it with a fresh challenge.
                                self.answered_fresh_challenge = false;
                            } else {
                                self.sqn_changed = true;
                            }
                        }
                        Err(AkaError::MacFailure) if after_mac_failure => {
                            // The network's new challenge fails too: it still cannot
                            // prove itself (wrong K/OPc on either side, or not our home
                            // network). Stop rather than answer it again.
                            self.challenges.clear();
                            return Next::Fail(RegistrationError::NetworkAuthenticationFailed);
                        }
                        Err(AkaError::MacFailure) => {
                            // TS 24.229 §5.1.1.5.3: answer with an empty response and no
                            // auts; the network challenges again or refuses.
                            cached.empty_response = true;
                            self.mac_failed = true;
                            self.answered_fresh_challenge = false;
                        }
                        Err(error) => return Next::Fail(RegistrationError::Aka(error)),
                    }
                }
                self.challenges.retain(|c| c.challenge.proxy != proxy);
                self.challenges.push(cached);
                Next::Send
            }
            423 => {
                let min = response
                    .header::<MinExpires>()
                    .and_then(Result::ok)
                    .map(|m| m.0);
                match min {
                    Some(min) if min > self.in_flight_expires && min <= i32::MAX as u32 => {
                        self.expires = min;
                        Next::Send
                    }
                    _ => Next::Fail(RegistrationError::IntervalTooBrief),
                }
            }
            300..=399 => {
                self.redirects = self.redirects.saturating_add(1);
                if self.redirects > max_redirects {
                    return Next::Fail(RegistrationError::TooManyRedirects);
                }
                let target = response
                    .header_values::<Contact>()
                    .filter_map(Result::ok)
                    .find_map(|c| c.address().map(|a| a.uri.as_str().to_owned()));
                match target {
                    Some(uri) => {
                        if let Ok(parsed) = Uri::parse(&uri)
                            && let Ok(ip) = parsed.host_str().trim_matches(['[', ']']).parse()
                        {
                            self.next_hop = SocketAddr::new(ip, parsed.port().unwrap_or(5060));
                        }
                        self.request_uri = Some(uri);
                        Next::Send
                    }
                    None => Next::Fail(RegistrationError::Rejected {
                        status,
                        reason: reason(),
                    }),
                }
            }
            408 | 480 | 500..=599 => {
                let after = retry_after(response).map(|s| Duration::from_secs(u64::from(s)));
                Next::Retry {
                    after,
                    error: RegistrationError::Unavailable {
                        status,
                        reason: reason(),
                    },
                }
            }
            _ => Next::Fail(RegistrationError::Rejected {
                status,
                reason: reason(),
            }),
        }
    }

    /// Takes back what the last [`write_register`](Self::write_register) consumed (its
    /// CSeq and one nonce count per challenge), so that the REGISTER can be written again,
    /// e.g. for TCP when it was too big for UDP (RFC 3261 §18.1.1): the registrar then
    /// sees `nc=00000001` on the first answer to its challenge, not 2.
    pub(crate) fn unwrite(&mut self) {
        self.cseq = self.cseq.wrapping_sub(1);
        for cached in &mut self.challenges {
            cached.nc = cached.nc.saturating_sub(1);
        }
    }

    /// The REGISTER last written is on its way: an `auts` it carried is not sent again.
    pub(crate) fn sent(&mut self) {
        for cached in &mut self.challenges {
            cached.auts = None;
        }
    }

    /// Writes the next REGISTER (new CSeq) into `out`. `via` appends the complete Via
    /// value; `cnonce` makes a client nonce (16 hex digits) when a challenge with qop is
    /// answered; `ha2` keeps the HA2 of the REGISTER line for the next answer.
    pub(crate) fn write_register(
        &mut self,
        out: &mut Vec<u8>,
        account: &AccountView<'_>,
        via: impl FnOnce(&mut Vec<u8>),
        user_agent: Option<&str>,
        mut cnonce: impl FnMut() -> [u8; 16],
        ha2: &mut Ha2Memo,
    ) {
        self.cseq = self.cseq.wrapping_add(1).max(1);
        let expires = match self.goal {
            Goal::Registered => self.expires,
            Goal::Unregistered => 0,
        };
        self.in_flight_expires = expires;
        let uri = self.request_uri.as_deref().unwrap_or(account.registrar);
        let mut writer =
            MessageWriter::request(out, Method::Register, uri, WriteOptions::default());
        writer
            .header_with(HeaderName::Via, via)
            .header(HeaderName::MaxForwards, b"70")
            .header_with(HeaderName::From, |b| {
                b.extend_from_slice(account.address.as_bytes());
                b.extend_from_slice(b";tag=");
                b.extend_from_slice(self.from_tag.as_bytes());
            })
            .header(HeaderName::To, account.address.as_bytes())
            .header(HeaderName::CallId, self.call_id.as_bytes())
            .header_with(HeaderName::CSeq, |b| {
                push_decimal(b, self.cseq);
                b.extend_from_slice(b" REGISTER");
            })
            .header_with(HeaderName::Contact, |b| {
                b.push(b'<');
                b.extend_from_slice(account.contact.as_bytes());
                b.push(b'>');
                if let Some(instance) = &account.config.instance_id {
                    b.extend_from_slice(b";+sip.instance=\"");
                    b.extend_from_slice(instance.as_bytes());
                    b.push(b'"');
                }
            })
            .header_with(HeaderName::Expires, |b| push_decimal(b, expires));
        let ims = account.config.ims.as_ref();
        writer.header(
            HeaderName::Supported,
            if ims.is_some_and(|i| i.gruu) {
                b"path, gruu".as_slice()
            } else {
                b"path".as_slice()
            },
        );
        if let Some(agent) = user_agent {
            writer.header(HeaderName::UserAgent, agent.as_bytes());
        }
        if let Some(ims) = ims {
            if let Some(info) = &ims.access_network_info {
                writer.header(HeaderName::PAccessNetworkInfo, info.as_bytes());
            }
            if let Some(client) = &ims.security_client {
                writer
                    .header(HeaderName::SecurityClient, client.as_bytes())
                    .header(HeaderName::Require, b"sec-agree")
                    .header(HeaderName::ProxyRequire, b"sec-agree");
                for server in &self.security_server {
                    writer.header(HeaderName::SecurityVerify, server.as_bytes());
                }
            }
            if self.challenges.is_empty() {
                // TS 24.229 §5.1.1.2.1: the first REGISTER names the private identity in
                // an Authorization header with empty nonce and response.
                writer.header_with(HeaderName::Authorization, |b| {
                    b.extend_from_slice(b"Digest username=\"");
                    b.extend_from_slice(account.auth_username.as_bytes());
                    b.extend_from_slice(b"\", realm=\"");
                    b.extend_from_slice(account.home_realm.as_bytes());
                    b.extend_from_slice(b"\", uri=\"");
                    b.extend_from_slice(uri.as_bytes());
                    b.extend_from_slice(b"\", nonce=\"\", response=\"\"");
                });
            }
        }
        for cached in &mut self.challenges {
            cached.nc = cached.nc.saturating_add(1);
            let name = if cached.challenge.proxy {
                HeaderName::ProxyAuthorization
            } else {
                HeaderName::Authorization
            };
            let request = DigestRequest {
                method: "REGISTER",
                uri,
                body: b"",
            };
            let cnonce = cnonce();
            // Hex digits are ASCII; an empty cnonce would be refused, not sent.
            let cnonce = std::str::from_utf8(&cnonce).unwrap_or_default();
            let password = cached.password.as_ref().unwrap_or(&account.config.password);
            let challenge = &cached.challenge;
            let username = account.auth_username;
            let credentials = cached.credentials.get_or_insert_with(|| {
                CredentialsHash::new(challenge.algorithm, username, challenge.realm(), password)
            });
            let nc = cached.nc;
            // Cleared by `sent`, not here: a REGISTER written again for TCP carries it too.
            let auts = cached.auts.as_deref();
            if cached.empty_response {
                writer.header_with(name, |b| write_empty_response(b, challenge, username, uri));
                continue;
            }
            writer.header_with(name, |b| {
                // Inputs were checked when the challenge was stored; a failure here leaves
                // the header empty and the registrar answers 400, which the caller sees.
                if let Err(error) = write_authorization_memoised(
                    b,
                    challenge,
                    username,
                    credentials,
                    ha2,
                    &request,
                    cnonce,
                    nc,
                    auts,
                ) {
                    tracing::error!(%error, "cannot write Authorization");
                }
            });
        }
        writer.finish(b"");
    }
}

/// `Digest username=.., realm=.., nonce=.., uri=.., response="", algorithm=..`: the answer
/// to a challenge whose AUTN did not verify (TS 24.229 §5.1.1.5.3).
fn write_empty_response(out: &mut Vec<u8>, challenge: &DigestChallenge, username: &str, uri: &str) {
    let quoted = |out: &mut Vec<u8>, name: &str, value: &str| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        for byte in value.bytes().filter(|b| *b != b'\r' && *b != b'\n') {
            if byte == b'"' || byte == b'\\' {
                out.push(b'\\');
            }
            out.push(byte);
        }
        out.push(b'"');
    };
    out.extend_from_slice(b"Digest ");
    quoted(out, "username", username);
    out.extend_from_slice(b", ");
    quoted(out, "realm", challenge.realm());
    out.extend_from_slice(b", ");
    quoted(out, "nonce", challenge.nonce());
    out.extend_from_slice(b", ");
    quoted(out, "uri", uri);
    out.extend_from_slice(b", response=\"\", algorithm=");
    out.extend_from_slice(challenge.algorithm.as_str().as_bytes());
    if let Some(opaque) = challenge.opaque() {
        out.extend_from_slice(b", ");
        quoted(out, "opaque", opaque);
    }
}

/// The lifetime granted to `contact` in a 2xx: its Contact `expires` parameter, else the
/// Expires header, else what we asked for; and how many bindings the registrar listed.
fn granted_expires(response: &SipMessage<'_>, contact: &str, requested: u32) -> (u32, usize) {
    // Parsed only when a listed Contact is not our text byte for byte.
    let mut ours: Option<Option<Uri<'_>>> = None;
    let mut bindings = 0;
    let mut found = None;
    let mut listed_any = false;
    let elements = response
        .raw_all(HeaderKind::Contact)
        .flat_map(|value| split_list(value, true));
    for element in elements {
        // The usual 2xx echoes our Contact byte for byte: only its parameters are read.
        if found.is_none()
            && let Some(expires) = Contact::echoed_expires(element, contact)
        {
            bindings += 1;
            listed_any = true;
            found = Some(expires);
            continue;
        }
        let Ok(value) = Contact::parse_named(element) else {
            continue;
        };
        let Some(address) = value.address() else {
            continue;
        };
        bindings += 1;
        listed_any = true;
        // Registrars usually echo our Contact byte for byte; equal text is an equivalent
        // URI (comparison is reflexive; the text parsed as the listed URI, so ours parses
        // too), so our URI is parsed and the RFC 3261 §19.1.4 walk runs only otherwise.
        if found.is_none() {
            let same = address.uri.as_str() == contact
                || ours
                    .get_or_insert_with(|| Uri::parse(contact).ok())
                    .as_ref()
                    .is_some_and(|u| u.equivalent(&address.uri));
            if same {
                found = Some(value.expires());
            }
        }
    }
    let header = response
        .header::<Expires>()
        .and_then(Result::ok)
        .map(|e| e.0);
    let expires = match found {
        Some(Some(expires)) => expires,
        Some(None) => header.unwrap_or(requested),
        // Bindings listed, ours not among them: not registered.
        None if listed_any => 0,
        None => header.unwrap_or(requested),
    };
    (expires, bindings)
}

/// The first Digest challenge of `kind` we can answer, in a realm we accept.
fn pick_challenge(
    response: &SipMessage<'_>,
    kind: HeaderKind,
    realm: Option<&str>,
    proxy: bool,
) -> Option<DigestChallenge> {
    let mut best: Option<DigestChallenge> = None;
    for value in response.raw_all(kind) {
        let Ok(parsed) = Challenge::parse(value) else {
            continue;
        };
        let Ok(challenge) = DigestChallenge::from_challenge(&parsed, proxy) else {
            continue;
        };
        if realm.is_some_and(|r| r != challenge.realm()) {
            continue;
        }
        // RFC 8760 §2.4: prefer the strongest algorithm offered.
        if best
            .as_ref()
            .is_none_or(|b| strength(&challenge) > strength(b))
        {
            best = Some(challenge);
        }
    }
    best
}

fn strength(challenge: &DigestChallenge) -> u8 {
    use crate::auth::digest::Algorithm;
    match challenge.algorithm {
        Algorithm::Md5 | Algorithm::Md5Sess => 0,
        Algorithm::Sha256 | Algorithm::Sha256Sess => 1,
        Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => 2,
        Algorithm::AkaV1Md5 | Algorithm::AkaV2Md5 => 0,
    }
}

/// Every list element of every `kind` header, as owned strings.
fn list_values(response: &SipMessage<'_>, kind: HeaderKind) -> Vec<String> {
    response
        .raw_all(kind)
        .flat_map(|value| crate::sip::typed::split_list(value, true))
        .filter(|element| !element.is_empty())
        .map(|element| String::from_utf8_lossy(element).into_owned())
        .collect()
}

/// `Retry-After: 30 (comment);duration=...` -> 30 (RFC 3261 §20.33).
fn retry_after(response: &SipMessage<'_>) -> Option<u32> {
    let raw = response.raw(HeaderKind::RetryAfter)?;
    let digits: &[u8] = {
        let start = raw.iter().position(|b| !b.is_ascii_whitespace())?;
        let rest = raw.get(start..)?;
        let end = rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        rest.get(..end)?
    };
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Appends the decimal digits of `n` (no formatter, no `String`).
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        // n % 10 < 10, so the cast cannot truncate.
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

//! A scripted registrar for the simulated network: Digest challenges checked for real,
//! Min-Expires, stale nonces, and forced responses for the odd cases.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::auth::digest::{Algorithm, Qop, Secret, ha1, ha2, response};
use crate::sip::typed::{Authorization, Contact, Expires, To};
use crate::sip::{HeaderName, Limits, MessageWriter, RawHeader, SipMessage, WriteOptions};
use crate::transport::Transport;

use super::SimPeer;

/// A response the registrar sends instead of its normal answer, once, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForcedResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug)]
struct Binding {
    contact: String,
    expires_at: Instant,
}

/// A registrar that challenges with Digest (MD5, qop=auth by default), checks the
/// answer, and keeps bindings. Counters tell tests what happened.
#[derive(Debug)]
pub struct Registrar {
    realm: String,
    /// Our own address (for Contact in SUBSCRIBE answers).
    pub address: String,
    users: HashMap<String, Secret>,
    /// The algorithm challenged with.
    pub algorithm: Algorithm,
    /// The qop offered (`None`: RFC 2069 style).
    pub qop: Option<Qop>,
    /// Refuse expires below this with 423 (0: no minimum).
    pub min_expires: u32,
    /// Answer the next request with a fresh challenge marked `stale=true`, this many times.
    pub stale_next: u32,
    /// Responses sent instead of the normal answer, first in first out.
    pub forced: VecDeque<ForcedResponse>,
    /// Silently drop every request (a dead server).
    pub silent: bool,
    /// Challenge with IMS AKA (set `algorithm` to AKAv1-MD5 or AKAv2-MD5): the
    /// subscriber's keys as the HSS knows them.
    pub aka: Option<crate::auth::AkaKeys>,
    /// The SQN the next AKA challenge carries (SEQ << 5 | IND); it advances by one SEQ.
    pub sqn: u64,
    /// Send the previous AKA nonce again, once (a replayed challenge).
    pub repeat_nonce: bool,
    /// AUTS resynchronisations handled.
    pub resyncs: u64,
    /// Answer an AKA answer with an empty `response=""` (the UE's word that AUTN failed)
    /// with 403 (`true`, default) or with a new challenge.
    pub refuse_empty_response: bool,
    /// Keys to challenge with after an empty response (a network that recovers).
    pub aka_after_failure: Option<crate::auth::AkaKeys>,
    nonces: HashMap<String, [u8; 16]>,
    expired: std::collections::HashSet<String>,
    last_nonce: Option<String>,
    /// Extra headers on every 2xx (e.g. Service-Route, P-Associated-URI).
    pub ok_headers: Vec<(String, String)>,
    /// Extra headers on every challenge (e.g. Security-Server).
    pub challenge_headers: Vec<(String, String)>,
    /// Every REGISTER received, as bytes (for assertions).
    pub received: Vec<Vec<u8>>,
    /// Every SUBSCRIBE received.
    pub subscribes: Vec<Vec<u8>>,
    /// Status for SUBSCRIBE (default 200; e.g. 403 to refuse).
    pub subscribe_status: u16,
    /// Responses received (to requests a test injected).
    pub responses: Vec<Vec<u8>>,
    nonce_counter: u64,
    bindings: HashMap<String, Binding>,
    /// REGISTERs received (retransmissions included).
    pub requests: u64,
    /// Challenges sent.
    pub challenges: u64,
    /// Credentials that did not check out.
    pub rejected: u64,
    /// 2xx sent.
    pub accepted: u64,
    /// 423 sent.
    pub too_brief: u64,
    /// Answer CRLF keep-alive pings (`CRLF CRLF`) with a pong (`CRLF`), as RFC 5626
    /// §4.4.1 asks (default `true`).
    pub pongs: bool,
    /// Pings received.
    pub pings: u64,
}

impl Registrar {
    /// A registrar for `realm` with no users.
    pub fn new(realm: &str) -> Registrar {
        Registrar {
            realm: realm.to_owned(),
            address: "127.0.0.1:5060".to_owned(),
            users: HashMap::new(),
            algorithm: Algorithm::Md5,
            qop: Some(Qop::Auth),
            min_expires: 0,
            stale_next: 0,
            forced: VecDeque::new(),
            silent: false,
            pongs: true,
            pings: 0,
            aka: None,
            sqn: 32,
            repeat_nonce: false,
            resyncs: 0,
            refuse_empty_response: true,
            aka_after_failure: None,
            nonces: HashMap::new(),
            expired: std::collections::HashSet::new(),
            last_nonce: None,
            ok_headers: Vec::new(),
            challenge_headers: Vec::new(),
            received: Vec::new(),
            subscribes: Vec::new(),
            subscribe_status: 200,
            responses: Vec::new(),
            nonce_counter: 0,
            bindings: HashMap::new(),
            requests: 0,
            challenges: 0,
            rejected: 0,
            accepted: 0,
            too_brief: 0,
        }
    }

    /// Adds a user (the authentication user name) with a password.
    pub fn add_user(&mut self, user: &str, password: &str) {
        self.users.insert(user.to_owned(), Secret::new(password));
    }

    /// The contact bound to `aor` now, if any.
    pub fn binding(&self, aor: &str, now: Instant) -> Option<&str> {
        self.bindings
            .get(aor)
            .filter(|b| b.expires_at > now)
            .map(|b| b.contact.as_str())
    }

    /// Stops accepting credentials for every nonce issued so far (the next request is
    /// challenged again, as a real S-CSCF does for a new registration).
    pub fn expire_nonces(&mut self) {
        self.expired.extend(self.nonces.keys().cloned());
        if let Some(last) = &self.last_nonce {
            self.expired.insert(last.clone());
        }
    }

    /// How many AORs have a live binding.
    pub fn bound(&self, now: Instant) -> usize {
        self.bindings
            .values()
            .filter(|b| b.expires_at > now)
            .count()
    }

    fn answer(&mut self, now: Instant, request: &SipMessage<'_>) -> Vec<u8> {
        if let Some(forced) = self.forced.pop_front() {
            let headers: Vec<(&str, &str)> = forced
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            return reply(request, forced.status, &forced.reason, &headers);
        }
        let credentials = request.header::<Authorization>().and_then(Result::ok);
        if let (Some(keys), Some(c)) = (&self.aka, &credentials)
            && let (Some(auts), Some(rand)) = (c.auts(), c.nonce().and_then(|n| self.nonces.get(n)))
        {
            // TS 33.102 §6.3.5: the USIM's SQN comes back in AUTS; continue above it.
            if let Ok(sqn_ms) = keys.verify_auts(rand, auts) {
                self.resyncs += 1;
                self.sqn = sqn_ms + 32;
            }
            return self.challenge(request, false);
        }
        if self.aka.is_some()
            && let Some(c) = &credentials
            && c.nonce().is_some_and(|n| !n.is_empty())
            && c.response() == Some("")
        {
            self.rejected += 1;
            if self.refuse_empty_response {
                return reply(request, 403, "Forbidden", &[]);
            }
            if let Some(keys) = self.aka_after_failure.take() {
                self.aka = Some(keys);
            }
            return self.challenge(request, false);
        }
        let verified = credentials
            .as_ref()
            .is_some_and(|c| self.verify(request, c));
        if !verified || self.stale_next > 0 {
            let answered = credentials
                .as_ref()
                .is_some_and(|c| c.nonce().is_some_and(|n| !n.is_empty()));
            if answered && !verified {
                self.rejected += 1;
            }
            let stale = verified && self.stale_next > 0;
            self.stale_next = self.stale_next.saturating_sub(u32::from(stale));
            return self.challenge(request, stale);
        }
        let expires = request
            .header::<Contact>()
            .and_then(Result::ok)
            .and_then(|c| c.expires())
            .or_else(|| {
                request
                    .header::<Expires>()
                    .and_then(Result::ok)
                    .map(|e| e.0)
            })
            .unwrap_or(3600);
        let aor = request
            .header::<To>()
            .and_then(Result::ok)
            .map(|to| to.uri.as_str().to_owned())
            .unwrap_or_default();
        if expires > 0 && expires < self.min_expires {
            self.too_brief += 1;
            let min = self.min_expires.to_string();
            return reply(request, 423, "Interval Too Brief", &[("Min-Expires", &min)]);
        }
        let contact = request
            .header::<Contact>()
            .and_then(Result::ok)
            .and_then(|c| c.address().map(|a| a.uri.as_str().to_owned()));
        self.accepted += 1;
        let extra: Vec<(String, String)> = self.ok_headers.clone();
        let mut headers: Vec<(&str, &str)> = extra
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if expires == 0 {
            self.bindings.remove(&aor);
            return reply(request, 200, "OK", &headers);
        }
        if let Some(contact) = contact {
            let listed = format!("<{contact}>;expires={expires}");
            self.bindings.insert(
                aor,
                Binding {
                    contact,
                    expires_at: now + Duration::from_secs(u64::from(expires)),
                },
            );
            headers.push(("Contact", &listed));
            return reply(request, 200, "OK", &headers);
        }
        reply(request, 200, "OK", &headers)
    }

    fn verify(&self, request: &SipMessage<'_>, credentials: &Authorization<'_>) -> bool {
        let (Some(user), Some(nonce), Some(uri), Some(given)) = (
            credentials.username(),
            credentials.nonce(),
            credentials.uri(),
            credentials.response(),
        ) else {
            return false;
        };
        if self.expired.contains(nonce) {
            return false;
        }
        let aka_password = self.aka.as_ref().and_then(|keys| {
            let rand = self.nonces.get(nonce)?;
            let version = crate::auth::AkaVersion::from_algorithm(self.algorithm)?;
            let vector = keys.milenage().f2345(rand);
            Some(crate::auth::aka::password(
                version,
                &vector.res,
                &vector.ik,
                &vector.ck,
            ))
        });
        let Some(password) = aka_password.as_ref().or_else(|| self.users.get(user)) else {
            return false;
        };
        if credentials.realm() != Some(self.realm.as_str()) {
            return false;
        }
        let cnonce = credentials.cnonce().unwrap_or("");
        let qop = match credentials.qop() {
            Some("auth") => Some(Qop::Auth),
            Some("auth-int") => Some(Qop::AuthInt),
            Some(_) => return false,
            None => None,
        };
        let method = request.method().map(|m| m.as_str()).unwrap_or("");
        let h1 = ha1(self.algorithm, user, &self.realm, password, nonce, cnonce);
        let h2 = ha2(self.algorithm, method, uri, qop, request.body());
        let expected = response(
            self.algorithm,
            &h1,
            nonce,
            credentials.nc().unwrap_or(0),
            cnonce,
            qop,
            &h2,
        );
        expected.as_str() == given
    }

    fn challenge(&mut self, request: &SipMessage<'_>, stale: bool) -> Vec<u8> {
        self.challenges += 1;
        self.nonce_counter += 1;
        let nonce = match (&self.aka, &self.last_nonce) {
            (Some(_), Some(last)) if self.repeat_nonce => {
                self.repeat_nonce = false;
                last.clone()
            }
            (Some(keys), _) => {
                let mut rand = [0u8; 16];
                rand[..8].copy_from_slice(&self.nonce_counter.to_be_bytes());
                rand[8..].copy_from_slice(&0x5a5a_5a5a_5a5a_5a5a_u64.to_be_bytes());
                let nonce = keys.challenge_nonce(&rand, self.sqn);
                self.sqn += 32;
                self.nonces.insert(nonce.clone(), rand);
                nonce
            }
            (None, _) => format!("n{:016x}", self.nonce_counter),
        };
        self.last_nonce = Some(nonce.clone());
        let mut value = format!(
            "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}",
            self.realm,
            self.algorithm.as_str()
        );
        if let Some(qop) = self.qop {
            value.push_str(&format!(", qop=\"{}\"", qop.as_str()));
        }
        if stale {
            value.push_str(", stale=true");
        }
        let mut headers: Vec<(&str, &str)> = vec![("WWW-Authenticate", &value)];
        headers.extend(
            self.challenge_headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str())),
        );
        reply(request, 401, "Unauthorized", &headers)
    }
}

impl Registrar {
    fn answer_subscribe(&mut self, request: &SipMessage<'_>) -> Vec<u8> {
        let status = self.subscribe_status;
        if status != 200 {
            return reply(request, status, "Refused", &[]);
        }
        let expires = request
            .header::<Expires>()
            .and_then(Result::ok)
            .map_or(600_000, |e| e.0)
            .to_string();
        let contact = format!("<sip:scscf@{}>", self.address);
        reply(
            request,
            200,
            "OK",
            &[
                ("Contact", &contact),
                ("Expires", &expires),
                ("Event", "reg"),
            ],
        )
    }
}

fn reply(request: &SipMessage<'_>, status: u16, reason: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let mut writer = MessageWriter::response_to(
        &mut out,
        request,
        status,
        reason,
        Some("reg1"),
        WriteOptions::default(),
    );
    for (name, value) in headers {
        writer.header(HeaderName::from_wire(name), value.as_bytes());
    }
    writer.finish(b"");
    out
}

impl SimPeer for Registrar {
    fn on_message(
        &mut self,
        now: Instant,
        _from: SocketAddr,
        _transport: Transport,
        bytes: &[u8],
    ) -> Vec<Vec<u8>> {
        if bytes == b"\r\n\r\n" {
            self.pings += 1;
            return if self.pongs {
                vec![b"\r\n".to_vec()]
            } else {
                Vec::new()
            };
        }
        let mut slots = [RawHeader::EMPTY; 64];
        let Ok(request) = SipMessage::parse_datagram(bytes, &mut slots, &Limits::DEFAULT) else {
            return Vec::new();
        };
        if !request.is_request() {
            // Responses (to NOTIFYs a test injected) are kept for assertions.
            self.responses.push(bytes.to_vec());
            return Vec::new();
        }
        match request.method().map(|m| m.as_str()) {
            Some("REGISTER") => {}
            Some("SUBSCRIBE") => {
                self.subscribes.push(bytes.to_vec());
                if self.silent {
                    return Vec::new();
                }
                return vec![self.answer_subscribe(&request)];
            }
            _ => return Vec::new(),
        }
        self.requests += 1;
        self.received.push(bytes.to_vec());
        if self.silent {
            return Vec::new();
        }
        vec![self.answer(now, &request)]
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

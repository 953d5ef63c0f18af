//! The HSS without I/O: one framed Diameter message in, what to send back out. The base
//! protocol (CER/CEA, DWR/DWA, DPR/DPA, error answers, RFC 6733) lives here, Cx in
//! [`crate::cx`].

use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tracing::{debug, warn};

use crate::avp::{self, Avp, AvpError, FLAG_MANDATORY};
use crate::dictionary::{
    self, APPLICATION_CX, APPLICATION_RELAY, VENDOR_3GPP, base, command, result,
};
use crate::message::{
    FLAG_ERROR, FLAG_PROXIABLE, FrameError, Header, Message, MessageError, MessageWriter,
};
use crate::subscriber::Subscribers;

/// How the HSS is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Origin-Host of every answer (the peer FQDN the CSCFs are configured with).
    pub origin_host: String,
    /// Origin-Realm of every answer.
    pub origin_realm: String,
    /// The S-CSCF name handed out in UAA and LIA (`sip:scscf.ims.test:16060`).
    pub scscf_name: String,
    /// Host-IP-Address of the CEA.
    pub host_ip: IpAddr,
    /// The largest message read; larger ones close the connection.
    pub max_message: usize,
    /// The most AKA vectors one MAR gets.
    pub max_auth_items: u32,
    /// Origin-State-Id (changes when the HSS restarts).
    pub origin_state_id: u32,
    /// What SIP-Authorization holds in `Digest-AKAv2-MD5` vectors.
    pub akav2_authorization: crate::cx::Akav2Authorization,
}

/// The default cap on SIP-Number-Auth-Items.
pub const DEFAULT_MAX_AUTH_ITEMS: u32 = 8;

/// What the connection does after one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send this answer and read on.
    Reply(Vec<u8>),
    /// Send this answer, then close (DPA, or an answer to a message the stream cannot be
    /// trusted past).
    ReplyAndClose(Vec<u8>),
    /// Nothing to send (an answer reached us).
    Ignore,
    /// Close without an answer (not even a header to answer to).
    Close,
}

/// Requests answered, per command, and errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// UAR answered.
    pub uar: u64,
    /// MAR answered.
    pub mar: u64,
    /// SAR answered.
    pub sar: u64,
    /// LIR answered.
    pub lir: u64,
    /// CER, DWR and DPR answered.
    pub base: u64,
    /// Answers with a failure Result-Code (3xxx, 5xxx) or Experimental-Result 5xxx.
    pub failures: u64,
    /// AKA vectors issued.
    pub vectors: u64,
    /// Successful AUTS resynchronisations.
    pub resyncs: u64,
}

/// Where RANDs come from.
#[derive(Debug)]
pub enum RandSource {
    /// A seeded generator (seed it from the OS in production, fixed in tests).
    Rng(Box<StdRng>),
    /// The same RAND every time: for byte-exact tests only.
    Fixed([u8; 16]),
}

impl RandSource {
    /// A generator seeded with `seed`.
    pub fn seeded(seed: [u8; 32]) -> RandSource {
        RandSource::Rng(Box::new(StdRng::from_seed(seed)))
    }

    /// The next RAND.
    pub fn draw(&mut self) -> [u8; 16] {
        match self {
            RandSource::Rng(rng) => {
                let mut rand = [0u8; 16];
                rng.fill_bytes(&mut rand);
                rand
            }
            RandSource::Fixed(rand) => *rand,
        }
    }
}

/// A request whose AVPs have been read and checked.
#[derive(Debug)]
pub struct Request<'a> {
    /// The header.
    pub header: Header,
    /// The top-level AVPs in order.
    pub avps: Vec<Avp<'a>>,
}

impl<'a> Request<'a> {
    /// The first top-level AVP with this code and vendor.
    pub fn find(&self, code: u32, vendor: u32) -> Option<&Avp<'a>> {
        self.avps
            .iter()
            .find(|a| a.code == code && a.vendor == vendor)
    }

    /// Every top-level AVP with this code and vendor.
    pub fn all(&self, code: u32, vendor: u32) -> impl Iterator<Item = &Avp<'a>> {
        self.avps
            .iter()
            .filter(move |a| a.code == code && a.vendor == vendor)
    }
}

/// A failed request: the Result-Code and the AVP that caused it (for Failed-AVP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The Result-Code (3xxx, 5xxx).
    pub code: u32,
    /// The AVP to put in Failed-AVP, already encoded.
    pub failed_avp: Option<Vec<u8>>,
}

impl Failure {
    /// DIAMETER_MISSING_AVP for the AVP `code` of `vendor`: Failed-AVP carries an example of
    /// it with empty data (RFC 6733 §7.5).
    pub fn missing(code: u32, vendor: u32) -> Failure {
        let mut example = Vec::new();
        avp::write(&mut example, code, FLAG_MANDATORY, vendor, &[]);
        Failure {
            code: result::MISSING_AVP,
            failed_avp: Some(example),
        }
    }

    /// `code` (5004 invalid value, 5014 invalid length, ...) for the AVP as received.
    pub fn bad(code: u32, avp: &Avp<'_>) -> Failure {
        let mut copy = Vec::new();
        avp::write(&mut copy, avp.code, avp.flags, avp.vendor, avp.data);
        Failure {
            code,
            failed_avp: Some(copy),
        }
    }
}

/// The HSS: configuration, subscribers, RAND source and counters.
#[derive(Debug)]
pub struct Hss {
    /// The configuration.
    pub config: Config,
    /// The subscribers and their state.
    pub subscribers: Subscribers,
    /// Where RANDs come from.
    pub rand: RandSource,
    /// What has been answered.
    pub counters: Counters,
}

impl Hss {
    /// An HSS.
    pub fn new(config: Config, subscribers: Subscribers, rand: RandSource) -> Hss {
        Hss {
            config,
            subscribers,
            rand,
            counters: Counters::default(),
        }
    }

    /// Answers one message, as [`crate::message::frame`] delimited it.
    pub fn handle(&mut self, bytes: &[u8]) -> Outcome {
        let message = match Message::parse(bytes) {
            Ok(message) => message,
            Err(MessageError::Truncated { .. }) => return Outcome::Close,
            Err(MessageError::BadLength { .. }) => {
                let Some(header) = Header::read(bytes) else {
                    return Outcome::Close;
                };
                if !header.is_request() {
                    return Outcome::Ignore;
                }
                warn!(
                    command = header.command,
                    "message length is not a multiple of four"
                );
                return Outcome::Reply(self.error_answer(
                    &header,
                    None,
                    &Failure {
                        code: result::INVALID_MESSAGE_LENGTH,
                        failed_avp: None,
                    },
                ));
            }
        };
        let header = message.header;
        if !header.is_request() {
            debug!(command = header.command, "answer received, ignored");
            return Outcome::Ignore;
        }
        let request = match read_avps(&message) {
            Ok(request) => request,
            Err((failure, session)) => {
                warn!(
                    command = header.command,
                    code = failure.code,
                    "malformed AVPs"
                );
                return Outcome::Reply(self.error_answer(&header, session, &failure));
            }
        };
        debug!(
            command = header.command,
            application = header.application,
            avps = request.avps.len(),
            "request received"
        );
        let session = request.find(base::SESSION_ID, 0).map(|a| a.data);
        if let Some(unknown) = request
            .avps
            .iter()
            .find(|a| a.is_mandatory() && !dictionary::is_known(a.code, a.vendor))
        {
            warn!(
                command = header.command,
                avp = unknown.code,
                vendor = unknown.vendor,
                "unknown mandatory AVP"
            );
            let failure = Failure::bad(result::AVP_UNSUPPORTED, unknown);
            return Outcome::Reply(self.error_answer(&header, session, &failure));
        }
        match header.command {
            command::CAPABILITIES_EXCHANGE => self.capabilities_exchange(&request),
            command::DEVICE_WATCHDOG => {
                self.counters.base = self.counters.base.saturating_add(1);
                let mut answer = self.answer_start(&header, None, false);
                avp::write_u32(
                    &mut answer.buffer,
                    base::RESULT_CODE,
                    FLAG_MANDATORY,
                    0,
                    result::SUCCESS,
                );
                self.origin(&mut answer.buffer);
                avp::write_u32(
                    &mut answer.buffer,
                    base::ORIGIN_STATE_ID,
                    FLAG_MANDATORY,
                    0,
                    self.config.origin_state_id,
                );
                Outcome::Reply(answer.finish())
            }
            command::DISCONNECT_PEER => {
                self.counters.base = self.counters.base.saturating_add(1);
                let mut answer = self.answer_start(&header, None, false);
                avp::write_u32(
                    &mut answer.buffer,
                    base::RESULT_CODE,
                    FLAG_MANDATORY,
                    0,
                    result::SUCCESS,
                );
                self.origin(&mut answer.buffer);
                Outcome::ReplyAndClose(answer.finish())
            }
            command::USER_AUTHORIZATION
            | command::SERVER_ASSIGNMENT
            | command::LOCATION_INFO
            | command::MULTIMEDIA_AUTH => {
                if header.application != APPLICATION_CX {
                    let failure = Failure {
                        code: result::APPLICATION_UNSUPPORTED,
                        failed_avp: None,
                    };
                    return Outcome::Reply(self.error_answer(&header, session, &failure));
                }
                Outcome::Reply(self.cx(&request))
            }
            _ => {
                warn!(command = header.command, "command unsupported");
                let failure = Failure {
                    code: result::COMMAND_UNSUPPORTED,
                    failed_avp: None,
                };
                Outcome::Reply(self.error_answer(&header, session, &failure))
            }
        }
    }

    /// What to do when the stream's next message cannot be framed: answer from its header
    /// if there is one (5011 for a wrong version, 5015 for a bad length), then close.
    pub fn handle_frame_error(&mut self, buffer: &[u8], error: FrameError) -> Outcome {
        let code = match error {
            FrameError::UnsupportedVersion { .. } => result::UNSUPPORTED_VERSION,
            _ => result::INVALID_MESSAGE_LENGTH,
        };
        match Header::read(buffer) {
            Some(header) if header.is_request() => Outcome::ReplyAndClose(self.error_answer(
                &header,
                None,
                &Failure {
                    code,
                    failed_avp: None,
                },
            )),
            _ => Outcome::Close,
        }
    }

    fn capabilities_exchange(&mut self, request: &Request<'_>) -> Outcome {
        self.counters.base = self.counters.base.saturating_add(1);
        let header = &request.header;
        for code in [
            base::ORIGIN_HOST,
            base::ORIGIN_REALM,
            base::HOST_IP_ADDRESS,
            base::VENDOR_ID,
            base::PRODUCT_NAME,
        ] {
            if request.find(code, 0).is_none() {
                warn!(avp = code, "CER without a mandatory AVP");
                return Outcome::ReplyAndClose(self.error_answer(
                    header,
                    None,
                    &Failure::missing(code, 0),
                ));
            }
        }
        let is_cx = |avp: &Avp<'_>| {
            avp.u32()
                .is_some_and(|id| id == APPLICATION_CX || id == APPLICATION_RELAY)
        };
        let offers_cx = request.all(base::AUTH_APPLICATION_ID, 0).any(is_cx)
            || request
                .all(base::VENDOR_SPECIFIC_APPLICATION_ID, 0)
                .any(|group| {
                    group
                        .grouped()
                        .flatten()
                        .any(|inner| inner.code == base::AUTH_APPLICATION_ID && is_cx(&inner))
                });
        let peer = request
            .find(base::ORIGIN_HOST, 0)
            .and_then(Avp::utf8)
            .unwrap_or("?");
        let code = if offers_cx {
            tracing::info!(peer, "capabilities exchanged");
            result::SUCCESS
        } else {
            warn!(peer, "peer offers no Cx application");
            result::NO_COMMON_APPLICATION
        };
        let mut answer = self.answer_start(header, None, false);
        let out = &mut answer.buffer;
        avp::write_u32(out, base::RESULT_CODE, FLAG_MANDATORY, 0, code);
        self.origin(out);
        avp::write(
            out,
            base::HOST_IP_ADDRESS,
            FLAG_MANDATORY,
            0,
            &address(self.config.host_ip),
        );
        avp::write_u32(out, base::VENDOR_ID, FLAG_MANDATORY, 0, 0);
        avp::write(out, base::PRODUCT_NAME, 0, 0, b"imshss");
        avp::write_u32(
            out,
            base::ORIGIN_STATE_ID,
            FLAG_MANDATORY,
            0,
            self.config.origin_state_id,
        );
        avp::write_u32(
            out,
            base::SUPPORTED_VENDOR_ID,
            FLAG_MANDATORY,
            0,
            VENDOR_3GPP,
        );
        avp::write_u32(
            out,
            base::AUTH_APPLICATION_ID,
            FLAG_MANDATORY,
            0,
            APPLICATION_CX,
        );
        write_cx_application(out);
        let bytes = answer.finish();
        if code == result::SUCCESS {
            Outcome::Reply(bytes)
        } else {
            Outcome::ReplyAndClose(bytes)
        }
    }

    /// The answer's header (R cleared, P kept, E for protocol errors) and its Session-Id.
    pub(crate) fn answer_start(
        &self,
        request: &Header,
        session: Option<&[u8]>,
        error: bool,
    ) -> MessageWriter {
        let mut flags = request.flags & FLAG_PROXIABLE;
        if error {
            flags |= FLAG_ERROR;
        }
        let mut answer = MessageWriter::new(&Header { flags, ..*request });
        if let Some(session) = session {
            avp::write(
                &mut answer.buffer,
                base::SESSION_ID,
                FLAG_MANDATORY,
                0,
                session,
            );
        }
        answer
    }

    /// Origin-Host and Origin-Realm.
    pub(crate) fn origin(&self, out: &mut Vec<u8>) {
        avp::write(
            out,
            base::ORIGIN_HOST,
            FLAG_MANDATORY,
            0,
            self.config.origin_host.as_bytes(),
        );
        avp::write(
            out,
            base::ORIGIN_REALM,
            FLAG_MANDATORY,
            0,
            self.config.origin_realm.as_bytes(),
        );
    }

    /// An answer carrying only a failure: Session-Id, (for Cx) the application and
    /// session state, Result-Code, Origin-Host/Realm and Failed-AVP. 3xxx set the E bit.
    pub(crate) fn error_answer(
        &mut self,
        header: &Header,
        session: Option<&[u8]>,
        failure: &Failure,
    ) -> Vec<u8> {
        self.counters.failures = self.counters.failures.saturating_add(1);
        let protocol_error = (3000..4000).contains(&failure.code);
        let mut answer = self.answer_start(header, session, protocol_error);
        let out = &mut answer.buffer;
        if header.application == APPLICATION_CX {
            write_cx_application(out);
        }
        avp::write_u32(out, base::RESULT_CODE, FLAG_MANDATORY, 0, failure.code);
        if header.application == APPLICATION_CX {
            avp::write_u32(out, base::AUTH_SESSION_STATE, FLAG_MANDATORY, 0, 1);
        }
        self.origin(out);
        if let Some(failed) = &failure.failed_avp {
            let start = avp::begin(out, base::FAILED_AVP, FLAG_MANDATORY, 0);
            out.extend_from_slice(failed);
            avp::end(out, start);
        }
        answer.finish()
    }
}

/// Vendor-Specific-Application-Id { Vendor-Id 10415, Auth-Application-Id Cx }.
pub(crate) fn write_cx_application(out: &mut Vec<u8>) {
    let start = avp::begin(out, base::VENDOR_SPECIFIC_APPLICATION_ID, FLAG_MANDATORY, 0);
    avp::write_u32(out, base::VENDOR_ID, FLAG_MANDATORY, 0, VENDOR_3GPP);
    avp::write_u32(
        out,
        base::AUTH_APPLICATION_ID,
        FLAG_MANDATORY,
        0,
        APPLICATION_CX,
    );
    avp::end(out, start);
}

/// An Address AVP's data: address family (1 IPv4, 2 IPv6) and the address.
fn address(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => [&[0u8, 1][..], &v4.octets()].concat(),
        IpAddr::V6(v6) => [&[0u8, 2][..], &v6.octets()].concat(),
    }
}

/// Reads the top-level AVPs; a length error becomes DIAMETER_INVALID_AVP_LENGTH with a
/// Failed-AVP holding the AVP's header and the octets that are there.
/// The Session-Id is echoed if it came before the error.
fn read_avps<'a>(message: &Message<'a>) -> Result<Request<'a>, (Failure, Option<&'a [u8]>)> {
    let mut avps: Vec<Avp<'a>> = Vec::new();
    for item in message.avps() {
        match item {
            Ok(avp) => avps.push(avp),
            Err(error) => {
                let session = avps
                    .iter()
                    .find(|a| a.code == base::SESSION_ID && a.vendor == 0)
                    .map(|a| a.data);
                return Err((length_failure(message.body, error), session));
            }
        }
    }
    Ok(Request {
        header: message.header,
        avps,
    })
}

fn length_failure(body: &[u8], error: AvpError) -> Failure {
    let offset = match error {
        AvpError::TruncatedHeader { offset, .. } | AvpError::BadLength { offset, .. } => offset,
    };
    let rest = body.get(offset..).unwrap_or_default();
    let failed_avp = match rest {
        [c0, c1, c2, c3, flags, _, _, _, tail @ ..] => {
            let code = u32::from_be_bytes([*c0, *c1, *c2, *c3]);
            let (vendor, data) = match tail {
                [v0, v1, v2, v3, data @ ..] if flags & avp::FLAG_VENDOR != 0 => {
                    (u32::from_be_bytes([*v0, *v1, *v2, *v3]), data)
                }
                _ => (0, tail),
            };
            let mut copy = Vec::new();
            avp::write(&mut copy, code, *flags, vendor, data);
            Some(copy)
        }
        _ => None,
    };
    Failure {
        code: result::INVALID_AVP_LENGTH,
        failed_avp,
    }
}

//! The Cx commands (3GPP TS 29.228 §6, TS 29.229 §6.1): UAR, MAR, SAR and LIR.
//!
//! Where imshss is simpler than the spec, on purpose:
//! - UAR for a first registration returns the configured Server-Name rather than
//!   Server-Capabilities (Kamailio's I-CSCF takes either); REGISTRATION_AND_CAPABILITIES
//!   gets Server-Capabilities holding that name.
//! - Every subscriber has unregistered services, so LIR for a not-registered IMPU is
//!   DIAMETER_UNREGISTERED_SERVICE with the configured Server-Name.
//! - SAR always returns User-Data when the type asks for a profile, whatever
//!   User-Data-Already-Available says.
//! - A MAR whose AUTS fails MAC-S is answered DIAMETER_AUTHORIZATION_REJECTED (5003).
//! - A Digest subscriber is answered with SIP Digest whatever scheme the MAR names:
//!   Kamailio's S-CSCF asks for its configured default (an AKA version, or `unknown` when
//!   configured `HSS-Selected` as scripts/ims-core does) and then takes the scheme of the
//!   answer. An AKA subscriber asked for a Digest scheme still gets
//!   DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED.
//! - A MAR that leaves the scheme to the HSS (`unknown`, `HSS-Selected` or empty) gets the
//!   subscriber's own AKA version (AKAv1-MD5 unless the subscriber says AKAv2-MD5).
//! - For `Digest-AKAv2-MD5` the SIP-Authorization of each item holds, by default, the
//!   RFC 4169 password (base64 of PRF(XRES || IK || CK)) rather than XRES
//!   ([`Akav2Authorization`]): Kamailio's S-CSCF uses SIP-Authorization as the Digest
//!   password for both AKA versions and does not derive the AKAv2 one itself.

use tracing::debug;

use ims_core::auth::aka::{self as aka, AkaVersion};

use crate::avp::{self, Avp, FLAG_MANDATORY};
use crate::dictionary::{VENDOR_3GPP, base, command, cx, experimental, result};
use crate::hss::{Failure, Hss, Request, write_cx_application};
use crate::subscriber::{Credential, Profile, Registration, SubscriberId};
use crate::vector::{self, ResyncError};

/// Flags of a 3GPP AVP we send: M and V.
const MV: u8 = FLAG_MANDATORY;

/// The outcome of a Cx request before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Result-Code.
    Code(u32),
    /// Experimental-Result { Vendor-Id 10415, Experimental-Result-Code }.
    Experimental(u32),
}

impl Outcome {
    fn is_failure(self) -> bool {
        match self {
            Outcome::Code(code) | Outcome::Experimental(code) => code >= 3000,
        }
    }
}

/// A Cx answer: its result and the command's own AVPs, encoded.
struct Answer {
    outcome: Outcome,
    avps: Vec<u8>,
}

impl Answer {
    fn only(outcome: Outcome) -> Answer {
        Answer {
            outcome,
            avps: Vec::new(),
        }
    }
}

impl Hss {
    /// Answers a Cx request (UAR, MAR, SAR, LIR).
    pub(crate) fn cx(&mut self, request: &Request<'_>) -> Vec<u8> {
        let header = request.header;
        let Some(session) = request.find(base::SESSION_ID, 0).map(|a| a.data) else {
            return self.error_answer(&header, None, &Failure::missing(base::SESSION_ID, 0));
        };
        for code in [base::ORIGIN_HOST, base::ORIGIN_REALM] {
            if request.find(code, 0).is_none() {
                return self.error_answer(&header, Some(session), &Failure::missing(code, 0));
            }
        }
        let (name, answered) = match header.command {
            command::USER_AUTHORIZATION => ("UAR", self.user_authorization(request)),
            command::MULTIMEDIA_AUTH => ("MAR", self.multimedia_auth(request)),
            command::SERVER_ASSIGNMENT => ("SAR", self.server_assignment(request)),
            _ => ("LIR", self.location_info(request)),
        };
        let counter = match header.command {
            command::USER_AUTHORIZATION => &mut self.counters.uar,
            command::MULTIMEDIA_AUTH => &mut self.counters.mar,
            command::SERVER_ASSIGNMENT => &mut self.counters.sar,
            _ => &mut self.counters.lir,
        };
        *counter = counter.saturating_add(1);
        let impi = text(request, base::USER_NAME, 0).ok().flatten();
        let impu = text(request, cx::PUBLIC_IDENTITY, VENDOR_3GPP)
            .ok()
            .flatten();
        let answer = match answered {
            Ok(answer) => answer,
            Err(failure) => {
                debug!(
                    command = name,
                    impi,
                    impu,
                    code = failure.code,
                    "Cx request refused"
                );
                return self.error_answer(&header, Some(session), &failure);
            }
        };
        debug!(command = name, impi, impu, outcome = ?answer.outcome, "Cx request answered");
        if answer.outcome.is_failure() {
            self.counters.failures = self.counters.failures.saturating_add(1);
        }
        let mut writer = self.answer_start(&header, Some(session), false);
        let out = &mut writer.buffer;
        write_cx_application(out);
        match answer.outcome {
            Outcome::Code(code) => {
                avp::write_u32(out, base::RESULT_CODE, FLAG_MANDATORY, 0, code);
            }
            Outcome::Experimental(code) => {
                let start = avp::begin(out, base::EXPERIMENTAL_RESULT, FLAG_MANDATORY, 0);
                avp::write_u32(out, base::VENDOR_ID, FLAG_MANDATORY, 0, VENDOR_3GPP);
                avp::write_u32(out, base::EXPERIMENTAL_RESULT_CODE, FLAG_MANDATORY, 0, code);
                avp::end(out, start);
            }
        }
        avp::write_u32(out, base::AUTH_SESSION_STATE, FLAG_MANDATORY, 0, 1);
        self.origin(out);
        out.extend_from_slice(&answer.avps);
        writer.finish()
    }

    /// UAR (TS 29.228 §6.1.1): which S-CSCF serves a registering user.
    fn user_authorization(&mut self, request: &Request<'_>) -> Result<Answer, Failure> {
        let impi = required_text(request, base::USER_NAME, 0)?;
        let impu = required_text(request, cx::PUBLIC_IDENTITY, VENDOR_3GPP)?;
        let kind = enumerated(request, cx::USER_AUTHORIZATION_TYPE, 2)?.unwrap_or(0);
        let (id, _) = match self.identify(impi, impu) {
            Ok(found) => found,
            Err(outcome) => return Ok(Answer::only(outcome)),
        };
        let state = self.subscribers.state(id);
        let server = state
            .scscf
            .clone()
            .unwrap_or_else(|| self.config.scscf_name.clone());
        let mut avps = Vec::new();
        let outcome = match (kind, state.registration) {
            // DE_REGISTRATION
            (1, Registration::NotRegistered) => {
                Outcome::Experimental(experimental::IDENTITY_NOT_REGISTERED)
            }
            (1, _) => {
                avp::write(
                    &mut avps,
                    cx::SERVER_NAME,
                    MV,
                    VENDOR_3GPP,
                    server.as_bytes(),
                );
                Outcome::Code(result::SUCCESS)
            }
            // REGISTRATION_AND_CAPABILITIES
            (2, _) => {
                let start = avp::begin(&mut avps, cx::SERVER_CAPABILITIES, MV, VENDOR_3GPP);
                avp::write(
                    &mut avps,
                    cx::SERVER_NAME,
                    MV,
                    VENDOR_3GPP,
                    server.as_bytes(),
                );
                avp::end(&mut avps, start);
                Outcome::Experimental(experimental::FIRST_REGISTRATION)
            }
            // REGISTRATION
            (_, registration) => {
                avp::write(
                    &mut avps,
                    cx::SERVER_NAME,
                    MV,
                    VENDOR_3GPP,
                    server.as_bytes(),
                );
                Outcome::Experimental(if registration == Registration::NotRegistered {
                    experimental::FIRST_REGISTRATION
                } else {
                    experimental::SUBSEQUENT_REGISTRATION
                })
            }
        };
        Ok(Answer { outcome, avps })
    }

    /// MAR (TS 29.228 §6.3): authentication vectors, after an AUTS resynchronisation if
    /// the request carries one.
    fn multimedia_auth(&mut self, request: &Request<'_>) -> Result<Answer, Failure> {
        let impi = required_text(request, base::USER_NAME, 0)?;
        let impu = required_text(request, cx::PUBLIC_IDENTITY, VENDOR_3GPP)?;
        let server = required_text(request, cx::SERVER_NAME, VENDOR_3GPP)?;
        let item = request
            .find(cx::SIP_AUTH_DATA_ITEM, VENDOR_3GPP)
            .ok_or_else(|| Failure::missing(cx::SIP_AUTH_DATA_ITEM, VENDOR_3GPP))?;
        let requested = match request.find(cx::SIP_NUMBER_AUTH_ITEMS, VENDOR_3GPP) {
            Some(avp) => unsigned(avp)?,
            None => return Err(Failure::missing(cx::SIP_NUMBER_AUTH_ITEMS, VENDOR_3GPP)),
        };
        let mut scheme = "";
        let mut authorization = None;
        for inner in item.grouped() {
            let inner = inner.map_err(|_| Failure::bad(result::INVALID_AVP_LENGTH, item))?;
            match (inner.code, inner.vendor) {
                (cx::SIP_AUTHENTICATION_SCHEME, VENDOR_3GPP) => {
                    scheme = inner
                        .utf8()
                        .ok_or_else(|| Failure::bad(result::INVALID_AVP_VALUE, &inner))?;
                }
                // An empty SIP-Authorization (sent by some S-CSCFs on every MAR) asks for
                // no resynchronisation.
                (cx::SIP_AUTHORIZATION, VENDOR_3GPP) if !inner.data.is_empty() => {
                    authorization = Some(inner);
                }
                _ => {}
            }
        }
        let (id, profile) = match self.identify(impi, impu) {
            Ok(found) => found,
            Err(outcome) => return Ok(Answer::only(outcome)),
        };
        let state = self.subscribers.state_mut(id);
        if state.scscf.is_none() {
            state.scscf = Some(server.to_owned());
        }
        let mut avps = Vec::new();
        avp::write(
            &mut avps,
            base::USER_NAME,
            FLAG_MANDATORY,
            0,
            impi.as_bytes(),
        );
        avp::write(
            &mut avps,
            cx::PUBLIC_IDENTITY,
            MV,
            VENDOR_3GPP,
            impu.as_bytes(),
        );
        match &profile.credential {
            Credential::Aka {
                milenage,
                amf,
                version,
            } => {
                let version = match aka_scheme(scheme, *version) {
                    Some(version) => version,
                    None => {
                        return Ok(Answer::only(Outcome::Experimental(
                            experimental::AUTH_SCHEME_NOT_SUPPORTED,
                        )));
                    }
                };
                if let Some(authorization) = authorization {
                    match vector::resync(milenage, authorization.data) {
                        Ok(sqn_ms) => {
                            self.subscribers.state_mut(id).sqn = sqn_ms;
                            self.counters.resyncs = self.counters.resyncs.saturating_add(1);
                            debug!(impi, "SQN resynchronised from AUTS");
                        }
                        Err(ResyncError::BadLength { .. }) => {
                            return Err(Failure::bad(result::INVALID_AVP_VALUE, &authorization));
                        }
                        Err(_) => {
                            return Ok(Answer {
                                outcome: Outcome::Code(result::AUTHORIZATION_REJECTED),
                                avps,
                            });
                        }
                    }
                }
                let count = requested.clamp(1, self.config.max_auth_items.max(1));
                debug!(
                    impi,
                    asked = scheme,
                    scheme = version.algorithm().as_str(),
                    count,
                    "AKA vectors issued"
                );
                avp::write_u32(&mut avps, cx::SIP_NUMBER_AUTH_ITEMS, MV, VENDOR_3GPP, count);
                for number in 1..=count {
                    let state = self.subscribers.state_mut(id);
                    let sqn = vector::next_sqn(state.sqn);
                    state.sqn = sqn;
                    let rand = self.rand.draw();
                    let vector = vector::generate(milenage, *amf, &rand, sqn);
                    self.counters.vectors = self.counters.vectors.saturating_add(1);
                    let start = avp::begin(&mut avps, cx::SIP_AUTH_DATA_ITEM, MV, VENDOR_3GPP);
                    avp::write_u32(&mut avps, cx::SIP_ITEM_NUMBER, MV, VENDOR_3GPP, number);
                    let scheme_bytes = match version {
                        AkaVersion::V1 => b"Digest-AKAv1-MD5",
                        AkaVersion::V2 => b"Digest-AKAv2-MD5",
                    };
                    avp::write(
                        &mut avps,
                        cx::SIP_AUTHENTICATION_SCHEME,
                        MV,
                        VENDOR_3GPP,
                        scheme_bytes,
                    );
                    avp::write(
                        &mut avps,
                        cx::SIP_AUTHENTICATE,
                        MV,
                        VENDOR_3GPP,
                        &vector.authenticate,
                    );
                    let password;
                    let authorization: &[u8] = match (version, self.config.akav2_authorization) {
                        (AkaVersion::V2, Akav2Authorization::Password) => {
                            password =
                                aka::password(AkaVersion::V2, &vector.xres, &vector.ik, &vector.ck);
                            password.expose()
                        }
                        _ => &vector.xres,
                    };
                    avp::write(
                        &mut avps,
                        cx::SIP_AUTHORIZATION,
                        MV,
                        VENDOR_3GPP,
                        authorization,
                    );
                    avp::write(
                        &mut avps,
                        cx::CONFIDENTIALITY_KEY,
                        MV,
                        VENDOR_3GPP,
                        &vector.ck,
                    );
                    avp::write(&mut avps, cx::INTEGRITY_KEY, MV, VENDOR_3GPP, &vector.ik);
                    avp::end(&mut avps, start);
                }
            }
            Credential::Digest { ha1, realm } => {
                avp::write_u32(&mut avps, cx::SIP_NUMBER_AUTH_ITEMS, MV, VENDOR_3GPP, 1);
                let item = avp::begin(&mut avps, cx::SIP_AUTH_DATA_ITEM, MV, VENDOR_3GPP);
                avp::write_u32(&mut avps, cx::SIP_ITEM_NUMBER, MV, VENDOR_3GPP, 1);
                avp::write(
                    &mut avps,
                    cx::SIP_AUTHENTICATION_SCHEME,
                    MV,
                    VENDOR_3GPP,
                    b"SIP Digest",
                );
                let digest = avp::begin(&mut avps, cx::SIP_DIGEST_AUTHENTICATE, MV, VENDOR_3GPP);
                avp::write(
                    &mut avps,
                    base::DIGEST_REALM,
                    FLAG_MANDATORY,
                    0,
                    realm.as_bytes(),
                );
                avp::write(&mut avps, base::DIGEST_ALGORITHM, FLAG_MANDATORY, 0, b"MD5");
                avp::write(&mut avps, base::DIGEST_QOP, FLAG_MANDATORY, 0, b"auth");
                avp::write(
                    &mut avps,
                    base::DIGEST_HA1,
                    FLAG_MANDATORY,
                    0,
                    ha1.as_bytes(),
                );
                avp::end(&mut avps, digest);
                avp::end(&mut avps, item);
            }
        }
        Ok(Answer {
            outcome: Outcome::Code(result::SUCCESS),
            avps,
        })
    }

    /// SAR (TS 29.228 §6.1.2): the S-CSCF takes (or gives up) a user and gets the profile.
    fn server_assignment(&mut self, request: &Request<'_>) -> Result<Answer, Failure> {
        let server = required_text(request, cx::SERVER_NAME, VENDOR_3GPP)?;
        let kind = enumerated(request, cx::SERVER_ASSIGNMENT_TYPE, 14)?
            .ok_or_else(|| Failure::missing(cx::SERVER_ASSIGNMENT_TYPE, VENDOR_3GPP))?;
        let impi = text(request, base::USER_NAME, 0)?;
        let impu = text(request, cx::PUBLIC_IDENTITY, VENDOR_3GPP)?;
        let found = match (impi, impu) {
            (Some(impi), Some(impu)) => self.identify(impi, impu),
            (Some(impi), None) => self.by_impi(impi),
            (None, Some(impu)) => self.by_impu(impu),
            (None, None) => return Err(Failure::missing(cx::PUBLIC_IDENTITY, VENDOR_3GPP)),
        };
        let (id, profile) = match found {
            Ok(found) => found,
            Err(outcome) => return Ok(Answer::only(outcome)),
        };
        let state = self.subscribers.state_mut(id);
        let with_profile = match kind {
            // REGISTRATION, RE_REGISTRATION
            1 | 2 => {
                state.registration = Registration::Registered;
                state.scscf = Some(server.to_owned());
                true
            }
            // UNREGISTERED_USER
            3 => {
                if state.registration != Registration::Registered {
                    state.registration = Registration::Unregistered;
                }
                state.scscf = Some(server.to_owned());
                true
            }
            // TIMEOUT_, USER_, ADMINISTRATIVE_DEREGISTRATION, DEREGISTRATION_TOO_MUCH_DATA
            4 | 5 | 8 | 11 => {
                state.registration = Registration::NotRegistered;
                state.scscf = None;
                false
            }
            // ..._DEREGISTRATION_STORE_SERVER_NAME
            6 | 7 => {
                state.registration = Registration::NotRegistered;
                false
            }
            // AUTHENTICATION_FAILURE, AUTHENTICATION_TIMEOUT
            9 | 10 => {
                if state.registration == Registration::NotRegistered {
                    state.scscf = None;
                }
                false
            }
            // NO_ASSIGNMENT, AAA_USER_DATA_REQUEST, PGW_UPDATE, RESTORATION
            _ => true,
        };
        let mut avps = Vec::new();
        avp::write(
            &mut avps,
            base::USER_NAME,
            FLAG_MANDATORY,
            0,
            profile.impi.as_bytes(),
        );
        if with_profile {
            let data = user_data(&profile);
            avp::write(&mut avps, cx::USER_DATA, MV, VENDOR_3GPP, data.as_bytes());
        }
        Ok(Answer {
            outcome: Outcome::Code(result::SUCCESS),
            avps,
        })
    }

    /// LIR (TS 29.228 §6.1.4): which S-CSCF serves a public identity.
    fn location_info(&mut self, request: &Request<'_>) -> Result<Answer, Failure> {
        let impu = required_text(request, cx::PUBLIC_IDENTITY, VENDOR_3GPP)?;
        let (id, _) = match self.by_impu(impu) {
            Ok(found) => found,
            Err(outcome) => return Ok(Answer::only(outcome)),
        };
        let state = self.subscribers.state(id);
        let (outcome, server) = match (state.registration, state.scscf) {
            (Registration::NotRegistered, _) | (_, None) => (
                Outcome::Experimental(experimental::UNREGISTERED_SERVICE),
                self.config.scscf_name.clone(),
            ),
            (_, Some(server)) => (Outcome::Code(result::SUCCESS), server),
        };
        let mut avps = Vec::new();
        avp::write(
            &mut avps,
            cx::SERVER_NAME,
            MV,
            VENDOR_3GPP,
            server.as_bytes(),
        );
        Ok(Answer { outcome, avps })
    }

    /// The subscriber with this IMPI, if it owns this IMPU.
    fn identify(&self, impi: &str, impu: &str) -> Result<(SubscriberId, Profile), Outcome> {
        let (id, profile) = self.by_impi(impi)?;
        if profile.impus.iter().any(|own| own == impu) {
            Ok((id, profile))
        } else {
            Err(Outcome::Experimental(experimental::IDENTITIES_DONT_MATCH))
        }
    }

    fn by_impi(&self, impi: &str) -> Result<(SubscriberId, Profile), Outcome> {
        let unknown = Outcome::Experimental(experimental::USER_UNKNOWN);
        let id = self.subscribers.by_impi(impi).ok_or(unknown)?;
        let profile = self.subscribers.profile(id).ok_or(unknown)?;
        Ok((id, profile))
    }

    fn by_impu(&self, impu: &str) -> Result<(SubscriberId, Profile), Outcome> {
        let unknown = Outcome::Experimental(experimental::USER_UNKNOWN);
        let id = self.subscribers.by_impu(impu).ok_or(unknown)?;
        let profile = self.subscribers.profile(id).ok_or(unknown)?;
        Ok((id, profile))
    }
}

/// The AKA version to answer with for the scheme asked for: AKAv1 or AKAv2 as asked, the
/// subscriber's own when the S-CSCF leaves the choice to the HSS, `None` for a scheme AKA
/// cannot serve.
fn aka_scheme(asked: &str, own: AkaVersion) -> Option<AkaVersion> {
    if asked.eq_ignore_ascii_case("Digest-AKAv2-MD5") {
        Some(AkaVersion::V2)
    } else if asked.eq_ignore_ascii_case("Digest-AKAv1-MD5") {
        Some(AkaVersion::V1)
    } else if asked.eq_ignore_ascii_case("unknown")
        || asked.eq_ignore_ascii_case("HSS-Selected")
        || asked.is_empty()
    {
        Some(own)
    } else {
        None
    }
}

/// What the SIP-Authorization AVP of a `Digest-AKAv2-MD5` item holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Akav2Authorization {
    /// The Digest password of RFC 4169 §3 (base64 of PRF(XRES || IK || CK,
    /// "http-digest-akav2-password")), for an S-CSCF that uses SIP-Authorization as the
    /// password directly (Kamailio's ims_auth).
    #[default]
    Password,
    /// XRES, for an S-CSCF that derives the AKAv2 password itself.
    Xres,
}

/// The IMSSubscription document (TS 29.228 Annex E) of a profile: its IMPI and one
/// service profile holding all its IMPUs.
pub fn user_data(profile: &Profile) -> String {
    let mut xml = String::with_capacity(256);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><IMSSubscription><PrivateID>");
    escape_into(&mut xml, &profile.impi);
    xml.push_str("</PrivateID><ServiceProfile>");
    for impu in &profile.impus {
        xml.push_str("<PublicIdentity><Identity>");
        escape_into(&mut xml, impu);
        xml.push_str("</Identity></PublicIdentity>");
    }
    xml.push_str("</ServiceProfile></IMSSubscription>");
    xml
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// A UTF8String AVP if present; not UTF-8 is DIAMETER_INVALID_AVP_VALUE.
fn text<'a>(request: &Request<'a>, code: u32, vendor: u32) -> Result<Option<&'a str>, Failure> {
    match request.find(code, vendor) {
        None => Ok(None),
        Some(avp) => avp
            .utf8()
            .map(Some)
            .ok_or_else(|| Failure::bad(result::INVALID_AVP_VALUE, avp)),
    }
}

/// A UTF8String AVP that must be there (DIAMETER_MISSING_AVP) and not be empty.
fn required_text<'a>(request: &Request<'a>, code: u32, vendor: u32) -> Result<&'a str, Failure> {
    let value = text(request, code, vendor)?.ok_or_else(|| Failure::missing(code, vendor))?;
    if value.is_empty() {
        let avp = request.find(code, vendor);
        return Err(avp.map_or_else(
            || Failure::missing(code, vendor),
            |avp| Failure::bad(result::INVALID_AVP_VALUE, avp),
        ));
    }
    Ok(value)
}

/// An Unsigned32 AVP; another length is DIAMETER_INVALID_AVP_LENGTH.
fn unsigned(avp: &Avp<'_>) -> Result<u32, Failure> {
    avp.u32()
        .ok_or_else(|| Failure::bad(result::INVALID_AVP_LENGTH, avp))
}

/// An Enumerated AVP if present, at most `max` (else DIAMETER_INVALID_AVP_VALUE).
fn enumerated(request: &Request<'_>, code: u32, max: u32) -> Result<Option<u32>, Failure> {
    let Some(avp) = request.find(code, VENDOR_3GPP) else {
        return Ok(None);
    };
    let value = unsigned(avp)?;
    if value > max {
        return Err(Failure::bad(result::INVALID_AVP_VALUE, avp));
    }
    Ok(Some(value))
}

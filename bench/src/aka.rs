//! `imsbench milenage` and `imsbench aka-response`: the Milenage outputs and the IMS AKA
//! Digest answer for given keys, for users checking their network's vectors.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ims_core::auth::Milenage;
use ims_core::auth::aka::{self, AkaAnswer, AkaError, AkaKeys, AkaVersion, SqnState};
use ims_core::auth::digest::{self, DigestChallenge, DigestRequest, Qop, write_authorization_with};
use serde_json::{Map, Value};

/// OP or OPc (exactly one), as hex.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct OperatorArgs {
    /// The operator variant key OP (32 hex digits).
    #[arg(long)]
    op: Option<String>,
    /// OPc, derived from OP and K (32 hex digits).
    #[arg(long)]
    opc: Option<String>,
}

/// `imsbench milenage`
#[derive(Args)]
pub struct MilenageArgs {
    /// The subscriber key K (32 hex digits).
    #[arg(long)]
    k: String,
    #[command(flatten)]
    operator: OperatorArgs,
    /// RAND (32 hex digits).
    #[arg(long)]
    rand: String,
    /// SQN (12 hex digits).
    #[arg(long)]
    sqn: String,
    /// AMF (4 hex digits).
    #[arg(long)]
    amf: String,
    /// Print one JSON object instead of `name: hex` lines.
    #[arg(long)]
    json: bool,
}

/// The qop to answer with.
#[derive(Clone, Copy, ValueEnum)]
pub enum QopArg {
    /// qop=auth
    Auth,
    /// qop=auth-int (over an empty body)
    AuthInt,
    /// No qop (RFC 2069 form)
    None,
}

/// `imsbench aka-response`
#[derive(Args)]
pub struct AkaResponseArgs {
    /// The subscriber key K (32 hex digits).
    #[arg(long)]
    k: String,
    #[command(flatten)]
    operator: OperatorArgs,
    /// AMF of the subscription (4 hex digits); MAC-A is checked with the AMF in AUTN.
    #[arg(long)]
    amf: String,
    /// The challenge's nonce: base64(RAND || AUTN [|| server data]).
    #[arg(long)]
    nonce: String,
    /// The private identity (IMPI), the Digest username.
    #[arg(long)]
    user: String,
    /// The challenge's realm.
    #[arg(long)]
    realm: String,
    /// The digest-uri: the Request-URI of the request.
    #[arg(long)]
    uri: String,
    /// The request method.
    #[arg(long, default_value = "REGISTER")]
    method: String,
    /// AKAv2-MD5 (RFC 4169) instead of AKAv1-MD5 (RFC 3310).
    #[arg(long)]
    v2: bool,
    /// The qop to answer with, as the challenge offers.
    #[arg(long, value_enum, default_value = "auth")]
    qop: QopArg,
    /// The client nonce (with a qop).
    #[arg(long, default_value = "0a4f113b")]
    cnonce: String,
    /// The nonce count (with a qop).
    #[arg(long, default_value_t = 1)]
    nc: u32,
    /// The challenge's opaque value, if any.
    #[arg(long)]
    opaque: Option<String>,
    /// The stored SQN state of the account (comma-separated SQNs as 12 hex digits); none
    /// means a new account.
    #[arg(long)]
    sqn_state: Option<String>,
    /// Print one JSON object instead of `name: value` lines.
    #[arg(long)]
    json: bool,
}

fn milenage_of(k: &str, operator: &OperatorArgs) -> Result<Milenage, AkaError> {
    let k = aka::decode_hex::<16>("K", k)?;
    match (&operator.op, &operator.opc) {
        (Some(op), None) => Ok(Milenage::with_op(&k, &aka::decode_hex("OP", op)?)),
        (None, Some(opc)) => Ok(Milenage::with_opc(&k, &aka::decode_hex("OPc", opc)?)),
        _ => Err(AkaError::NeedOpOrOpc),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Prints `name: value` lines, or one JSON object.
fn print(fields: &[(&str, String)], json: bool) {
    if json {
        let object: Map<String, Value> = fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
            .collect();
        println!("{}", Value::Object(object));
    } else {
        for (name, value) in fields {
            println!("{name}: {value}");
        }
    }
}

/// `imsbench milenage`: OPc, MAC-A (f1), MAC-S (f1*), RES (f2), CK (f3), IK (f4), AK (f5)
/// and AK* (f5*).
pub fn milenage(args: &MilenageArgs) -> anyhow::Result<ExitCode> {
    let milenage = milenage_of(&args.k, &args.operator)?;
    let rand = aka::decode_hex::<16>("RAND", &args.rand)?;
    let sqn = aka::decode_hex::<6>("SQN", &args.sqn)?;
    let amf = aka::decode_hex::<2>("AMF", &args.amf)?;
    let outputs = milenage.f2345(&rand);
    print(
        &[
            ("opc", hex(&milenage.opc())),
            ("mac_a", hex(&milenage.f1(&rand, &sqn, &amf))),
            ("mac_s", hex(&milenage.f1_star(&rand, &sqn, &amf))),
            ("res", hex(&outputs.res)),
            ("ck", hex(&outputs.ck)),
            ("ik", hex(&outputs.ik)),
            ("ak", hex(&outputs.ak)),
            ("ak_star", hex(&milenage.f5_star(&rand))),
        ],
        args.json,
    );
    Ok(ExitCode::SUCCESS)
}

/// `imsbench aka-response`: checks the challenge as a USIM would and prints the answer:
/// the Digest response and Authorization value (exit 0), the AUTS of a resynchronisation
/// (exit 0), or the MAC-A mismatch (exit 1).
pub fn aka_response(args: &AkaResponseArgs) -> anyhow::Result<ExitCode> {
    let milenage = milenage_of(&args.k, &args.operator)?;
    let amf = aka::decode_hex::<2>("AMF", &args.amf)?;
    let keys = AkaKeys::from_milenage(milenage.clone(), amf);
    let version = if args.v2 {
        AkaVersion::V2
    } else {
        AkaVersion::V1
    };
    let mut state: SqnState = match &args.sqn_state {
        Some(stored) => stored.parse().context("--sqn-state")?,
        None => SqnState::default(),
    };

    // What the nonce carries, shown whatever the outcome.
    let (rand, autn) = aka::split_nonce(&args.nonce).context("--nonce")?;
    let outputs = milenage.f2345(&rand);
    let sqn: [u8; 6] = std::array::from_fn(|i| autn[i] ^ outputs.ak[i]);
    let autn_amf = [autn[6], autn[7]];
    let mut fields = vec![
        ("rand", hex(&rand)),
        ("autn", hex(&autn)),
        ("sqn", hex(&sqn)),
        ("amf", hex(&autn_amf)),
    ];

    let answer = match aka::answer(&keys, version, &args.nonce, &mut state) {
        Ok(answer) => answer,
        Err(AkaError::MacFailure) => {
            fields.push(("result", "mac-failure".to_owned()));
            fields.push(("mac_a", hex(&autn[8..])));
            fields.push(("xmac_a", hex(&milenage.f1(&rand, &sqn, &autn_amf))));
            print(&fields, args.json);
            eprintln!(
                "imsbench: MAC-A in AUTN does not match these keys: wrong K/OP/OPc, \
                 or the challenge is not from the subscriber's network"
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(error).context("--nonce"),
    };

    let algorithm = version.algorithm();
    let mut challenge =
        DigestChallenge::new(&args.realm, &args.nonce).with_opaque(args.opaque.as_deref());
    challenge.algorithm = algorithm;
    challenge.qop = match args.qop {
        QopArg::Auth => Some(Qop::Auth),
        QopArg::AuthInt => Some(Qop::AuthInt),
        QopArg::None => None,
    };
    let request = DigestRequest {
        method: &args.method,
        uri: &args.uri,
        body: b"",
    };
    let password = answer.password();
    let mut authorization = Vec::new();
    write_authorization_with(
        &mut authorization,
        &challenge,
        &args.user,
        &password,
        &request,
        &args.cnonce,
        args.nc,
        answer.auts(),
    )?;
    let authorization = String::from_utf8(authorization).context("Authorization")?;
    let ha1 = digest::ha1(
        algorithm,
        &args.user,
        &args.realm,
        &password,
        &args.nonce,
        &args.cnonce,
    );
    let ha2 = digest::ha2(algorithm, &args.method, &args.uri, challenge.qop, b"");
    let response = digest::response(
        algorithm,
        &ha1,
        &args.nonce,
        args.nc,
        &args.cnonce,
        challenge.qop,
        &ha2,
    );

    match &answer {
        AkaAnswer::Respond { ck, ik, .. } => {
            fields.push(("result", "respond".to_owned()));
            fields.push(("res", hex(&outputs.res)));
            fields.push(("ck", hex(ck)));
            fields.push(("ik", hex(ik)));
            let shown = match version {
                AkaVersion::V1 => hex(password.expose()),
                AkaVersion::V2 => String::from_utf8_lossy(password.expose()).into_owned(),
            };
            fields.push(("password", shown));
        }
        AkaAnswer::Resync { auts } => {
            fields.push(("result", "resync".to_owned()));
            fields.push(("sqn_ms", format!("{:012x}", state.highest())));
            fields.push(("auts", auts.clone()));
        }
    }
    fields.push(("algorithm", algorithm.as_str().to_owned()));
    fields.push(("response", response.to_string()));
    fields.push(("sqn_state", state.to_string()));
    fields.push(("authorization", authorization));
    print(&fields, args.json);
    if matches!(answer, AkaAnswer::Resync { .. }) {
        eprintln!(
            "imsbench: SQN is not fresh for this SQN state: answer with auts to resynchronise"
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_per_octet() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(hex(&[]), "");
    }
}

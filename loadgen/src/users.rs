//! Where the virtual users come from: a pattern (`vu{0..9999}@ims.test` with one password,
//! or with IMS AKA keys derived from each user's number as imshss derives them) or a
//! SIPp-compatible injection file (first line `SEQUENTIAL` or `RANDOM`, then one user per
//! line with `;`-separated fields, Digest or AKA credentials in the third).

use std::path::{Path, PathBuf};

use ims_core::auth::aka::decode_hex;
use ims_core::auth::{AkaError, AkaKeys, Milenage};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use zeroize::{Zeroize, Zeroizing};

/// Most users one run takes (a typo such as `{0..99999999}` fails early, not in the allocator).
pub const MAX_USERS: usize = 1_000_000;

/// One virtual user's identity and credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The user part of the AOR.
    pub user: String,
    /// The domain of the AOR.
    pub domain: String,
    /// The authentication user name, when it differs from `user`.
    pub auth_username: Option<String>,
    /// The Digest password (empty for a user with AKA keys only).
    pub password: String,
    /// The ISIM's keys for IMS AKA (AKAv1-/AKAv2-MD5 challenges), if the user has them.
    pub aka: Option<AkaCredentials>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("auth_username", &self.auth_username)
            .field("password", &"***")
            .field("aka", &self.aka)
            .finish()
    }
}

/// A user's AKA keys: K, OPc (OP is turned into OPc when read) and AMF. `Debug` shows
/// `***` for K and OPc; both are zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct AkaCredentials {
    k: [u8; 16],
    opc: [u8; 16],
    amf: [u8; 2],
}

impl AkaCredentials {
    /// From K and OPc.
    pub fn with_opc(k: [u8; 16], opc: [u8; 16], amf: [u8; 2]) -> AkaCredentials {
        AkaCredentials { k, opc, amf }
    }

    /// From K and OP: OPc = E_K(OP) ⊕ OP, computed by ims-core's Milenage.
    pub fn with_op(k: [u8; 16], op: &[u8; 16], amf: [u8; 2]) -> AkaCredentials {
        let opc = Zeroizing::new(Milenage::with_op(&k, op).opc());
        AkaCredentials::with_opc(k, *opc, amf)
    }

    /// The keys of imshss's pattern subscriber `index` (`--pattern vu{A..B}@DOMAIN`): K
    /// and OP from [`ims_hss::subscriber::pattern_keys`], AMF 0000.
    pub fn derived(index: u32) -> AkaCredentials {
        let (k, op) = ims_hss::subscriber::pattern_keys(index);
        let k = Zeroizing::new(k);
        AkaCredentials::with_op(*k, &op, [0, 0])
    }

    /// The keys as the engine's account configuration takes them.
    pub fn keys(&self) -> AkaKeys {
        AkaKeys::from_milenage(Milenage::with_opc(&self.k, &self.opc), self.amf)
    }

    /// OPc (to compare with a known value in tests).
    #[cfg(test)]
    fn opc(&self) -> [u8; 16] {
        self.opc
    }
}

impl std::fmt::Debug for AkaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AkaCredentials {{ k: ***, opc: ***, amf: {:02x}{:02x} }}",
            self.amf[0], self.amf[1]
        )
    }
}

impl Drop for AkaCredentials {
    fn drop(&mut self) {
        self.k.zeroize();
        self.opc.zeroize();
    }
}

impl User {
    /// The address of record, `sip:user@domain`.
    pub fn aor(&self) -> String {
        format!("sip:{}@{}", self.user, self.domain)
    }

    /// The engine account of this user: Digest, or IMS AKA when it has keys; registering
    /// through `proxy` over `transport` for `expires` seconds, sending from `local` when
    /// it has a port of its own.
    pub fn account(
        &self,
        proxy: std::net::SocketAddr,
        transport: ims_core::transport::Transport,
        expires: u32,
        local: Option<std::net::SocketAddr>,
    ) -> ims_core::ua::AccountConfig {
        let mut account =
            ims_core::ua::AccountConfig::new(&self.aor(), &self.password, proxy, transport);
        account.auth_username.clone_from(&self.auth_username);
        account.expires = expires;
        account.local = local;
        if let Some(aka) = &self.aka {
            account.ims = Some(Box::new(ims_core::ua::ImsConfig {
                aka: Some(aka.keys()),
                ..ims_core::ua::ImsConfig::default()
            }));
        }
        account
    }
}

/// Why the users could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The `--users` pattern is malformed.
    #[error("--users {pattern:?}: {reason}")]
    Pattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A line of the injection file is malformed.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The injection file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The injection file lists no user.
    #[error("{path}: no users after the SEQUENTIAL/RANDOM line")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A user has no password (none in the file and no --password).
    #[error(
        "no password for {user}: give --password (or IMSLOAD_PASSWORD) or an [authentication ... password=...] field"
    )]
    NoPassword {
        /// The user.
        user: String,
    },
    /// More users than [`MAX_USERS`].
    #[error("{count} users is more than the {MAX_USERS} one run takes")]
    TooMany {
        /// How many were asked for.
        count: u128,
    },
}

/// How the users of a `--users` pattern authenticate.
#[derive(Debug, Clone, Copy, Default)]
pub struct PatternAuth<'a> {
    /// The Digest password of every user.
    pub password: Option<&'a str>,
    /// AKA keys derived from each user's number as imshss's pattern subscribers have them
    /// ([`AkaCredentials::derived`]); then no password is needed.
    pub aka_derived: bool,
    /// The private identity (authentication user name), `{user}` and `{domain}` standing
    /// for the user's parts, e.g. `{user}@{domain}`. Default: the user part, or
    /// `{user}@{domain}` with derived AKA keys (imshss's pattern subscribers are named so).
    pub impi: Option<&'a str>,
}

#[cfg(test)]
impl<'a> PatternAuth<'a> {
    /// Digest with one password for all.
    fn password(password: &'a str) -> PatternAuth<'a> {
        PatternAuth {
            password: Some(password),
            ..PatternAuth::default()
        }
    }
}

/// Expands `vu{0..9999}@ims.test` (an optional `sip:` prefix, at most one `{A..B}` range,
/// zero-padded when `A` is written with leading zeros, e.g. `{0000..9999}`), every user
/// with the credentials `auth` describes.
pub fn expand_pattern(pattern: &str, auth: &PatternAuth<'_>) -> Result<Vec<User>, UsersError> {
    let error = |reason| UsersError::Pattern {
        pattern: pattern.to_owned(),
        reason,
    };
    let bare = pattern.strip_prefix("sip:").unwrap_or(pattern);
    let (user, domain) = bare
        .rsplit_once('@')
        .ok_or_else(|| error("expected USER@DOMAIN, e.g. vu{0..9999}@ims.test"))?;
    check_token(domain)
        .map_err(|_| error("the domain is empty or has a character not allowed in a host"))?;
    // Each name with its number in the range (none without a range).
    let names: Vec<(String, Option<u64>)> = match user.find('{') {
        None => vec![(user.to_owned(), None)],
        Some(open) => {
            let close = user
                .find('}')
                .filter(|close| *close > open)
                .ok_or_else(|| error("a '{' without its '}'"))?;
            let (prefix, rest) = user.split_at(open);
            let range = rest.get(1..close - open).unwrap_or_default();
            let suffix = rest.get(close - open + 1..).unwrap_or_default();
            if suffix.contains('{') || suffix.contains('}') {
                return Err(error("only one {A..B} range is allowed"));
            }
            let (first, last) = range
                .split_once("..")
                .ok_or_else(|| error("the range must read {A..B}, e.g. {0..9999}"))?;
            let start: u64 = first
                .parse()
                .map_err(|_| error("the range start is not a number"))?;
            let end: u64 = last
                .parse()
                .map_err(|_| error("the range end is not a number"))?;
            if end < start {
                return Err(error("the range end is below its start"));
            }
            let count = u128::from(end - start) + 1;
            if count > MAX_USERS as u128 {
                return Err(UsersError::TooMany { count });
            }
            let width = if first.len() > 1 && first.starts_with('0') {
                first.len()
            } else {
                0
            };
            if auth.aka_derived && width > 0 {
                return Err(error(
                    "derived AKA keys need an unpadded range such as {0..999}: imshss names its pattern subscribers vu7, not vu007",
                ));
            }
            (start..=end)
                .map(|n| (format!("{prefix}{n:0width$}{suffix}"), Some(n)))
                .collect()
        }
    };
    if auth.aka_derived
        && names
            .last()
            .is_none_or(|(_, n)| n.is_none_or(|n| n > u64::from(u32::MAX)))
    {
        return Err(error(
            "derived AKA keys need a {A..B} range of numbers up to 4294967295 (the keys follow from the number)",
        ));
    }
    let impi_form = match (auth.impi, auth.aka_derived) {
        (Some(form), _) => Some(form),
        (None, true) => Some("{user}@{domain}"),
        (None, false) => None,
    };
    if let Some(form) = impi_form
        && (!form.contains("{user}")
            || form.trim().is_empty()
            || form.contains(char::is_whitespace))
    {
        return Err(error(
            "the IMPI form must contain {user} and no spaces, e.g. {user}@{domain}",
        ));
    }
    let mut users = Vec::with_capacity(names.len());
    for (name, number) in names {
        check_token(&name)
            .map_err(|_| error("the user part is empty or has a character not allowed in it"))?;
        let aka = match number.and_then(|n| u32::try_from(n).ok()) {
            Some(index) if auth.aka_derived => Some(AkaCredentials::derived(index)),
            _ => None,
        };
        let password = match (auth.password, &aka) {
            (Some(password), _) => password.to_owned(),
            (None, Some(_)) => String::new(),
            (None, None) => {
                return Err(UsersError::NoPassword {
                    user: format!("{name}@{domain}"),
                });
            }
        };
        let auth_username =
            impi_form.map(|form| form.replace("{user}", &name).replace("{domain}", domain));
        users.push(User {
            user: name,
            domain: domain.to_owned(),
            auth_username,
            password,
            aka,
        });
    }
    Ok(users)
}

/// Reads an injection file; `RANDOM` shuffles the users with `seed`.
pub fn read_injection(
    path: &Path,
    password: Option<&str>,
    seed: u64,
) -> Result<Vec<User>, UsersError> {
    let text = std::fs::read_to_string(path).map_err(|source| UsersError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_injection(&text, path, password, seed)
}

/// How the injection file orders its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Sequential,
    Random,
}

/// Parses the text of an injection file (see [`read_injection`]).
pub fn parse_injection(
    text: &str,
    path: &Path,
    password: Option<&str>,
    seed: u64,
) -> Result<Vec<User>, UsersError> {
    let line_error = |line: usize, reason: String| UsersError::Line {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut order = None;
    let mut users = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(order) = order else {
            order = Some(match line {
                "SEQUENTIAL" => Order::Sequential,
                "RANDOM" => Order::Random,
                other => {
                    return Err(line_error(
                        number,
                        format!("the first line must be SEQUENTIAL or RANDOM, found {other:?}"),
                    ));
                }
            });
            continue;
        };
        let _ = order;
        if users.len() >= MAX_USERS {
            return Err(UsersError::TooMany {
                count: MAX_USERS as u128 + 1,
            });
        }
        users.push(parse_line(line, password).map_err(|reason| line_error(number, reason))?);
    }
    if order.is_none() || users.is_empty() {
        return Err(UsersError::Empty {
            path: path.to_owned(),
        });
    }
    if order == Some(Order::Random) {
        users.shuffle(&mut StdRng::seed_from_u64(seed));
    }
    Ok(users)
}

/// `user;domain[;[authentication username=U password=P aka_K=HEX aka_OPc=HEX ...]]`.
fn parse_line(line: &str, default_password: Option<&str>) -> Result<User, String> {
    const EXPECTED: &str = "expected `user;domain;[authentication username=U password=P]`";
    let mut fields = line.split(';').map(str::trim);
    let user = fields.next().unwrap_or_default();
    let domain = fields
        .next()
        .ok_or_else(|| format!("{EXPECTED}, found no ';' in {line:?}"))?;
    check_token(user).map_err(|c| format!("user {user:?}: {c}"))?;
    check_token(domain).map_err(|c| format!("domain {domain:?}: {c}"))?;
    let mut auth_username = None;
    let mut password = None;
    let mut aka = AkaFields::default();
    if let Some(field) = fields.next().filter(|f| !f.is_empty()) {
        let inner = field
            .strip_prefix("[authentication")
            .and_then(|rest| rest.strip_suffix(']'))
            .ok_or_else(|| {
                format!("field 3 must read [authentication username=U password=P], found {field:?}")
            })?;
        for pair in inner.split_whitespace() {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} in the authentication field is not KEY=VALUE"))?;
            let slot = match key {
                "username" => &mut auth_username,
                "password" => &mut password,
                "aka_K" | "aka_k" => &mut aka.k,
                "aka_OP" | "aka_op" => &mut aka.op,
                "aka_OPc" | "aka_opc" | "aka_OPC" => &mut aka.opc,
                "aka_AMF" | "aka_amf" => &mut aka.amf,
                other => return Err(format!("unknown authentication key {other:?}")),
            };
            if slot.is_some() {
                return Err(format!("{key} is given twice"));
            }
            *slot = Some(Zeroizing::new(value.to_owned()));
        }
    }
    if let Some(extra) = fields.find(|f| !f.is_empty()) {
        return Err(format!("{EXPECTED}; unexpected extra field {extra:?}"));
    }
    let aka = aka.credentials()?;
    let password = match (password, default_password, &aka) {
        (Some(password), _, _) => String::clone(&password),
        (None, Some(password), _) => password.to_owned(),
        (None, None, Some(_)) => String::new(),
        (None, None, None) => {
            return Err(format!(
                "no password for {user}@{domain}: add password=... (or aka_K and aka_OPc) or give --password"
            ));
        }
    };
    // SIPp files often carry the whole AOR as the authentication user name; the engine
    // sends what is given, so keep it as written.
    let auth_username = auth_username
        .map(|name| String::clone(&name))
        .filter(|name| name != user);
    Ok(User {
        user: user.to_owned(),
        domain: domain.to_owned(),
        auth_username,
        password,
        aka,
    })
}

/// The `aka_*` values of an authentication field, as written.
#[derive(Default)]
struct AkaFields {
    k: Option<Zeroizing<String>>,
    op: Option<Zeroizing<String>>,
    opc: Option<Zeroizing<String>>,
    amf: Option<Zeroizing<String>>,
}

impl AkaFields {
    /// K with one of OP or OPc (32 hex digits each, `0x` allowed), AMF optional (4 hex
    /// digits, default 0000); none of them: no AKA.
    fn credentials(&self) -> Result<Option<AkaCredentials>, String> {
        let hex_error = |key: &str, error: AkaError| format!("aka_{key}: {error}");
        let Some(k) = &self.k else {
            if self.op.is_some() || self.opc.is_some() || self.amf.is_some() {
                return Err("aka_OP, aka_OPc and aka_AMF need aka_K".to_owned());
            }
            return Ok(None);
        };
        let k = Zeroizing::new(decode_hex::<16>("K", strip_0x(k)).map_err(|e| hex_error("K", e))?);
        let amf = match &self.amf {
            Some(amf) => decode_hex::<2>("AMF", strip_0x(amf)).map_err(|e| hex_error("AMF", e))?,
            None => [0, 0],
        };
        match (&self.op, &self.opc) {
            (Some(op), None) => {
                let op = Zeroizing::new(
                    decode_hex::<16>("OP", strip_0x(op)).map_err(|e| hex_error("OP", e))?,
                );
                Ok(Some(AkaCredentials::with_op(*k, &op, amf)))
            }
            (None, Some(opc)) => {
                let opc = Zeroizing::new(
                    decode_hex::<16>("OPc", strip_0x(opc)).map_err(|e| hex_error("OPc", e))?,
                );
                Ok(Some(AkaCredentials::with_opc(*k, *opc, amf)))
            }
            _ => Err("aka_K needs exactly one of aka_OP and aka_OPc".to_owned()),
        }
    }
}

/// A hex value without its `0x` prefix (SIPp files often write one).
fn strip_0x(text: &str) -> &str {
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
}

/// A user part or host: non-empty, no whitespace and none of `@ ; : < > " { } [ ] \ /`.
fn check_token(text: &str) -> Result<(), &'static str> {
    if text.is_empty() {
        return Err("empty");
    }
    if text.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '@' | ';' | ':' | '<' | '>' | '"' | '{' | '}' | '[' | ']' | '\\' | '/'
            )
    }) {
        return Err("has a character not allowed here");
    }
    Ok(())
}

#[cfg(test)]
mod tests;

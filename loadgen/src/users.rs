//! Where the virtual users come from: a pattern (`vu{0..9999}@ims.test` with one password)
//! or a SIPp-compatible injection file (first line `SEQUENTIAL` or `RANDOM`, then one user
//! per line with `;`-separated fields).

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

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
    /// The Digest password.
    pub password: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("auth_username", &self.auth_username)
            .field("password", &"***")
            .finish()
    }
}

impl User {
    /// The address of record, `sip:user@domain`.
    pub fn aor(&self) -> String {
        format!("sip:{}@{}", self.user, self.domain)
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

/// Expands `vu{0..9999}@ims.test` (an optional `sip:` prefix, at most one `{A..B}` range,
/// zero-padded when `A` is written with leading zeros, e.g. `{0000..9999}`).
pub fn expand_pattern(pattern: &str, password: Option<&str>) -> Result<Vec<User>, UsersError> {
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
    let names: Vec<String> = match user.find('{') {
        None => vec![user.to_owned()],
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
            (start..=end)
                .map(|n| format!("{prefix}{n:0width$}{suffix}"))
                .collect()
        }
    };
    let mut users = Vec::with_capacity(names.len());
    for name in names {
        check_token(&name)
            .map_err(|_| error("the user part is empty or has a character not allowed in it"))?;
        let password = password.ok_or_else(|| UsersError::NoPassword {
            user: format!("{name}@{domain}"),
        })?;
        users.push(User {
            user: name,
            domain: domain.to_owned(),
            auth_username: None,
            password: password.to_owned(),
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

/// `user;domain[;[authentication username=U password=P]]`.
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
            match key {
                "username" => auth_username = Some(value.to_owned()),
                "password" => password = Some(value.to_owned()),
                "aka_K" | "aka_k" | "aka_OP" | "aka_op" | "aka_OPc" | "aka_opc" | "aka_AMF"
                | "aka_amf" => {
                    return Err(format!(
                        "{key}: AKA keys in the injection file are not supported yet (Digest only)"
                    ));
                }
                other => return Err(format!("unknown authentication key {other:?}")),
            }
        }
    }
    if let Some(extra) = fields.find(|f| !f.is_empty()) {
        return Err(format!("{EXPECTED}; unexpected extra field {extra:?}"));
    }
    let password = password
        .or_else(|| default_password.map(str::to_owned))
        .ok_or_else(|| {
            format!("no password for {user}@{domain}: add password=... or give --password")
        })?;
    // SIPp files often carry the whole AOR as the authentication user name; the engine
    // sends what is given, so keep it as written.
    let auth_username = auth_username.filter(|name| name != user);
    Ok(User {
        user: user.to_owned(),
        domain: domain.to_owned(),
        auth_username,
        password,
    })
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
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("users.csv")
    }

    #[test]
    fn a_pattern_expands_its_range_in_order() {
        let users = expand_pattern("vu{0..9999}@ims.test", Some("secret")).unwrap();
        assert_eq!(users.len(), 10_000);
        assert_eq!(users[0].aor(), "sip:vu0@ims.test");
        assert_eq!(users[9_999].user, "vu9999");
        assert_eq!(users[17].password, "secret");
    }

    #[test]
    fn a_zero_padded_range_keeps_its_width() {
        let users = expand_pattern("sip:u{007..010}x@example.org", Some("p")).unwrap();
        let names: Vec<&str> = users.iter().map(|u| u.user.as_str()).collect();
        assert_eq!(names, ["u007x", "u008x", "u009x", "u010x"]);
    }

    #[test]
    fn bad_patterns_say_what_is_wrong() {
        for (pattern, needle) in [
            ("vu{0..9}", "USER@DOMAIN"),
            ("vu{9..0}@ims.test", "below its start"),
            ("vu{0..x}@ims.test", "not a number"),
            ("vu{0..9@ims.test", "without its"),
            ("vu{0..9}{0..9}@ims.test", "only one"),
            ("vu{0-9}@ims.test", "{A..B}"),
            ("vu{0..9}@", "domain"),
        ] {
            let error = expand_pattern(pattern, Some("p")).unwrap_err().to_string();
            assert!(error.contains(needle), "{pattern}: {error}");
        }
        let error = expand_pattern("vu{0..99999999}@ims.test", Some("p")).unwrap_err();
        assert!(matches!(error, UsersError::TooMany { .. }), "{error}");
        let error = expand_pattern("vu{0..1}@ims.test", None).unwrap_err();
        assert!(matches!(error, UsersError::NoPassword { .. }), "{error}");
    }

    #[test]
    fn a_sipp_injection_file_gives_users_with_their_credentials() {
        let text = "SEQUENTIAL\n\
                    alice0;ims.test;[authentication username=alice0@ims.test password=x]\n\
                    \n\
                    bob;ims.test;[authentication username=bob password=y]\r\n\
                    carol;example.org\n";
        let users = parse_injection(text, path(), Some("fallback"), 1).unwrap();
        assert_eq!(users.len(), 3);
        assert_eq!(users[0].aor(), "sip:alice0@ims.test");
        assert_eq!(users[0].auth_username.as_deref(), Some("alice0@ims.test"));
        assert_eq!(users[0].password, "x");
        assert_eq!(
            users[1].auth_username, None,
            "same as the user: not repeated"
        );
        assert_eq!(users[1].password, "y");
        assert_eq!(users[2].password, "fallback");
    }

    #[test]
    fn random_order_is_a_seeded_permutation() {
        let mut text = String::from("RANDOM\n");
        for n in 0..50 {
            text.push_str(&format!("u{n};ims.test\n"));
        }
        let first = parse_injection(&text, path(), Some("p"), 7).unwrap();
        let again = parse_injection(&text, path(), Some("p"), 7).unwrap();
        assert_eq!(first, again);
        let mut names: Vec<String> = first.iter().map(|u| u.user.clone()).collect();
        assert_ne!(names[..5], ["u0", "u1", "u2", "u3", "u4"]);
        names.sort_by_key(|n| n[1..].parse::<u32>().unwrap());
        assert_eq!(names.len(), 50);
        assert_eq!(names[49], "u49");
    }

    #[test]
    fn malformed_lines_are_named_by_number() {
        let cases = [
            ("USERS\nalice;ims.test\n", 1, "SEQUENTIAL or RANDOM"),
            ("SEQUENTIAL\nalice;ims.test\nbob\n", 3, "no ';'"),
            ("SEQUENTIAL\n\nalice;ims.test;password=x\n", 3, "field 3"),
            ("SEQUENTIAL\nal ice;ims.test\n", 2, "user"),
            (
                "SEQUENTIAL\nalice;ims.test;[authentication user=a]\n",
                2,
                "unknown",
            ),
            ("SEQUENTIAL\nalice;ims.test;;extra\n", 2, "extra field"),
            (
                "SEQUENTIAL\nalice;ims.test;[authentication aka_K=00]\n",
                2,
                "AKA",
            ),
        ];
        for (text, line, needle) in cases {
            let error = parse_injection(text, path(), Some("p"), 1).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(error, UsersError::Line { line: l, .. } if l == line),
                "{text:?}: {message}"
            );
            assert!(
                message.starts_with(&format!("users.csv:{line}: ")),
                "{message}"
            );
            assert!(message.contains(needle), "{text:?}: {message}");
        }
        let text = "SEQUENTIAL\nbob;ims.test;[authentication password=b]\nalice;ims.test\n";
        let error = parse_injection(text, path(), None, 1)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("users.csv:3: no password for alice@ims.test"),
            "{error}"
        );
        let error = parse_injection("SEQUENTIAL\n", path(), None, 1).unwrap_err();
        assert!(matches!(error, UsersError::Empty { .. }), "{error}");
    }
}

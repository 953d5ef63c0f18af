//! Header parameters (`;name=value`), validated once and looked up lazily.

use super::{note, unexpected, value_error};
use crate::sip::chars::{Scanner, as_str, is_param_value, is_token};
use crate::sip::error::{HeaderError, HeaderErrorKind};

/// One parameter: a name and an optional value (a quoted value without its quotes,
/// escapes kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name as received (compare ignoring ASCII case).
    pub name: &'a str,
    /// The value, if the parameter has `=`.
    pub value: Option<&'a str>,
    /// True when the value was a quoted-string.
    pub quoted: bool,
}

/// The parameters of a header value, e.g. `;branch=z9hG4bK1;rport`. Validated (grammar
/// and UTF-8, once for the whole list) when the typed header was parsed; iteration and
/// lookup allocate nothing and check no UTF-8 again.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a str,
}

impl std::fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("raw", &self.raw.as_bytes())
            .finish()
    }
}

impl<'a> Params<'a> {
    /// No parameters.
    pub const EMPTY: Params<'static> = Params { raw: "" };

    /// The parameters as received, from the first `;`.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw.as_bytes()
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Every parameter in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter {
            raw: self.raw,
            scanner: Scanner::for_text(self.raw),
        }
    }

    /// The first parameter named `name` (ignoring ASCII case).
    pub fn get(&self, name: &str) -> Option<Param<'a>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The value of the first parameter named `name`; `Some(None)` for a flag parameter.
    pub fn value(&self, name: &str) -> Option<Option<&'a str>> {
        self.get(name).map(|p| p.value)
    }

    /// True when a parameter named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl<'a> IntoIterator for &Params<'a> {
    type Item = Param<'a>;
    type IntoIter = ParamIter<'a>;
    fn into_iter(self) -> ParamIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Params`].
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    raw: &'a str,
    scanner: Scanner<'a>,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let found = next_param(&mut self.scanner).ok().flatten()?;
        // `raw` is UTF-8 and every piece is cut next to an ASCII delimiter (`;`, `=`,
        // `"`, white space), so these slices always fall on character boundaries.
        Some(Param {
            name: self.raw.get(found.name.0..found.name.1)?,
            value: match found.value {
                Some((from, to)) => Some(self.raw.get(from..to)?),
                None => None,
            },
            quoted: found.quoted,
        })
    }
}

/// Reads `*( SEMI param )` at the scanner, after optional white space, and returns it as
/// [`Params`]. Stops before the first byte that does not continue a parameter list.
pub(crate) fn scan_params<'a>(scanner: &mut Scanner<'a>) -> Result<Params<'a>, HeaderError> {
    scan_params_noting(scanner, []).map(|(params, [])| params)
}

/// [`scan_params`], noting on the way the first parameter named by each of `names`
/// (ignoring ASCII case, as [`Params::get`] finds it), so a typed view can answer for its
/// usual parameters without walking the list again.
pub(crate) fn scan_params_noting<'a, const N: usize>(
    scanner: &mut Scanner<'a>,
    names: [&str; N],
) -> Result<(Params<'a>, [Option<Param<'a>>; N]), HeaderError> {
    let mut probe = scanner.clone();
    probe.skip_ws();
    let start = probe.pos();
    let mut end = start;
    let mut noted: [Option<Found>; N] = [const { None }; N];
    let walked = loop {
        match next_param(&mut probe) {
            Ok(Some(found)) => {
                end = probe.pos();
                let name = probe.slice(found.name.0, found.name.1);
                note(&names, &mut noted, name, found);
            }
            other => break other,
        }
    };
    // One UTF-8 check for the whole list. Should it fail, the parameter-by-parameter
    // check below names the first bad one, as the grammar walk alone cannot.
    let Some(raw) = probe.text(start, end) else {
        return Err(first_invalid_utf8(scanner));
    };
    walked?;
    scanner.advance_to(end);
    // The pieces lie inside `raw` (offsets from `start`) and next to ASCII delimiters.
    let piece =
        |(from, to): (usize, usize)| raw.get(from.wrapping_sub(start)..to.wrapping_sub(start));
    let noted = noted.map(|found| {
        let found = found?;
        Some(Param {
            name: piece(found.name)?,
            value: match found.value {
                Some(range) => Some(piece(range)?),
                None => None,
            },
            quoted: found.quoted,
        })
    });
    Ok((Params { raw }, noted))
}

/// The error for a parameter list that is not UTF-8: the grammar error or the
/// [`HeaderErrorKind::InvalidUtf8`] that comes first, walking parameter by parameter.
#[cold]
fn first_invalid_utf8(scanner: &Scanner<'_>) -> HeaderError {
    let mut probe = scanner.clone();
    loop {
        match next_param(&mut probe) {
            Ok(Some(found)) => {
                let pieces = [Some(found.name), found.value];
                if pieces
                    .into_iter()
                    .flatten()
                    .any(|(from, to)| as_str(probe.slice(from, to)).is_none())
                {
                    return value_error(HeaderErrorKind::InvalidUtf8, probe.pos());
                }
            }
            Err(error) => return error,
            Ok(None) => return value_error(HeaderErrorKind::InvalidUtf8, probe.pos()),
        }
    }
}

/// Where one parameter's pieces lie in the scanned bytes (start and end offsets).
struct Found {
    name: (usize, usize),
    value: Option<(usize, usize)>,
    quoted: bool,
}

/// One `; name [= value]` with the white space the grammar allows around each part.
fn next_param(scanner: &mut Scanner<'_>) -> Result<Option<Found>, HeaderError> {
    let mut probe = scanner.clone();
    probe.skip_ws();
    if !probe.eat(b';') {
        return Ok(None);
    }
    probe.skip_ws();
    let name_start = probe.pos();
    if probe.take_while(is_token).is_empty() {
        return Err(unexpected(&probe));
    }
    let name = (name_start, probe.pos());
    let mut after_name = probe.clone();
    after_name.skip_ws();
    let (value, quoted) = if after_name.eat(b'=') {
        after_name.skip_ws();
        probe = after_name;
        let offset = probe.pos();
        if probe.peek() == Some(b'"') {
            let content = probe
                .quoted_string()
                .ok_or_else(|| value_error(HeaderErrorKind::UnterminatedQuote, offset))?;
            let from = offset.wrapping_add(1);
            (Some((from, from.wrapping_add(content.len()))), true)
        } else {
            if probe.take_while(is_param_value).is_empty() {
                return Err(unexpected(&probe));
            }
            (Some((offset, probe.pos())), false)
        }
    } else {
        (None, false)
    };
    *scanner = probe;
    Ok(Some(Found {
        name,
        value,
        quoted,
    }))
}

//! Header parameters (`;name=value`), validated once and looked up lazily.

use super::{unexpected, value_error};
use crate::sip::chars::{Scanner, as_str, is_token};
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

/// The parameters of a header value, e.g. `;branch=z9hG4bK1;rport`. Validated when the
/// typed header was parsed; iteration and lookup allocate nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a [u8],
}

/// A byte allowed in a parameter value that is not quoted: token characters plus the
/// host characters `:`, `[`, `]` (IPv6 references, RFC 5118 `received`).
fn is_value_byte(b: u8) -> bool {
    is_token(b) || matches!(b, b':' | b'[' | b']')
}

impl<'a> Params<'a> {
    /// No parameters.
    pub const EMPTY: Params<'static> = Params { raw: &[] };

    /// The parameters as received, from the first `;`.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Every parameter in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter {
            scanner: Scanner::new(self.raw),
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
    scanner: Scanner<'a>,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        next_param(&mut self.scanner).ok().flatten()
    }
}

/// Reads `*( SEMI param )` at the scanner, after optional white space, and returns it as
/// [`Params`]. Stops before the first byte that does not continue a parameter list.
pub(crate) fn scan_params<'a>(scanner: &mut Scanner<'a>) -> Result<Params<'a>, HeaderError> {
    let mut probe = scanner.clone();
    probe.skip_ws();
    let start = probe.pos();
    let mut end = start;
    while next_param(&mut probe)?.is_some() {
        end = probe.pos();
    }
    let raw = probe.slice(start, end);
    while scanner.pos() < end {
        scanner.bump();
    }
    Ok(Params { raw })
}

/// One `; name [= value]` with the white space the grammar allows around each part.
fn next_param<'a>(scanner: &mut Scanner<'a>) -> Result<Option<Param<'a>>, HeaderError> {
    let mut probe = scanner.clone();
    probe.skip_ws();
    if !probe.eat(b';') {
        return Ok(None);
    }
    probe.skip_ws();
    let name = probe.take_while(is_token);
    if name.is_empty() {
        return Err(unexpected(&probe));
    }
    let mut after_name = probe.clone();
    after_name.skip_ws();
    let (value, quoted) = if after_name.eat(b'=') {
        after_name.skip_ws();
        probe = after_name;
        if probe.peek() == Some(b'"') {
            let offset = probe.pos();
            let content = probe
                .quoted_string()
                .ok_or_else(|| value_error(HeaderErrorKind::UnterminatedQuote, offset))?;
            (Some(content), true)
        } else {
            let value = probe.take_while(is_value_byte);
            if value.is_empty() {
                return Err(unexpected(&probe));
            }
            (Some(value), false)
        }
    } else {
        (None, false)
    };
    let to_str = |bytes: &'a [u8]| {
        as_str(bytes).ok_or_else(|| value_error(HeaderErrorKind::InvalidUtf8, probe.pos()))
    };
    let param = Param {
        name: to_str(name)?,
        value: value.map(to_str).transpose()?,
        quoted,
    };
    *scanner = probe;
    Ok(Some(param))
}

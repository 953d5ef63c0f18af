//! The header pass for x86_64 CPUs with AVX2: line ends and colons from 64-byte bit masks.
//!
//! [`scan`](super::parse::scan) tries this pass first when it stores headers. It finds
//! each header line's colon and LF as the lowest bits left in two 64-bit masks of the
//! current 64-byte block (two compares and move-masks per mask and block), so a line
//! costs a few bit operations instead of two searches from its start.
//!
//! It takes only the common shape of a message: no folded line, no white space before a
//! colon, every limit met, the whole header block in the buffer. On anything else it
//! gives up (`None`) and the portable pass parses the headers from the first one, so
//! both passes give the same result for what this one takes, and every error (kind and
//! offset) comes from the portable pass.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::header::RawHeader;
use super::parse::HeaderBlock;

/// Where the header lines are and what they may be.
pub(crate) struct Block<'w, 's> {
    /// The input up to the end of the parser's window (leading CRLFs included); the
    /// offsets here and in the slots are into it. Its length must fit in a `u32`.
    pub(crate) window: &'w [u8],
    /// Start of the first header line.
    pub(crate) from: usize,
    /// The slots to fill, cut to the header count limit.
    pub(crate) slots: &'s mut [RawHeader],
    /// Longest header line allowed, LF excluded.
    pub(crate) max_line: usize,
}

/// Parses the header block through the AVX2 pass when the CPU has AVX2; `None` when it
/// has not, or the pass gave up.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
pub(crate) fn headers(block: Block<'_, '_>) -> Option<HeaderBlock> {
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: `avx2::headers` needs a CPU with AVX2, tested just above.
        unsafe { avx2::headers(block) }
    } else {
        None
    }
}

/// No fast pass off x86_64.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn headers(_block: Block<'_, '_>) -> Option<HeaderBlock> {
    None
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
    };

    use super::{Block, HeaderBlock};
    use crate::sip::chars::{is_token, parse_u32};
    use crate::sip::header::{HeaderKind, RawHeader, lookup_ends, lookup_head, trim_value};

    /// 32 bytes into a vector register.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn load(bytes: &[u8; 32]) -> __m256i {
        // SAFETY: the pointer is valid for reading 32 bytes (it comes from a reference
        // to 32 bytes), and `loadu` needs no alignment.
        unsafe { _mm256_loadu_si256(bytes.as_ptr().cast::<__m256i>()) }
    }

    /// Bit `i` set where `block[i]` is LF, and where it is a colon.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn block_masks(block: &[u8; 64]) -> (u64, u64) {
        let (low, high) = block.split_at(32);
        let (Ok(low), Ok(high)) = (<&[u8; 32]>::try_from(low), <&[u8; 32]>::try_from(high)) else {
            return (0, 0);
        };
        let (low, high) = (load(low), load(high));
        let mask = |needle: u8| {
            let needle = _mm256_set1_epi8(needle as i8);
            // `movemask` gives one bit a byte in an i32; `as u32` keeps the bits.
            let low = _mm256_movemask_epi8(_mm256_cmpeq_epi8(low, needle)) as u32;
            let high = _mm256_movemask_epi8(_mm256_cmpeq_epi8(high, needle)) as u32;
            u64::from(low) | (u64::from(high) << 32)
        };
        (mask(b'\n'), mask(b':'))
    }

    /// The masks of a last block that is not whole, from `base` to `end`: those of
    /// `tail`, the window's last 64 bytes, shifted down so that bit 0 is `base`. `None`
    /// past the end.
    #[target_feature(enable = "avx2")]
    #[cold]
    fn last_block(tail: &[u8; 64], end: usize, base: usize) -> Option<(u64, u64)> {
        if base >= end {
            return None;
        }
        // Fewer than 64 bytes are left from `base`, so the shift is below 64.
        let shift = base.checked_sub(end.checked_sub(64)?)?;
        let shift = u32::try_from(shift).ok()?;
        let (lf, colon) = block_masks(tail);
        Some((lf.checked_shr(shift)?, colon.checked_shr(shift)?))
    }

    /// A cursor over the window's LFs and colons, 64 bytes at a time. Bits of the
    /// current block below the cursor are cleared as lines are taken.
    struct Marks<'w> {
        /// The whole 64-byte blocks after the current one.
        blocks: std::slice::Iter<'w, [u8; 64]>,
        /// The window's last 64 bytes, for a last block that is not whole.
        tail: &'w [u8; 64],
        /// End of the window.
        end: usize,
        /// Offset of bit 0.
        base: usize,
        lf: u64,
        colon: u64,
    }

    impl<'w> Marks<'w> {
        /// A cursor at `from`; `None` when the window is shorter than 64 bytes.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn new(window: &'w [u8], from: usize) -> Option<Self> {
            let mut marks = Marks {
                blocks: window.get(from..)?.as_chunks::<64>().0.iter(),
                tail: window.last_chunk::<64>()?,
                end: window.len(),
                base: from.wrapping_sub(64),
                lf: 0,
                colon: 0,
            };
            marks.advance()?;
            Some(marks)
        }

        /// Moves to the next 64 bytes; `None` at the end of the window.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn advance(&mut self) -> Option<()> {
            // Below the window's end (at most u32::MAX), so this never wraps.
            self.base = self.base.wrapping_add(64);
            (self.lf, self.colon) = match self.blocks.next() {
                Some(block) => block_masks(block),
                None => last_block(self.tail, self.end, self.base)?,
            };
            Some(())
        }

        /// The current line's first colon, which must come before its first LF.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn colon(&mut self) -> Option<usize> {
            loop {
                let lf = self.lf.trailing_zeros();
                let colon = self.colon.trailing_zeros();
                if colon < lf {
                    // Below 64, so the addition stays inside the window.
                    return Some(self.base.wrapping_add(colon as usize));
                }
                if lf < 64 {
                    return None;
                }
                self.advance()?;
            }
        }

        /// The current line's LF; the line's marks are cleared, so the cursor moves to
        /// the next line.
        #[target_feature(enable = "avx2")]
        #[inline]
        fn line_end(&mut self) -> Option<usize> {
            while self.lf == 0 {
                self.advance()?;
            }
            let at = self.base.wrapping_add(self.lf.trailing_zeros() as usize);
            // Bits up to and including the lowest LF: the rest of this line's colons.
            let line = self.lf ^ self.lf.wrapping_sub(1);
            self.colon &= !line;
            self.lf &= self.lf.wrapping_sub(1);
            Some(at)
        }
    }

    /// A Content-Length line's value into `found`; `None` when it is not a number or
    /// differs from an earlier one. Out of line: one line of a message takes this way.
    #[inline(never)]
    fn read_content_length(value: &[u8], found: &mut Option<u32>) -> Option<()> {
        let length = parse_u32(trim_value(value).1)?;
        if found.is_some_and(|first| first != length) {
            return None;
        }
        *found = Some(length);
        Some(())
    }

    /// The end of the header block at a line that starts with CR or LF: past its
    /// CRLF or LF. `None` for a CR alone, or one at the end of the window.
    #[cold]
    fn empty_line(window: &[u8], pos: usize) -> Option<usize> {
        match window.get(pos..)? {
            [b'\r', b'\n', ..] => Some(pos.wrapping_add(2)),
            [b'\n', ..] => Some(pos.wrapping_add(1)),
            _ => None,
        }
    }

    /// The header pass; see the [module](super).
    #[target_feature(enable = "avx2")]
    pub(super) fn headers(block: Block<'_, '_>) -> Option<HeaderBlock> {
        let Block {
            window,
            from,
            slots,
            max_line,
        } = block;
        let mut marks = Marks::new(window, from)?;
        let capacity = slots.len();
        let mut free = slots.iter_mut();
        let mut content_length = None;
        // Offsets are below `window.len()`, which fits in a u32, so the wrapping
        // additions and the casts below never wrap.
        let mut pos = from;
        let header_end = loop {
            let line = window.get(pos..)?;
            // The empty line, or a control byte for the portable pass to refuse.
            if *line.first()? <= b'\r' {
                break empty_line(window, pos)?;
            }
            let name_len = marks.colon()?.wrapping_sub(pos);
            let eol = marks.line_end()?.wrapping_sub(pos);
            // No name, or a long line: the portable pass. So are white space before the
            // colon, a folded line and a first line that starts with white space,
            // without a test of their own: white space is in no known name and no
            // token, so the name check below gives up on it, and the other two lines
            // start with it.
            let last = *line.get(name_len.checked_sub(1)?)?;
            if eol > max_line {
                return None;
            }
            let kind = match line.first_chunk::<16>() {
                Some(head) if name_len <= 16 => lookup_head(head, name_len),
                _ => lookup_ends(line, name_len, *line.first()?, last),
            };
            if kind == HeaderKind::Other && !line.get(..name_len)?.iter().all(|&b| is_token(b)) {
                return None;
            }
            let value_from = name_len.wrapping_add(1);
            if kind == HeaderKind::ContentLength {
                read_content_length(line.get(value_from..eol)?, &mut content_length)?;
            }
            *free.next()? = RawHeader {
                kind,
                name_start: pos as u32,
                name_len: name_len as u32,
                value_start: pos.wrapping_add(value_from) as u32,
                value_len: eol.wrapping_sub(value_from) as u32,
            };
            pos = pos.wrapping_add(eol).wrapping_add(1);
        };
        let count = capacity.wrapping_sub(free.len());
        Some(HeaderBlock {
            count,
            header_end,
            content_length,
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;

    use crate::sip::Limits;
    use crate::sip::fuzzing::assert_header_passes_agree as assert_agree;
    use crate::sip::header::RawHeader;
    use crate::sip::message::Parsed;
    use crate::sip::parse::{Mode, Pass, parse_with};

    /// A 200 OK to REGISTER as an IMS core sends it: the shape the fast pass takes.
    const PLAIN: &[u8] = b"SIP/2.0 200 OK\r\n\
        Via: SIP/2.0/UDP 10.45.0.7:5060;received=10.45.0.7;branch=z9hG4bK-524287-1;rport=5060\r\n\
        From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=3a9f1c7e\r\n\
        To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=a6a1c5f6-36ab\r\n\
        Call-ID: 1b7e0d2f9c4a6e83@10.45.0.7\r\n\
        CSeq: 3 REGISTER\r\n\
        Path: <sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>\r\n\
        Service-Route: <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>\r\n\
        P-Associated-URI: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>, <tel:+14155550100>\r\n\
        Contact: <sip:001010000000001@10.45.0.7:5060>;expires=600000;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\"\r\n\
        P-Charging-Function-Addresses: ccf=pri_ccf_address\r\n\
        x-Odd-Name: value: with colons\r\n\
        i: compact@10.45.0.7\r\n\
        Content-Length: 4\r\n\r\nbody";

    /// `bytes` with a header line of `pad` bytes of value put after the start line,
    /// which moves every later line against the 64-byte blocks.
    fn padded(bytes: &[u8], pad: usize) -> Vec<u8> {
        let at = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |at| at + 1);
        let mut out = bytes[..at].to_vec();
        out.extend_from_slice(b"X-Pad: ");
        out.extend(std::iter::repeat_n(b'a', pad));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&bytes[at..]);
        out
    }

    fn limits_to_try() -> [Limits; 3] {
        let tight = Limits {
            max_headers: 5,
            max_header_line: 60,
            ..Limits::DEFAULT
        };
        let small = Limits {
            max_message_size: 300,
            ..Limits::DEFAULT
        };
        [Limits::DEFAULT, tight, small]
    }

    #[test]
    fn the_fast_pass_takes_a_plain_message() {
        let limits = Limits::DEFAULT;
        assert_agree(PLAIN, &limits);
        let mut slots = [RawHeader::EMPTY; 64];
        let parsed = parse_with(PLAIN, &mut slots, &limits, Mode::Stream, Pass::Portable);
        let Ok(Parsed::Complete { message, .. }) = parsed else {
            panic!("{parsed:?}");
        };
        assert_eq!((message.headers.len(), message.body), (13, &b"body"[..]));
        // On a CPU with AVX2, the fast pass itself parses it (else the tests below
        // would compare the portable pass with itself).
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            let mut fast_slots = [RawHeader::EMPTY; 64];
            let from = PLAIN.iter().position(|&b| b == b'\n').unwrap() + 1;
            let found = super::headers(super::Block {
                window: PLAIN,
                from,
                slots: &mut fast_slots,
                max_line: limits.max_header_line,
            })
            .expect("the fast pass takes the plain message");
            assert_eq!(found.count, 13);
            assert_eq!(found.content_length, Some(4));
            assert_eq!(&fast_slots[..13], message.headers);
        }
    }

    /// Every place of the lines against the 64-byte blocks (a few under Miri, which
    /// checks the pass's vector loads, the last block's included).
    #[test]
    fn both_passes_agree_on_shifted_messages() {
        let pads = if cfg!(miri) { 0..3 } else { 0..64 };
        for pad in pads {
            let bytes = padded(PLAIN, pad);
            for limits in limits_to_try() {
                assert_agree(&bytes, &limits);
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "70 k cuts, each parsed four ways")]
    fn both_passes_agree_on_every_cut() {
        for pad in 0..64 {
            let bytes = padded(PLAIN, pad);
            for len in 0..bytes.len() {
                assert_agree(&bytes[..len], &Limits::DEFAULT);
            }
        }
    }

    /// Each byte of the plain message set to each byte that matters to either pass.
    #[test]
    #[cfg_attr(miri, ignore = "50 k parses")]
    fn both_passes_agree_on_every_one_byte_change() {
        let mut bytes = PLAIN.to_vec();
        for at in 0..bytes.len() {
            let was = bytes[at];
            for b in [
                0, b'\t', b'\n', b'\r', b' ', b':', b'-', b'a', b'A', 0x7f, 0xff,
            ] {
                bytes[at] = b;
                assert_agree(&bytes, &Limits::DEFAULT);
            }
            bytes[at] = was;
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads files; thousands of parses")]
    fn both_passes_agree_on_the_rfc4475_vectors() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc4475");
        let mut files = 0;
        for group in ["valid", "invalid", "unreferenced"] {
            let Ok(dir) = std::fs::read_dir(root.join(group)) else {
                continue;
            };
            for entry in dir.flatten() {
                let bytes = std::fs::read(entry.path()).unwrap();
                files += 1;
                for pad in 0..64 {
                    for limits in limits_to_try() {
                        assert_agree(&padded(&bytes, pad), &limits);
                    }
                }
            }
        }
        assert!(files >= 40, "{files} vectors found");
    }

    /// One generated header line: a name (known, compact, odd case, unknown, or not
    /// a token), white space, a colon or none, a value, and an ending (CRLF, LF, a
    /// fold, or a lone CR). Most lines are plain, so that many messages are plain
    /// throughout and the fast pass takes them whole.
    fn line() -> impl Strategy<Value = Vec<u8>> {
        let name = prop_oneof![
            3 => Just(b"Via".to_vec()),
            1 => Just(b"cOnTeNt-LeNgTh".to_vec()),
            2 => Just(b"Content-Length".to_vec()),
            1 => Just(b"l".to_vec()),
            1 => Just(b"P-Charging-Function-Addresses".to_vec()),
            2 => Just(b"Security-Verify".to_vec()),
            30 => "[A-Za-z!%*_+`'~.-]{1,40}".prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..20),
        ];
        let gap = prop_oneof![60 => Just(&b""[..]), 1 => Just(&b" "[..]), 1 => Just(&b"\t "[..])];
        let colon = prop_oneof![60 => Just(&b":"[..]), 1 => Just(&b""[..])];
        let value = prop_oneof![
            2 => Just(b" 12".to_vec()),
            2 => Just(b" 0".to_vec()),
            1 => Just(b"x".to_vec()),
            40 => "[ -~]{0,150}".prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..80),
        ];
        let end = prop_oneof![
            120 => Just(&b"\r\n"[..]),
            1 => Just(&b"\n"[..]),
            1 => Just(&b"\r\n "[..]),
            1 => Just(&b"\r\n\t"[..]),
            1 => Just(&b"\r"[..]),
        ];
        (name, gap, colon, value, end).prop_map(|(name, gap, colon, value, end)| {
            [&name[..], gap, colon, &value[..], end].concat()
        })
    }

    fn message() -> impl Strategy<Value = Vec<u8>> {
        let start = prop_oneof![
            4 => Just(b"SIP/2.0 200 OK\r\n".to_vec()),
            4 => Just(b"\r\nINVITE sip:bob@ims.test SIP/2.0\r\n".to_vec()),
            1 => "[ -~]{0,80}\r\n".prop_map(String::into_bytes),
        ];
        let end = prop_oneof![
            6 => Just(&b"\r\n"[..]),
            1 => Just(&b"\n"[..]),
            1 => Just(&b""[..]),
            2 => Just(&b"\r\nbody"[..]),
            1 => Just(&b"\r\n0123456789ab"[..]),
        ];
        (start, prop::collection::vec(line(), 0..16), end)
            .prop_map(|(start, lines, end)| [start, lines.concat(), end.to_vec()].concat())
    }

    proptest! {
        // No failure file under Miri, which isolates the test from the file system.
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 4 } else { 2000 },
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn both_passes_agree_on_generated_messages(
            bytes in message(),
            max_headers in 1usize..30,
            max_header_line in 8usize..400,
            max_message_size in 64usize..4096,
        ) {
            let limits = Limits { max_headers, max_header_line, max_message_size, ..Limits::DEFAULT };
            assert_agree(&bytes, &limits);
            assert_agree(&bytes, &Limits::DEFAULT);
        }

        #[test]
        fn both_passes_agree_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            assert_agree(&bytes, &Limits::DEFAULT);
        }
    }
}

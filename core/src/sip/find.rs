//! Byte searches of the parser's hot loop, inlined into it.
//!
//! On x86_64 these use memchr's SSE2 searchers, which are safe to call, need no runtime
//! CPU detection (SSE2 is part of the x86_64 baseline) and inline into the caller, so a
//! search over a short header line costs a few vector compares instead of a call through
//! memchr's dispatch. Elsewhere they are memchr's portable functions.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod imp {
    use memchr::arch::x86_64::sse2::memchr::{One, Three, Two};

    #[inline(always)]
    pub(super) fn one(needle: u8, haystack: &[u8]) -> Option<usize> {
        match One::new(needle) {
            Some(searcher) => searcher.find(haystack),
            None => memchr::memchr(needle, haystack),
        }
    }

    #[inline(always)]
    pub(super) fn two(first: u8, second: u8, haystack: &[u8]) -> Option<usize> {
        match Two::new(first, second) {
            Some(searcher) => searcher.find(haystack),
            None => memchr::memchr2(first, second, haystack),
        }
    }

    #[inline(always)]
    pub(super) fn three(first: u8, second: u8, third: u8, haystack: &[u8]) -> Option<usize> {
        match Three::new(first, second, third) {
            Some(searcher) => searcher.find(haystack),
            None => memchr::memchr3(first, second, third, haystack),
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
mod imp {
    #[inline(always)]
    pub(super) fn one(needle: u8, haystack: &[u8]) -> Option<usize> {
        memchr::memchr(needle, haystack)
    }

    #[inline(always)]
    pub(super) fn two(first: u8, second: u8, haystack: &[u8]) -> Option<usize> {
        memchr::memchr2(first, second, haystack)
    }

    #[inline(always)]
    pub(super) fn three(first: u8, second: u8, third: u8, haystack: &[u8]) -> Option<usize> {
        memchr::memchr3(first, second, third, haystack)
    }
}

/// The first `needle` in `haystack`.
#[inline(always)]
pub(crate) fn find(needle: u8, haystack: &[u8]) -> Option<usize> {
    imp::one(needle, haystack)
}

/// The first `first` or `second` in `haystack`.
#[inline(always)]
pub(crate) fn find2(first: u8, second: u8, haystack: &[u8]) -> Option<usize> {
    imp::two(first, second, haystack)
}

/// The first `first`, `second` or `third` in `haystack`.
#[inline(always)]
pub(crate) fn find3(first: u8, second: u8, third: u8, haystack: &[u8]) -> Option<usize> {
    imp::three(first, second, third, haystack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_find_the_first_match() {
        let hay = b"Via: SIP/2.0/UDP host\r\n more:x\r\n";
        assert_eq!(find(b'\n', hay), Some(22));
        assert_eq!(find2(b':', b'\n', hay), Some(3));
        assert_eq!(find3(b'/', b'x', b'\n', hay), Some(8));
        assert_eq!(find(b'#', hay), None);
    }
}

//! Size limits on everything a parse accepts from the network.

/// Caps applied while parsing; past any of them the parse fails with an error naming the
/// limit. Never a panic, never an unbounded allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (start line, headers and body), in bytes. Default 64 KiB.
    pub max_message_size: usize,
    /// Most headers in one message. Default 256. The caller's slot array may cap it lower.
    pub max_headers: usize,
    /// Longest header (name, value and folded continuation lines), in bytes. Default 8 KiB.
    pub max_header_line: usize,
    /// Longest Request-URI, in bytes. Default 4 KiB.
    pub max_uri_length: usize,
}

impl Limits {
    /// The defaults: 64 KiB messages, 256 headers, 8 KiB header lines, 4 KiB URIs.
    pub const DEFAULT: Limits = Limits {
        max_message_size: 64 * 1024,
        max_headers: 256,
        max_header_line: 8 * 1024,
        max_uri_length: 4 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

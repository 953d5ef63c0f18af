//! The SIP message model: zero-copy parse, typed header views, URIs and the writer.

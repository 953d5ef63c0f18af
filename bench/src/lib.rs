//! The library behind `imsbench` and the criterion benches: the message splitter, the
//! parsers `--bench` measures (ims-core and the peer crates, one copy used by both), the
//! timing loop, the allocation counter and the report; the jitter-buffer stream
//! simulation and the G.711 measurement.

pub mod alloc;
pub mod bench;
pub mod codec;
pub mod cpu;
pub mod jitter;
pub mod messages;
pub mod peers;
pub mod report;

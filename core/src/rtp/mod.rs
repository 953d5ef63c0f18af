//! RTP and RTCP (RFC 3550): zero-copy packet views and writers, receiver statistics and
//! the lock-free jitter buffer that hands packets from the network task to the audio
//! callback.

pub mod jitter;
pub mod packet;
pub mod rtcp;
pub mod sequence;
pub mod statistics;

pub use jitter::{
    JitterConfig, JitterConsumer, JitterPacket, JitterProducer, JitterStatistics, Playout,
    PushError, jitter_buffer,
};
pub use packet::{RtpError, RtpExtension, RtpHeader, RtpPacket};
pub use rtcp::{
    Bye, ReceiverReport, ReportBlock, RtcpCompound, RtcpError, RtcpPacket, SdesChunk, SdesItem,
    SdesItemType, SenderInfo, SenderReport, SourceDescription,
};
pub use sequence::{NtpTimestamp, extend_sequence, extend_timestamp};
pub use statistics::{ReceiverStatistics, SequenceUpdate, round_trip_time};

//! The settings of a media session, its events and its errors.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::media::audio_config::AudioPortError;
use crate::media::codec::{ALaw, Codec, CodecError, MuLaw};
use crate::media::dtmf::DtmfError;
use crate::media::playout::Concealment;
use crate::rtp::JitterConfig;

/// The payload type RFC 4733 telephone-events get when SDP says nothing else.
pub const DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE: u8 = 101;

/// The codec a session sends and expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionCodec {
    /// G.711 µ-law (PCMU, payload type 0).
    #[default]
    Pcmu,
    /// G.711 A-law (PCMA, payload type 8).
    Pcma,
}

/// One of the session's codecs, as a [`Codec`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum AnyCodec {
    Pcmu(MuLaw),
    Pcma(ALaw),
}

impl AnyCodec {
    pub(crate) fn new(codec: SessionCodec) -> Self {
        match codec {
            SessionCodec::Pcmu => Self::Pcmu(MuLaw),
            SessionCodec::Pcma => Self::Pcma(ALaw),
        }
    }
}

impl Codec for AnyCodec {
    fn payload_type(&self) -> u8 {
        match self {
            Self::Pcmu(codec) => codec.payload_type(),
            Self::Pcma(codec) => codec.payload_type(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Pcmu(codec) => codec.name(),
            Self::Pcma(codec) => codec.name(),
        }
    }

    fn sample_rate(&self) -> u32 {
        match self {
            Self::Pcmu(codec) => codec.sample_rate(),
            Self::Pcma(codec) => codec.sample_rate(),
        }
    }

    fn encode(&mut self, pcm: &[i16], payload: &mut [u8]) -> Result<usize, CodecError> {
        match self {
            Self::Pcmu(codec) => codec.encode(pcm, payload),
            Self::Pcma(codec) => codec.encode(pcm, payload),
        }
    }

    fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        match self {
            Self::Pcmu(codec) => codec.decode(payload, pcm),
            Self::Pcma(codec) => codec.decode(payload, pcm),
        }
    }
}

/// Settings of a [`MediaSession`](super::MediaSession).
#[derive(Debug, Clone)]
pub struct MediaSessionConfig {
    /// The address to bind RTP and RTCP on.
    pub local_address: IpAddr,
    /// The RTP port, even; RTCP takes the next one. 0 picks a free pair.
    pub rtp_port: u16,
    /// Where to send RTP; `None` receives only until [`set_remote`] is called.
    ///
    /// [`set_remote`]: super::MediaSession::set_remote
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP; `None` means the RTP port + 1 (RFC 3550 §11).
    pub remote_rtcp: Option<SocketAddr>,
    /// The codec.
    pub codec: SessionCodec,
    /// Audio per packet (ptime), 10 to 60 ms in whole milliseconds.
    pub ptime: Duration,
    /// The payload type of telephone-events, sent and received.
    pub telephone_event_payload_type: u8,
    /// How long each DTMF digit sent lasts.
    pub dtmf_duration: Duration,
    /// Silence between DTMF digits sent.
    pub dtmf_gap: Duration,
    /// The power of DTMF digits sent, in -dBm0 (0 to 63).
    pub dtmf_volume: u8,
    /// The jitter buffer; its frame is set to `ptime` and its clock rate to the codec's.
    pub jitter: JitterConfig,
    /// How missing frames are filled.
    pub concealment: Concealment,
    /// Time between RTCP reports (RFC 3550 §6.2 suggests 5 s).
    pub rtcp_interval: Duration,
    /// Our SSRC; `None` draws a random one.
    pub ssrc: Option<u32>,
    /// Our SDES CNAME; `None` makes one from the SSRC and the local address.
    pub cname: Option<String>,
    /// How long the remote source must be silent before a packet with another SSRC
    /// replaces it (a restarted sender); before that, other SSRCs are dropped.
    pub source_timeout: Duration,
}

impl Default for MediaSessionConfig {
    fn default() -> Self {
        Self {
            local_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rtp_port: 0,
            remote_rtp: None,
            remote_rtcp: None,
            codec: SessionCodec::default(),
            ptime: Duration::from_millis(20),
            telephone_event_payload_type: DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE,
            dtmf_duration: Duration::from_millis(100),
            dtmf_gap: Duration::from_millis(60),
            dtmf_volume: 10,
            jitter: JitterConfig::default(),
            concealment: Concealment::RepeatFade,
            rtcp_interval: Duration::from_secs(5),
            ssrc: None,
            cname: None,
            source_timeout: Duration::from_secs(1),
        }
    }
}

/// What a media session tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// A DTMF digit was received (RFC 4733), reported once when it ended.
    Dtmf {
        /// The digit: `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
        /// How long it lasted.
        duration: Duration,
    },
    /// Media arrived from a source (the first one, or one that replaced a silent one).
    RemoteSource {
        /// Its SSRC.
        ssrc: u32,
    },
    /// The remote source said goodbye (RTCP BYE).
    RemoteBye {
        /// Its SSRC.
        ssrc: u32,
    },
    /// The audio source has ended (a WAV file played through); silence follows.
    InputEnded,
    /// All queued DTMF digits have been sent.
    DtmfSent,
}

/// Why a media session could not start or take a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaSessionError {
    /// The RTP port asked for is odd (RFC 3550 §11 wants RTP on an even port).
    #[error("RTP port {port} is odd")]
    OddPort {
        /// The port.
        port: u16,
    },
    /// The sockets could not be bound.
    #[error("cannot bind RTP/RTCP on {address}: {source}")]
    Bind {
        /// The RTP address tried.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No even/odd port pair was free.
    #[error("no free RTP/RTCP port pair on {address}")]
    NoPortPair {
        /// The local address.
        address: IpAddr,
    },
    /// The ptime is not a whole number of milliseconds from 10 to 60.
    #[error("ptime {ptime:?} is not 10 to 60 whole milliseconds")]
    InvalidPtime {
        /// The ptime given.
        ptime: Duration,
    },
    /// A port runs at another rate than the codec.
    #[error("audio port at {port} Hz, codec at {codec} Hz")]
    SampleRateMismatch {
        /// The port's rate.
        port: u32,
        /// The codec's rate.
        codec: u32,
    },
    /// An audio port could not be opened.
    #[error(transparent)]
    AudioPort(#[from] AudioPortError),
    /// A DTMF digit was not one.
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
    /// A thread or the OS random source could not be had.
    #[error("cannot start the media session: {source}")]
    Start {
        /// Why.
        source: std::io::Error,
    },
    /// The session has stopped.
    #[error("the media session has stopped")]
    Stopped,
}

//! The owner's side of a media session: start, commands, events, statistics, stop.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::config::{AnyCodec, MediaEvent, MediaSessionConfig, MediaSessionError};
use super::media_thread::{MediaCommand, MediaThread, SendClock};
use super::network::{NetworkCommand, NetworkThread};
use super::statistics::{MediaStatistics, SharedStatistics};
use crate::media::audio_config::AudioPortConfig;
use crate::media::codec::Codec;
use crate::media::dtmf::digit_to_event;
use crate::media::playout::FrameDecoder;
use crate::media::port::{AudioSink, AudioSource};
use crate::rtp::{JitterConfig, jitter_buffer};

/// Attempts at finding a free even/odd port pair.
const PORT_PAIR_ATTEMPTS: usize = 64;

/// A running media session; see the [module docs](super). Dropping it stops it.
#[derive(Debug)]
pub struct MediaSession {
    local_rtp: SocketAddr,
    local_rtcp: SocketAddr,
    ssrc: u32,
    media_commands: mpsc::Sender<MediaCommand>,
    network_commands: UnboundedSender<NetworkCommand>,
    events: UnboundedReceiver<MediaEvent>,
    statistics: Arc<SharedStatistics>,
    media_thread: Option<JoinHandle<()>>,
    network_thread: Option<JoinHandle<()>>,
}

impl MediaSession {
    /// Opens the ports `ports` names at the codec's rate and starts a session with them.
    pub fn start_with_ports(
        config: MediaSessionConfig,
        ports: &AudioPortConfig,
    ) -> Result<Self, MediaSessionError> {
        let rate = AnyCodec::new(config.codec).sample_rate();
        let source = ports.input.open(rate)?;
        let sink = ports.output.open(rate)?;
        tracing::info!(input = ?source.kind, output = ?sink.kind, "media session ports");
        Self::start(config, source.port, sink.port)
    }

    /// Binds the sockets and starts the media and network threads.
    pub fn start(
        config: MediaSessionConfig,
        source: Box<dyn AudioSource + Send>,
        sink: Box<dyn AudioSink + Send>,
    ) -> Result<Self, MediaSessionError> {
        let codec = AnyCodec::new(config.codec);
        let rate = codec.sample_rate();
        for port in [source.sample_rate(), sink.sample_rate()] {
            if port != rate {
                return Err(MediaSessionError::SampleRateMismatch { port, codec: rate });
            }
        }
        let ptime = config.ptime;
        if !(10..=60).contains(&ptime.as_millis())
            || !ptime.subsec_nanos().is_multiple_of(1_000_000)
        {
            return Err(MediaSessionError::InvalidPtime { ptime });
        }
        let frame_samples = usize::try_from(ptime.as_millis() * u128::from(rate) / 1000)
            .map_err(|_| MediaSessionError::InvalidPtime { ptime })?;
        let (rtp, rtcp) = bind_pair(config.local_address, config.rtp_port)?;
        let start_error = |source| MediaSessionError::Start { source };
        let local_rtp = rtp.local_addr().map_err(start_error)?;
        let local_rtcp = rtcp.local_addr().map_err(start_error)?;
        rtp.set_nonblocking(true).map_err(start_error)?;
        rtcp.set_nonblocking(true).map_err(start_error)?;
        let media_socket = rtp.try_clone().map_err(start_error)?;

        let mut random = [0u8; 10];
        getrandom::fill(&mut random)
            .map_err(|error| start_error(std::io::Error::other(error.to_string())))?;
        let [a, b, c, d, e, f, g, h, i, j] = random;
        let ssrc = config.ssrc.unwrap_or(u32::from_be_bytes([a, b, c, d]));
        let sequence = u16::from_be_bytes([e, f]);
        let timestamp = u32::from_be_bytes([g, h, i, j]);
        let cname = config
            .cname
            .clone()
            .unwrap_or_else(|| format!("ims-rs-{ssrc:08x}@{}", local_rtp.ip()));

        let jitter_config = JitterConfig {
            clock_rate: codec.clock_rate(),
            frame: ptime,
            ..config.jitter.clone()
        };
        let (producer, consumer) = jitter_buffer(&jitter_config);
        let statistics = Arc::new(SharedStatistics::new());
        let send_clock = Arc::new(SendClock::default());
        let (events_sender, events) = unbounded_channel();
        let (media_commands, media_receiver) = mpsc::channel();
        let (network_commands, network_receiver) = unbounded_channel();
        let epoch = Instant::now();
        let remote_rtcp = config
            .remote_rtp
            .map(|remote| config.remote_rtcp.unwrap_or_else(|| rtcp_beside(remote)));
        let dtmf_units = ptime_units(config.dtmf_duration, rate);
        let media = MediaThread {
            source,
            sink,
            encoder: codec,
            decoder: FrameDecoder::new(codec, config.concealment),
            jitter: consumer,
            socket: media_socket,
            remote: config.remote_rtp,
            commands: media_receiver,
            events: events_sender.clone(),
            statistics: Arc::clone(&statistics),
            send_clock: Arc::clone(&send_clock),
            epoch,
            ptime,
            frame_samples,
            ssrc,
            sequence,
            timestamp,
            telephone_event_payload_type: config.telephone_event_payload_type,
            dtmf_duration_units: u16::try_from(dtmf_units).unwrap_or(u16::MAX),
            dtmf_gap_frames: u32::try_from(
                config.dtmf_gap.as_nanos().div_ceil(ptime.as_nanos().max(1)),
            )
            .unwrap_or(u32::MAX),
            dtmf_volume: config.dtmf_volume.min(63),
        };
        let network = NetworkThread {
            remote_rtcp,
            jitter: producer,
            commands: network_receiver,
            events: events_sender,
            statistics: Arc::clone(&statistics),
            send_clock,
            epoch,
            clock_rate: codec.clock_rate(),
            ssrc,
            cname,
            codec_payload_type: codec.payload_type(),
            telephone_event_payload_type: config.telephone_event_payload_type,
            rtcp_interval: config.rtcp_interval.max(Duration::from_millis(100)),
            source_timeout: config.source_timeout,
        };
        let network_thread = std::thread::Builder::new()
            .name("ims-media-network".into())
            .spawn(move || network.run(rtp, rtcp))
            .map_err(start_error)?;
        let media_thread = match std::thread::Builder::new()
            .name("ims-media".into())
            .spawn(move || media.run())
        {
            Ok(thread) => thread,
            Err(error) => {
                let _ = network_commands.send(NetworkCommand::Stop);
                let _ = network_thread.join();
                return Err(start_error(error));
            }
        };
        tracing::info!(%local_rtp, ssrc, remote = ?config.remote_rtp, "media session started");
        Ok(Self {
            local_rtp,
            local_rtcp,
            ssrc,
            media_commands,
            network_commands,
            events,
            statistics,
            media_thread: Some(media_thread),
            network_thread: Some(network_thread),
        })
    }

    /// The local RTP address (an even port).
    pub fn local_rtp(&self) -> SocketAddr {
        self.local_rtp
    }

    /// The local RTCP address (the RTP port + 1).
    pub fn local_rtcp(&self) -> SocketAddr {
        self.local_rtcp
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Sends RTP to `rtp` and RTCP to `rtcp` (or the RTP port + 1) from now on.
    pub fn set_remote(
        &self,
        rtp: SocketAddr,
        rtcp: Option<SocketAddr>,
    ) -> Result<(), MediaSessionError> {
        self.media_commands
            .send(MediaCommand::SetRemote(rtp))
            .map_err(|_| MediaSessionError::Stopped)?;
        self.network_commands
            .send(NetworkCommand::SetRemote(
                rtcp.unwrap_or_else(|| rtcp_beside(rtp)),
            ))
            .map_err(|_| MediaSessionError::Stopped)
    }

    /// Queues DTMF digits (`0`-`9`, `*`, `#`, `A`-`D`) to send as telephone-events
    /// (RFC 4733), one after the other; nothing is queued if one of them is not a digit.
    pub fn send_dtmf(&self, digits: &str) -> Result<(), MediaSessionError> {
        let events = digits
            .chars()
            .map(digit_to_event)
            .collect::<Result<Vec<_>, _>>()?;
        self.media_commands
            .send(MediaCommand::Dtmf(events))
            .map_err(|_| MediaSessionError::Stopped)
    }

    /// The next event, waiting for it; `None` once the session has stopped.
    pub async fn next_event(&mut self) -> Option<MediaEvent> {
        self.events.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_event(&mut self) -> Option<MediaEvent> {
        self.events.try_recv().ok()
    }

    /// The counters now.
    pub fn statistics(&self) -> MediaStatistics {
        self.statistics.snapshot()
    }

    /// Stops sending, sends the final RTCP report with a BYE, waits for both threads
    /// (at most a frame and a socket operation) and returns the final counters.
    pub fn stop(mut self) -> MediaStatistics {
        self.shut_down();
        self.statistics.snapshot()
    }

    fn shut_down(&mut self) {
        if let Some(thread) = self.media_thread.take() {
            let _ = self.media_commands.send(MediaCommand::Stop);
            if thread.join().is_err() {
                tracing::error!("media thread panicked");
            }
        }
        if let Some(thread) = self.network_thread.take() {
            let _ = self.network_commands.send(NetworkCommand::Stop);
            if thread.join().is_err() {
                tracing::error!("media network thread panicked");
            }
            tracing::info!(local_rtp = %self.local_rtp, ssrc = self.ssrc, "media session stopped");
        }
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The RTCP address beside an RTP address: the next port (RFC 3550 §11).
fn rtcp_beside(rtp: SocketAddr) -> SocketAddr {
    SocketAddr::new(rtp.ip(), rtp.port().saturating_add(1))
}

/// `duration` in units of a `rate` Hz clock.
fn ptime_units(duration: Duration, rate: u32) -> u64 {
    u64::try_from(duration.as_nanos() * u128::from(rate) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// Binds RTP on an even port and RTCP on the next one; port 0 finds a free pair.
fn bind_pair(address: IpAddr, port: u16) -> Result<(UdpSocket, UdpSocket), MediaSessionError> {
    let bind = |port: u16| {
        let at = SocketAddr::new(address, port);
        UdpSocket::bind(at).map_err(|source| MediaSessionError::Bind {
            address: at,
            source,
        })
    };
    if port != 0 {
        if !port.is_multiple_of(2) {
            return Err(MediaSessionError::OddPort { port });
        }
        let rtp = bind(port)?;
        let rtcp = bind(
            port.checked_add(1)
                .ok_or(MediaSessionError::OddPort { port })?,
        )?;
        return Ok((rtp, rtcp));
    }
    for _ in 0..PORT_PAIR_ATTEMPTS {
        let first = bind(0)?;
        let first_port = first
            .local_addr()
            .map_err(|source| MediaSessionError::Start { source })?
            .port();
        // The kernel gave an even port: try its odd neighbour; an odd one: try the even
        // one below it.
        let pair = if first_port.is_multiple_of(2) {
            first_port
                .checked_add(1)
                .and_then(|next| bind(next).ok())
                .map(|rtcp| (first, rtcp))
        } else {
            bind(first_port - 1).ok().map(|rtp| (rtp, first))
        };
        if let Some(pair) = pair {
            return Ok(pair);
        }
    }
    Err(MediaSessionError::NoPortPair { address })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_in_even_odd_pairs() {
        let (rtp, rtcp) = bind_pair(IpAddr::from([127, 0, 0, 1]), 0).unwrap();
        let rtp_port = rtp.local_addr().unwrap().port();
        assert_eq!(rtp_port % 2, 0);
        assert_eq!(rtcp.local_addr().unwrap().port(), rtp_port + 1);
        assert!(matches!(
            bind_pair(IpAddr::from([127, 0, 0, 1]), 40_001),
            Err(MediaSessionError::OddPort { port: 40_001 })
        ));
        // The pair just bound is taken.
        assert!(matches!(
            bind_pair(IpAddr::from([127, 0, 0, 1]), rtp_port),
            Err(MediaSessionError::Bind { .. })
        ));
    }
}

//! The media thread: the session's clock. Each ptime it reads a frame from the source,
//! encodes it (or sends the next telephone-event packet) and sends it, then pulls a frame
//! from the jitter buffer, decodes or conceals it and writes it to the sink.
//!
//! Per frame it makes no allocation and takes no lock; its only system calls are the RTP
//! send and the sleep until the next tick. A sound card's own callback never waits on it:
//! the card ports meet this thread through lock-free rings.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::config::{AnyCodec, MediaEvent};
use super::statistics::{SharedStatistics, bump, nanos};
use crate::media::codec::Codec;
use crate::media::dtmf::{EventPacket, event_packets};
use crate::media::playout::FrameDecoder;
use crate::media::port::{AudioSink, AudioSource};
use crate::rtp::{JitterConsumer, RtpHeader};

/// The largest frame: 60 ms at 8 kHz.
const MAX_FRAME: usize = 480;
/// Room for an RTP header and the largest payload.
const MAX_DATAGRAM: usize = 12 + MAX_FRAME;
/// A tick later than this many frames makes the clock skip ahead instead of catching up.
const MAX_LATE_FRAMES: u32 = 5;

/// What the owner asks of the media thread.
#[derive(Debug)]
pub(crate) enum MediaCommand {
    SetRemote(SocketAddr),
    Dtmf(Vec<u8>),
    Stop,
}

/// Where the RTP timestamp stood at a moment, for the RTCP sender report.
#[derive(Debug, Default)]
pub(crate) struct SendClock {
    /// The RTP timestamp of the latest tick.
    pub(crate) timestamp: AtomicU32,
    /// Nanoseconds from the session's epoch to that tick.
    pub(crate) at_nanos: AtomicU64,
}

/// Everything the media thread owns.
pub(crate) struct MediaThread {
    pub(crate) source: Box<dyn AudioSource + Send>,
    pub(crate) sink: Box<dyn AudioSink + Send>,
    pub(crate) encoder: AnyCodec,
    pub(crate) decoder: FrameDecoder<AnyCodec>,
    pub(crate) jitter: JitterConsumer,
    pub(crate) socket: UdpSocket,
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) commands: mpsc::Receiver<MediaCommand>,
    pub(crate) events: UnboundedSender<MediaEvent>,
    pub(crate) statistics: Arc<SharedStatistics>,
    pub(crate) send_clock: Arc<SendClock>,
    pub(crate) epoch: Instant,
    pub(crate) ptime: Duration,
    pub(crate) frame_samples: usize,
    pub(crate) ssrc: u32,
    pub(crate) sequence: u16,
    pub(crate) timestamp: u32,
    pub(crate) telephone_event_payload_type: u8,
    pub(crate) dtmf_duration_units: u16,
    pub(crate) dtmf_gap_frames: u32,
    pub(crate) dtmf_volume: u8,
}

/// A telephone-event being sent: its packets and the RTP timestamp they share.
struct DtmfInProgress {
    packets: Vec<EventPacket>,
    next: usize,
    timestamp: u32,
}

impl MediaThread {
    /// Runs until told to stop (or the owner is gone); then drops the ports, which
    /// completes a WAV recording.
    pub(crate) fn run(mut self) {
        let mut pcm = [0i16; MAX_FRAME];
        let mut out = [0i16; MAX_FRAME];
        let mut payload = [0u8; MAX_FRAME];
        let mut datagram = [0u8; MAX_DATAGRAM];
        let frame = self.frame_samples.min(MAX_FRAME);
        let mut digits: std::collections::VecDeque<u8> = std::collections::VecDeque::new();
        let mut dtmf: Option<DtmfInProgress> = None;
        let mut gap_frames = 0u32;
        let mut first_audio = true;
        let mut input_ended = false;
        let mut next_tick = Instant::now();
        tracing::debug!(ssrc = self.ssrc, "media thread started");
        loop {
            // Commands.
            loop {
                match self.commands.try_recv() {
                    Ok(MediaCommand::SetRemote(remote)) => self.remote = Some(remote),
                    Ok(MediaCommand::Dtmf(events)) => digits.extend(events),
                    Ok(MediaCommand::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                        tracing::debug!(ssrc = self.ssrc, "media thread stopped");
                        return;
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }

            // Send.
            let pcm = pcm.get_mut(..frame).unwrap_or_default();
            let real = self.source.read(pcm);
            if real < pcm.len() && !input_ended {
                input_ended = true;
                let _ = self.events.send(MediaEvent::InputEnded);
            }
            if dtmf.is_none()
                && gap_frames == 0
                && let Some(event) = digits.pop_front()
            {
                dtmf = Some(DtmfInProgress {
                    packets: event_packets(
                        event,
                        self.dtmf_volume,
                        self.dtmf_duration_units,
                        u16::try_from(frame).unwrap_or(u16::MAX),
                    )
                    .collect(),
                    next: 0,
                    timestamp: self.timestamp,
                });
            }
            let packet = match dtmf.as_mut() {
                Some(progress) => {
                    let packet = progress.packets.get(progress.next).copied();
                    progress.next += 1;
                    match packet {
                        Some(packet) => {
                            let length = packet.event.write(&mut payload).unwrap_or(0);
                            Some((
                                packet.marker,
                                self.telephone_event_payload_type,
                                progress.timestamp,
                                length,
                            ))
                        }
                        None => None,
                    }
                }
                None => {
                    let length = self.encoder.encode(pcm, &mut payload).unwrap_or(0);
                    let marker = std::mem::take(&mut first_audio);
                    Some((marker, self.encoder.payload_type(), self.timestamp, length))
                }
            };
            if let Some(progress) = &dtmf
                && progress.next >= progress.packets.len()
            {
                dtmf = None;
                gap_frames = self.dtmf_gap_frames;
                if digits.is_empty() {
                    let _ = self.events.send(MediaEvent::DtmfSent);
                }
            } else if dtmf.is_none() {
                gap_frames = gap_frames.saturating_sub(1);
            }
            if let (Some((marker, payload_type, timestamp, length)), Some(remote)) =
                (packet, self.remote)
            {
                self.send(
                    &mut datagram,
                    RtpHeader {
                        marker,
                        payload_type,
                        sequence: self.sequence,
                        timestamp,
                        ssrc: self.ssrc,
                        ..RtpHeader::default()
                    },
                    payload.get(..length).unwrap_or_default(),
                    remote,
                );
            }
            self.send_clock
                .timestamp
                .store(self.timestamp, Ordering::Relaxed);
            self.send_clock.at_nanos.store(
                nanos(next_tick.saturating_duration_since(self.epoch)),
                Ordering::Relaxed,
            );
            self.timestamp = self
                .timestamp
                .wrapping_add(u32::try_from(frame).unwrap_or(0));

            // Receive.
            let out = out.get_mut(..frame).unwrap_or_default();
            self.decoder.render(self.jitter.pull(), out);
            self.sink.write(out);
            self.statistics
                .publish_jitter_buffer(&self.jitter.statistics(), self.jitter.target_delay());

            // Wait for the next tick.
            next_tick += self.ptime;
            let now = Instant::now();
            if next_tick > now {
                std::thread::sleep(next_tick - now);
            } else if now - next_tick > self.ptime * MAX_LATE_FRAMES {
                bump(&self.statistics.clock_skips);
                next_tick = now;
            }
        }
    }

    fn send(
        &mut self,
        datagram: &mut [u8],
        header: RtpHeader<'_>,
        payload: &[u8],
        remote: SocketAddr,
    ) {
        let Ok(length) = header.write_to_slice(payload, 0, datagram) else {
            bump(&self.statistics.send_failures);
            return;
        };
        self.sequence = self.sequence.wrapping_add(1);
        let bytes = datagram.get(..length).unwrap_or_default();
        match self.socket.send_to(bytes, remote) {
            Ok(_) => {
                bump(&self.statistics.packets_sent);
                self.statistics
                    .octets_sent
                    .fetch_add(payload.len() as u64, Ordering::Relaxed);
            }
            Err(error) => {
                bump(&self.statistics.send_failures);
                tracing::debug!(%error, %remote, "RTP send failed");
            }
        }
    }
}

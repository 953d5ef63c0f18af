//! The media thread: the session's clock. Each ptime it reads a frame from the source,
//! encodes it (or sends the next telephone-event packet) and sends it, then pulls a frame
//! from the jitter buffer, decodes or conceals it and writes it to the sink.
//!
//! Per frame it makes no allocation and takes no lock; its only system calls are the RTP
//! send and the sleep until the next tick. A sound card's own callback never waits on it:
//! the card ports meet this thread through lock-free rings.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::config::{AnyCodec, MediaEvent};
use super::statistics::{SharedStatistics, bump, nanos};
use crate::media::codec::Codec;
use crate::media::dtmf::event_packets;
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

/// A telephone-event being sent: which packet of it is next, and the RTP timestamp
/// all its packets share.
#[derive(Debug, Clone, Copy)]
struct DtmfInProgress {
    event: u8,
    next: usize,
    timestamp: u32,
}

/// Digits queued for sending: room for this many without growing.
const DTMF_QUEUE: usize = 64;

/// What the sending side remembers between frames.
struct SendState {
    digits: VecDeque<u8>,
    dtmf: Option<DtmfInProgress>,
    gap_frames: u32,
    first_audio: bool,
    input_ended: bool,
}

/// The frame buffers, allocated once.
struct Buffers {
    pcm: [i16; MAX_FRAME],
    out: [i16; MAX_FRAME],
    payload: [u8; MAX_FRAME],
    datagram: [u8; MAX_DATAGRAM],
}

/// One packet to send: marker, payload type, RTP timestamp and payload length.
type Outgoing = (bool, u8, u32, usize);

impl MediaThread {
    /// Runs until told to stop (or the owner is gone); then drops the ports, which
    /// completes a WAV recording.
    pub(crate) fn run(mut self) {
        let mut buffers = Buffers {
            pcm: [0; MAX_FRAME],
            out: [0; MAX_FRAME],
            payload: [0; MAX_FRAME],
            datagram: [0; MAX_DATAGRAM],
        };
        let mut state = SendState {
            digits: VecDeque::with_capacity(DTMF_QUEUE),
            dtmf: None,
            gap_frames: 0,
            first_audio: true,
            input_ended: false,
        };
        let mut next_tick = Instant::now();
        tracing::debug!(ssrc = self.ssrc, "media thread started");
        while self.take_commands(&mut state) {
            self.send_frame(&mut state, &mut buffers, next_tick);
            self.play_frame(&mut buffers.out);
            next_tick = self.wait(next_tick);
        }
        tracing::debug!(ssrc = self.ssrc, "media thread stopped");
    }

    /// Applies the owner's commands; false when the thread must stop.
    fn take_commands(&mut self, state: &mut SendState) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(MediaCommand::SetRemote(remote)) => self.remote = Some(remote),
                Ok(MediaCommand::Dtmf(events)) => state.digits.extend(events),
                Ok(MediaCommand::Stop) | Err(mpsc::TryRecvError::Disconnected) => return false,
                Err(mpsc::TryRecvError::Empty) => return true,
            }
        }
    }

    /// Reads a frame from the source and sends it, or the next telephone-event packet.
    fn send_frame(&mut self, state: &mut SendState, buffers: &mut Buffers, tick: Instant) {
        let frame = self.frame_samples.min(MAX_FRAME);
        let pcm = buffers.pcm.get_mut(..frame).unwrap_or_default();
        let real = self.source.read(pcm);
        if real < pcm.len() && !state.input_ended {
            state.input_ended = true;
            let _ = self.events.send(MediaEvent::InputEnded);
        }
        if state.dtmf.is_none()
            && state.gap_frames == 0
            && let Some(event) = state.digits.pop_front()
        {
            state.dtmf = Some(DtmfInProgress {
                event,
                next: 0,
                timestamp: self.timestamp,
            });
        }
        let outgoing = match state.dtmf.as_mut() {
            Some(progress) => self.next_event_packet(progress, frame, &mut buffers.payload),
            None => {
                let length = self.encoder.encode(pcm, &mut buffers.payload).unwrap_or(0);
                let marker = std::mem::take(&mut state.first_audio);
                Some((marker, self.encoder.payload_type(), self.timestamp, length))
            }
        };
        match (state.dtmf, outgoing) {
            (Some(_), None) => {
                // The event's last packet went out on the previous frame.
                state.dtmf = None;
                state.gap_frames = self.dtmf_gap_frames;
                if state.digits.is_empty() {
                    let _ = self.events.send(MediaEvent::DtmfSent);
                }
            }
            (None, _) => state.gap_frames = state.gap_frames.saturating_sub(1),
            (Some(_), Some(_)) => {}
        }
        if let (Some((marker, payload_type, timestamp, length)), Some(remote)) =
            (outgoing, self.remote)
        {
            let header = RtpHeader {
                marker,
                payload_type,
                sequence: self.sequence,
                timestamp,
                ssrc: self.ssrc,
                ..RtpHeader::default()
            };
            let payload = buffers.payload.get(..length).unwrap_or_default();
            self.send(&mut buffers.datagram, header, payload, remote);
        }
        self.send_clock
            .timestamp
            .store(self.timestamp, Ordering::Relaxed);
        self.send_clock.at_nanos.store(
            nanos(tick.saturating_duration_since(self.epoch)),
            Ordering::Relaxed,
        );
        self.timestamp = self
            .timestamp
            .wrapping_add(u32::try_from(frame).unwrap_or(0));
    }

    /// Writes the next packet of the event in progress into `payload`; `None` once all
    /// its packets (the updates, then the end three times) have been sent.
    fn next_event_packet(
        &self,
        progress: &mut DtmfInProgress,
        frame: usize,
        payload: &mut [u8],
    ) -> Option<Outgoing> {
        let interval = u16::try_from(frame).unwrap_or(u16::MAX);
        let packet = event_packets(
            progress.event,
            self.dtmf_volume,
            self.dtmf_duration_units,
            interval,
        )
        .nth(progress.next)?;
        progress.next += 1;
        let length = packet.event.write(payload).unwrap_or(0);
        Some((
            packet.marker,
            self.telephone_event_payload_type,
            progress.timestamp,
            length,
        ))
    }

    /// Pulls a frame from the jitter buffer, decodes or conceals it, and plays it.
    fn play_frame(&mut self, out: &mut [i16; MAX_FRAME]) {
        let frame = self.frame_samples.min(MAX_FRAME);
        let out = out.get_mut(..frame).unwrap_or_default();
        self.decoder.render(self.jitter.pull(), out);
        self.sink.write(out);
        self.statistics
            .publish_jitter_buffer(&self.jitter.statistics(), self.jitter.target_delay());
    }

    /// Sleeps until the tick after `tick` and returns it; a clock that fell far behind
    /// (a stalled machine) skips ahead instead of sending a burst.
    fn wait(&self, tick: Instant) -> Instant {
        let next = tick + self.ptime;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
            next
        } else if now - next > self.ptime * MAX_LATE_FRAMES {
            bump(&self.statistics.clock_skips);
            now
        } else {
            next
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

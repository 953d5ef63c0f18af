//! The network thread: receives RTP into the jitter buffer and telephone-events into
//! events, receives and sends RTCP (SR or RR with SDES periodically, BYE at the end).
//! Runs a single-threaded tokio runtime of its own, so neither the owner's runtime nor
//! the media clock waits on it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::config::MediaEvent;
use super::media_thread::SendClock;
use super::statistics::{SharedStatistics, bump, nanos};
use crate::media::dtmf::{TelephoneEventReceiver, event_to_digit};
use crate::media::playout::COMFORT_NOISE_PAYLOAD_TYPE;
use crate::rtp::rtcp::{
    SdesItem, SdesItemType, SenderInfo, write_bye, write_receiver_report, write_sender_report,
    write_source_description,
};
use crate::rtp::{
    JitterPacket, JitterProducer, NtpTimestamp, RtcpCompound, RtcpPacket, RtpPacket,
    round_trip_time,
};

/// The largest datagram read.
const MAX_DATAGRAM: usize = 2048;

/// What the owner asks of the network thread.
#[derive(Debug)]
pub(crate) enum NetworkCommand {
    SetRemote(SocketAddr),
    Stop,
}

/// Everything the network thread owns.
pub(crate) struct NetworkThread {
    pub(crate) remote_rtcp: Option<SocketAddr>,
    pub(crate) jitter: JitterProducer,
    pub(crate) commands: UnboundedReceiver<NetworkCommand>,
    pub(crate) events: UnboundedSender<MediaEvent>,
    pub(crate) statistics: Arc<SharedStatistics>,
    pub(crate) send_clock: Arc<SendClock>,
    pub(crate) epoch: Instant,
    pub(crate) clock_rate: u32,
    pub(crate) ssrc: u32,
    pub(crate) cname: String,
    pub(crate) codec_payload_type: u8,
    pub(crate) telephone_event_payload_type: u8,
    pub(crate) rtcp_interval: Duration,
    pub(crate) source_timeout: Duration,
}

/// The remote source as the network thread tracks it.
struct RemoteSource {
    ssrc: Option<u32>,
    last_packet: Option<Instant>,
    said_bye: bool,
    dtmf: TelephoneEventReceiver,
}

/// The sockets once in the runtime.
struct Sockets {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl NetworkThread {
    /// Builds the runtime and runs until told to stop (or the owner is gone). The
    /// sockets must be non-blocking.
    pub(crate) fn run(self, rtp: std::net::UdpSocket, rtcp: std::net::UdpSocket) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                tracing::error!(%error, "media network runtime failed to start");
                return;
            }
        };
        runtime.block_on(self.serve(rtp, rtcp));
    }

    async fn serve(mut self, rtp: std::net::UdpSocket, rtcp: std::net::UdpSocket) {
        let sockets = match (UdpSocket::from_std(rtp), UdpSocket::from_std(rtcp)) {
            (Ok(rtp), Ok(rtcp)) => Sockets { rtp, rtcp },
            (Err(error), _) | (_, Err(error)) => {
                tracing::error!(%error, "media sockets unusable");
                return;
            }
        };
        let mut remote = RemoteSource {
            ssrc: None,
            last_packet: None,
            said_bye: false,
            dtmf: TelephoneEventReceiver::new(),
        };
        let mut rtp_buffer = vec![0u8; MAX_DATAGRAM];
        let mut rtcp_buffer = vec![0u8; MAX_DATAGRAM];
        let mut report = Vec::with_capacity(256);
        let mut spread = ReportSpread(u64::from(self.ssrc) | 1);
        let mut next_report =
            tokio::time::Instant::now() + spread.randomise(self.rtcp_interval) / 2;
        loop {
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(NetworkCommand::SetRemote(address)) => self.remote_rtcp = Some(address),
                    Some(NetworkCommand::Stop) | None => break,
                },
                received = sockets.rtp.recv_from(&mut rtp_buffer) => match received {
                    Ok((length, _)) => {
                        let bytes = rtp_buffer.get(..length).unwrap_or_default();
                        if is_rtcp(bytes) {
                            // RTCP multiplexed on the RTP port (RFC 5761 §4).
                            self.receive_rtcp(bytes, &mut remote);
                        } else {
                            self.receive_rtp(bytes, &mut remote);
                        }
                    }
                    Err(error) => tracing::debug!(%error, "RTP receive failed"),
                },
                received = sockets.rtcp.recv_from(&mut rtcp_buffer) => match received {
                    Ok((length, _)) => {
                        let bytes = rtcp_buffer.get(..length).unwrap_or_default();
                        self.receive_rtcp(bytes, &mut remote);
                    }
                    Err(error) => tracing::debug!(%error, "RTCP receive failed"),
                },
                () = tokio::time::sleep_until(next_report) => {
                    next_report += spread.randomise(self.rtcp_interval);
                    self.send_report(&sockets.rtcp, &mut report, remote.ssrc, false).await;
                }
            }
        }
        self.send_report(&sockets.rtcp, &mut report, remote.ssrc, true)
            .await;
        tracing::debug!(ssrc = self.ssrc, "media network thread stopped");
    }

    fn receive_rtp(&mut self, bytes: &[u8], remote: &mut RemoteSource) {
        let now = Instant::now();
        let packet = match RtpPacket::parse(bytes) {
            Ok(packet) => packet,
            Err(error) => {
                bump(&self.statistics.invalid_packets);
                tracing::debug!(%error, length = bytes.len(), "not an RTP packet; dropped");
                return;
            }
        };
        let payload_type = packet.payload_type();
        let is_event = payload_type == self.telephone_event_payload_type;
        if payload_type != self.codec_payload_type
            && !is_event
            && payload_type != COMFORT_NOISE_PAYLOAD_TYPE
        {
            bump(&self.statistics.unknown_payload_type);
            tracing::debug!(payload_type, "RTP payload type not negotiated; dropped");
            return;
        }
        let ssrc = packet.ssrc();
        if remote.ssrc != Some(ssrc) {
            let silent = remote.said_bye
                || remote
                    .last_packet
                    .is_none_or(|last| now.saturating_duration_since(last) >= self.source_timeout);
            if !silent {
                bump(&self.statistics.unknown_ssrc);
                tracing::debug!(ssrc, "RTP from an unknown SSRC; dropped");
                return;
            }
            tracing::info!(ssrc, previous = ?remote.ssrc, "remote RTP source");
            remote.ssrc = Some(ssrc);
            remote.said_bye = false;
            remote.dtmf = TelephoneEventReceiver::new();
            let _ = self.events.send(MediaEvent::RemoteSource { ssrc });
        }
        remote.last_packet = Some(now);
        bump(&self.statistics.packets_received);
        self.statistics
            .octets_received
            .fetch_add(packet.payload().len() as u64, Ordering::Relaxed);
        if is_event {
            match remote.dtmf.receive(packet.timestamp(), packet.payload()) {
                Ok(Some(event)) => {
                    if let Some(digit) = event_to_digit(event.event) {
                        bump(&self.statistics.dtmf_received);
                        let duration = Duration::from_nanos(
                            u64::from(event.duration) * 1_000_000_000
                                / u64::from(self.clock_rate.max(1)),
                        );
                        tracing::debug!(%digit, ?duration, "DTMF received");
                        let _ = self.events.send(MediaEvent::Dtmf { digit, duration });
                    }
                }
                Ok(None) => {}
                Err(_) => bump(&self.statistics.invalid_dtmf),
            }
        }
        // Events go through the jitter buffer too (played as silence), so the sequence
        // stays whole; without their marker, which would restart playout.
        let pushed = if is_event && self.jitter.ssrc() == Some(ssrc) {
            JitterPacket::new(
                packet.sequence(),
                packet.timestamp(),
                false,
                payload_type,
                packet.payload(),
            )
            .and_then(|slot| self.jitter.push_packet(now, slot, false))
        } else {
            self.jitter.push(now, &packet)
        };
        if let Err(error) = pushed {
            bump(&self.statistics.jitter_buffer_rejected);
            tracing::debug!(%error, "jitter buffer refused a packet");
        }
        let receiver = self.jitter.statistics();
        self.statistics
            .packets_expected
            .store(u64::from(receiver.expected()), Ordering::Relaxed);
        self.statistics.packets_lost.store(
            i64::from(receiver.cumulative_lost()) as u64,
            Ordering::Relaxed,
        );
        self.statistics
            .jitter_nanos
            .store(nanos(receiver.jitter_duration()), Ordering::Relaxed);
    }

    fn receive_rtcp(&mut self, bytes: &[u8], remote: &mut RemoteSource) {
        let now = Instant::now();
        let mut read_any = false;
        for packet in RtcpCompound::new(bytes) {
            let packet = match packet {
                Ok(packet) => packet,
                Err(error) => {
                    bump(&self.statistics.rtcp_invalid);
                    tracing::debug!(%error, "bad RTCP packet; rest of the compound dropped");
                    break;
                }
            };
            read_any = true;
            match packet {
                RtcpPacket::SenderReport(report) => {
                    if remote.ssrc == Some(report.ssrc) {
                        self.jitter
                            .statistics_mut()
                            .on_sender_report(now, report.info.ntp_timestamp);
                    }
                    report
                        .report_blocks()
                        .for_each(|block| self.on_report_block(&block));
                }
                RtcpPacket::ReceiverReport(report) => report
                    .report_blocks()
                    .for_each(|block| self.on_report_block(&block)),
                RtcpPacket::Bye(bye) => {
                    if let Some(ssrc) = remote.ssrc
                        && bye.sources().any(|source| source == ssrc)
                        && !remote.said_bye
                    {
                        remote.said_bye = true;
                        tracing::info!(ssrc, "remote RTP source said BYE");
                        let _ = self.events.send(MediaEvent::RemoteBye { ssrc });
                    }
                }
                _ => {}
            }
        }
        if read_any {
            bump(&self.statistics.rtcp_received);
        }
    }

    /// A report block about our stream: round-trip time and the remote's loss.
    fn on_report_block(&self, block: &crate::rtp::ReportBlock) {
        if block.ssrc != self.ssrc {
            return;
        }
        if let Some(round_trip) = round_trip_time(wall_clock(), block) {
            self.statistics
                .round_trip_nanos
                .store(nanos(round_trip), Ordering::Relaxed);
        }
        self.statistics
            .remote_lost
            .store(i64::from(block.cumulative_lost) as u64, Ordering::Relaxed);
        self.statistics
            .remote_fraction_lost
            .store(u32::from(block.fraction_lost), Ordering::Relaxed);
    }

    /// Sends an SR (if we have sent RTP) or RR, then SDES, and a BYE when `bye`.
    async fn send_report(
        &mut self,
        socket: &UdpSocket,
        buffer: &mut Vec<u8>,
        remote_ssrc: Option<u32>,
        bye: bool,
    ) {
        let Some(destination) = self.remote_rtcp else {
            return;
        };
        let now = Instant::now();
        buffer.clear();
        let blocks: Vec<_> = remote_ssrc
            .filter(|_| self.jitter.statistics().received() > 0)
            .map(|ssrc| self.jitter.statistics_mut().report_block(now, ssrc))
            .into_iter()
            .collect();
        let packets = self.statistics.packets_sent.load(Ordering::Relaxed);
        let written = if packets > 0 {
            let info = SenderInfo {
                ntp_timestamp: wall_clock(),
                rtp_timestamp: self.rtp_timestamp_at(now),
                packet_count: packets as u32,
                octet_count: self.statistics.octets_sent.load(Ordering::Relaxed) as u32,
            };
            write_sender_report(self.ssrc, &info, &blocks, buffer)
        } else {
            write_receiver_report(self.ssrc, &blocks, buffer)
        };
        let items = [SdesItem {
            item_type: SdesItemType::Cname,
            text: self.cname.as_bytes(),
        }];
        let written = written
            .and_then(|()| write_source_description(&[(self.ssrc, &items)], buffer))
            .and_then(|()| {
                if bye {
                    write_bye(&[self.ssrc], None, buffer)
                } else {
                    Ok(())
                }
            });
        if let Err(error) = written {
            tracing::error!(%error, "RTCP report could not be written");
            return;
        }
        match socket.send_to(buffer, destination).await {
            Ok(_) => bump(&self.statistics.rtcp_sent),
            Err(error) => tracing::debug!(%error, %destination, "RTCP send failed"),
        }
    }

    /// Our RTP timestamp at `now`, from the media thread's latest tick.
    fn rtp_timestamp_at(&self, now: Instant) -> u32 {
        let timestamp = self.send_clock.timestamp.load(Ordering::Relaxed);
        let at = Duration::from_nanos(self.send_clock.at_nanos.load(Ordering::Relaxed));
        let elapsed = now.saturating_duration_since(self.epoch).saturating_sub(at);
        let units = elapsed.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000;
        timestamp.wrapping_add(units as u32)
    }
}

/// Spreads report times over 0.5 to 1.5 times the interval, so that sessions started
/// together do not report in step (RFC 3550 §6.3.1). A xorshift generator seeded by the
/// SSRC, which is itself random.
struct ReportSpread(u64);

impl ReportSpread {
    fn randomise(&mut self, interval: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // A factor from 0.5 to 1.5 in 1/1024 steps.
        let factor = 512 + (self.0 % 1024) as u32;
        interval * factor / 1024
    }
}

/// Whether a datagram on the RTP port is RTCP: packet types 200-204 sit where RTP's
/// marker bit and payload types 72-76 would (RFC 5761 §4).
fn is_rtcp(bytes: &[u8]) -> bool {
    bytes
        .get(1)
        .is_some_and(|second| (200..=204).contains(second))
}

/// The wall clock as an NTP timestamp.
fn wall_clock() -> NtpTimestamp {
    NtpTimestamp::from_unix(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_times_spread_over_half_to_one_and_a_half_intervals() {
        let mut spread = ReportSpread(0x1234_5679);
        let interval = Duration::from_secs(5);
        let times: Vec<Duration> = (0..1000).map(|_| spread.randomise(interval)).collect();
        assert!(times.iter().all(|time| *time >= interval / 2));
        assert!(times.iter().all(|time| *time < interval * 3 / 2));
        let mean = times.iter().sum::<Duration>() / 1000;
        assert!(
            mean.abs_diff(interval) < Duration::from_millis(200),
            "{mean:?}"
        );
        assert!(times.windows(2).any(|pair| pair[0] != pair[1]));
    }

    #[test]
    fn rtcp_is_told_from_rtp_by_its_packet_type() {
        assert!(is_rtcp(&[0x80, 200, 0, 6]));
        assert!(is_rtcp(&[0x81, 203, 0, 1]));
        assert!(!is_rtcp(&[0x80, 0, 0, 1]));
        assert!(!is_rtcp(&[0x80, 0x80 | 101, 0, 1]));
        assert!(!is_rtcp(&[0x80]));
    }
}

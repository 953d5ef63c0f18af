//! Media sessions on real loopback UDP: a 1 kHz tone from the tone port -> G.711 -> RTP
//! through a relay that drops 10 % and delays 0-60 ms (seeded) -> jitter buffer -> WAV
//! port, checked with Goertzel and against the relay's own loss count; DTMF digits sent
//! are the digits received; garbage is counted and dropped; the media thread allocates
//! nothing per frame.
// The relay and the waits read the wall clock; the ban is for the engine.
#![allow(clippy::disallowed_methods)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ims_core::media::audio_config::{AudioInput, AudioOutput, AudioPortConfig};
use ims_core::media::port::{AudioSource, NullPort, ToneGenerator, tone_power_ratio};
use ims_core::media::session::{
    MediaEvent, MediaSession, MediaSessionConfig, MediaStatistics, SessionCodec,
};
use ims_core::media::wav::WavSink;
use ims_core::rtp::{JitterConfig, RtpHeader};

struct Counting;

// Set on the one thread whose allocations count: the media thread, by its source.
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static MEDIA_THREAD_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

fn count_one() {
    // try_with: the thread-local may be gone while a thread shuts down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        MEDIA_THREAD_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A tone that, after `warm_up` frames, turns on allocation counting for the thread it
/// is read on: the media thread.
struct CountingTone {
    tone: ToneGenerator,
    frames: u32,
    warm_up: u32,
}

impl AudioSource for CountingTone {
    fn sample_rate(&self) -> u32 {
        8000
    }

    fn read(&mut self, frame: &mut [i16]) -> usize {
        self.frames += 1;
        if self.frames == self.warm_up {
            COUNTING.with(|counting| counting.set(true));
            // One allocation on purpose: proves the counter sees this thread.
            std::hint::black_box(Box::new(self.frames));
        }
        self.tone.read(frame)
    }
}

/// A small seeded generator (xorshift64*) so the relay's choices repeat.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}

/// What a relay did.
#[derive(Debug, Default, Clone, Copy)]
struct RelayCount {
    received: u64,
    dropped: u64,
    forwarded: u64,
}

/// A UDP forwarder: every datagram it receives goes to `target`, unless dropped (with
/// probability `loss_percent` %), after a delay drawn from 0..=`max_delay_ms`.
struct Relay {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<RelayCount>>,
}

impl Relay {
    fn start(target: SocketAddr, loss_percent: u64, max_delay_ms: u64, seed: u64) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut random = Random(seed);
            let mut count = RelayCount::default();
            let mut queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>> = BinaryHeap::new();
            let mut buffer = [0u8; 2048];
            let mut order = 0u64;
            loop {
                let now = Instant::now();
                while let Some(Reverse((due, _, _))) = queue.peek()
                    && *due <= now
                {
                    let Some(Reverse((_, _, datagram))) = queue.pop() else {
                        break;
                    };
                    socket.send_to(&datagram, target).unwrap();
                    count.forwarded += 1;
                }
                if stopping.load(Ordering::Relaxed) && queue.is_empty() {
                    return count;
                }
                let wait = queue
                    .peek()
                    .map_or(Duration::from_millis(5), |Reverse((due, _, _))| {
                        due.saturating_duration_since(now)
                    })
                    .clamp(Duration::from_micros(200), Duration::from_millis(5));
                socket.set_read_timeout(Some(wait)).unwrap();
                if let Ok((length, _)) = socket.recv_from(&mut buffer) {
                    count.received += 1;
                    if random.below(100) < loss_percent {
                        count.dropped += 1;
                        continue;
                    }
                    let delay = Duration::from_millis(random.below(max_delay_ms + 1));
                    order += 1;
                    queue.push(Reverse((
                        Instant::now() + delay,
                        order,
                        buffer[..length].to_vec(),
                    )));
                }
            }
        });
        Self {
            address,
            stop,
            thread: Some(thread),
        }
    }

    /// Forwards what is still queued, then stops and returns the counts.
    fn stop(mut self) -> RelayCount {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

fn config() -> MediaSessionConfig {
    MediaSessionConfig {
        rtcp_interval: Duration::from_millis(400),
        jitter: JitterConfig {
            maximum_delay: Duration::from_millis(160),
            ..JitterConfig::default()
        },
        ..MediaSessionConfig::default()
    }
}

/// Waits until `done` holds for the session's statistics, up to `timeout`.
fn wait_for(
    session: &MediaSession,
    timeout: Duration,
    done: impl Fn(&MediaStatistics) -> bool,
) -> MediaStatistics {
    let deadline = Instant::now() + timeout;
    loop {
        let statistics = session.statistics();
        if done(&statistics) || Instant::now() > deadline {
            return statistics;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn events(session: &mut MediaSession) -> Vec<MediaEvent> {
    std::iter::from_fn(|| session.try_event()).collect()
}

/// The signal-to-noise ratio of `frequency` in `samples`, in dB.
fn snr_db(samples: &[i16], frequency: f32) -> f64 {
    let ratio = f64::from(tone_power_ratio(samples, frequency, 8000)).min(0.999_999);
    10.0 * (ratio / (1.0 - ratio)).log10()
}

/// The tone comes through 10 % loss and 0-60 ms jitter with an SNR of at least 20 dB
/// (repeat-and-fade concealment of the lost 10 % and the resampled phase jumps are the
/// noise), and the receiver's RTCP loss count equals what the relay dropped, within 2
/// packets (drops after the last packet that arrived are not yet known to be losses).
#[test]
fn tone_crosses_a_lossy_jittery_relay() {
    const SNR_THRESHOLD_DB: f64 = 20.0;
    const LOSS_TOLERANCE_PACKETS: i64 = 2;
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("received.wav");

    let mut receiver = MediaSession::start(
        config(),
        Box::new(NullPort::new(8000)),
        Box::new(WavSink::create(&recording, 8000).unwrap()),
    )
    .unwrap();
    let relay = Relay::start(receiver.local_rtp(), 10, 60, 0x5EED_0001);
    let sender = MediaSession::start(
        MediaSessionConfig {
            remote_rtp: Some(relay.address),
            remote_rtcp: Some(receiver.local_rtcp()),
            ..config()
        },
        Box::new(ToneGenerator::new(1000.0, 10_000, 8000)),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    // The receiver's reports (and its silence) go straight back to the sender.
    receiver.set_remote(sender.local_rtp(), None).unwrap();

    std::thread::sleep(Duration::from_secs(4));
    let sent = sender.statistics();
    let sender_ssrc = sender.ssrc();
    let sent_final = sender.stop();
    let relayed = relay.stop();
    let received = wait_for(&receiver, Duration::from_secs(1), |statistics| {
        statistics.packets_received >= relayed.forwarded
    });
    std::thread::sleep(Duration::from_millis(100));
    let receiver_events = events(&mut receiver);
    let received_final = receiver.stop();
    eprintln!("relay {relayed:?}");
    eprintln!("sender {sent_final:?}");
    eprintln!("receiver {received_final:?}");

    // The relay did what it was asked: about 10 % of what the sender sent.
    assert_eq!(relayed.received, sent_final.packets_sent);
    let injected = relayed.dropped as f64 / relayed.received as f64;
    assert!((0.06..=0.14).contains(&injected), "{relayed:?}");
    // Everything forwarded arrived, and nothing was unexpected.
    assert_eq!(received.packets_received, relayed.forwarded);
    assert_eq!(received.invalid_packets + received.unknown_ssrc, 0);
    assert_eq!(received.unknown_payload_type, 0);
    // RTCP's cumulative loss is the relay's drop count.
    let lost = received.packets_lost;
    assert!(
        (lost - relayed.dropped as i64).abs() <= LOSS_TOLERANCE_PACKETS,
        "lost {lost}, dropped {}",
        relayed.dropped
    );
    // The jitter buffer concealed them: its losses plus late packets are the drops,
    // within 3 % of the stream (packets later than the adapted delay are dropped too,
    // and the relay's delays are real time on a shared machine).
    let buffer = received.jitter_buffer;
    let missing = buffer.lost + buffer.late;
    let tolerance = relayed.received * 3 / 100 + 2;
    assert!(
        missing.abs_diff(relayed.dropped) <= tolerance,
        "{buffer:?}, dropped {}",
        relayed.dropped
    );
    assert!(buffer.concealed >= buffer.lost, "{buffer:?}");
    // RTCP both ways: the receiver's reports gave the sender a round-trip time and its
    // view of the loss; the sender's BYE reached the receiver.
    let round_trip = sent.round_trip_time.expect("no round-trip time from RTCP");
    assert!(round_trip < Duration::from_millis(200), "{round_trip:?}");
    assert!(sent.remote_packets_lost.is_some(), "{sent:?}");
    assert!(sent.rtcp_sent >= 4 && received_final.rtcp_received >= 4);
    assert!(receiver_events.contains(&MediaEvent::RemoteSource { ssrc: sender_ssrc }));
    assert!(
        receiver_events.contains(&MediaEvent::RemoteBye { ssrc: sender_ssrc }),
        "{receiver_events:?}"
    );

    // The tone is in the recording.
    let samples: Vec<i16> = hound::WavReader::open(&recording)
        .unwrap()
        .into_samples::<i16>()
        .map(Result::unwrap)
        .collect();
    assert!(samples.len() >= 8000 * 3, "{} samples", samples.len());
    let steady = &samples[4000..samples.len() - 4000];
    let snr = snr_db(steady, 1000.0);
    let without_tone = snr_db(steady, 1400.0);
    eprintln!("1 kHz SNR {snr:.1} dB (1.4 kHz: {without_tone:.1} dB)");
    assert!(snr >= SNR_THRESHOLD_DB, "1 kHz SNR {snr:.1} dB");
    assert!(without_tone < 0.0, "1.4 kHz SNR {without_tone:.1} dB");
}

#[test]
fn dtmf_digits_sent_are_the_digits_received() {
    let digits = "0123456789*#ABCD";
    let mut receiver = MediaSession::start(
        config(),
        Box::new(NullPort::new(8000)),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    // Reordering and delay, no loss: with loss an event whose three end packets all
    // vanish is not reported, which RFC 4733 accepts.
    let relay = Relay::start(receiver.local_rtp(), 0, 60, 0x5EED_0002);
    let mut sender = MediaSession::start(
        MediaSessionConfig {
            remote_rtp: Some(relay.address),
            remote_rtcp: Some(receiver.local_rtcp()),
            ..config()
        },
        Box::new(ToneGenerator::new(1000.0, 10_000, 8000)),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    sender.send_dtmf(digits).unwrap();
    assert!(sender.send_dtmf("12x").is_err(), "x is not a digit");

    let mut received = String::new();
    let mut durations = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(8);
    while received.len() < digits.len() && Instant::now() < deadline {
        match receiver.try_event() {
            Some(MediaEvent::Dtmf { digit, duration }) => {
                received.push(digit);
                durations.push(duration);
            }
            Some(_) => {}
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    // The last digit's redundant end packets follow the first one received.
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut sent_all = false;
    while !sent_all && Instant::now() < deadline {
        match sender.try_event() {
            Some(event) => sent_all = event == MediaEvent::DtmfSent,
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let sent = sender.stop();
    relay.stop();
    let statistics = receiver.stop();
    eprintln!("received {received:?}, receiver {statistics:?}");
    assert_eq!(received, digits);
    assert!(
        durations
            .iter()
            .all(|duration| *duration == Duration::from_millis(100)),
        "{durations:?}"
    );
    assert!(sent_all, "no DtmfSent event");
    assert_eq!(statistics.dtmf_received, 16);
    assert_eq!(statistics.invalid_dtmf, 0);
    assert!(sent.packets_sent > 16 * 8);
}

#[test]
fn garbage_is_counted_and_dropped() {
    let session = MediaSession::start(
        config(),
        Box::new(NullPort::new(8000)),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    let rtp = session.local_rtp();
    let rtcp = session.local_rtcp();
    assert_eq!(rtp.port() % 2, 0);
    assert_eq!(rtcp.port(), rtp.port() + 1);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let packet = |payload_type: u8, sequence: u16, ssrc: u32, payload: &[u8]| {
        let mut datagram = Vec::new();
        RtpHeader {
            payload_type,
            sequence,
            timestamp: u32::from(sequence) * 160,
            ssrc,
            ..RtpHeader::default()
        }
        .write(payload, 0, &mut datagram)
        .unwrap();
        datagram
    };
    let send = |to: SocketAddr, bytes: &[u8]| {
        peer.send_to(bytes, to).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    };
    // Not RTP: too short, wrong version, empty.
    send(rtp, &[0x80, 0x00, 0x01]);
    send(rtp, &[0x40; 20]);
    send(rtp, &[]);
    // RTP of a payload type nobody negotiated.
    send(rtp, &packet(99, 1, 0xAAAA, &[0; 160]));
    // The first real packet picks the source; another SSRC right after is dropped.
    send(rtp, &packet(0, 2, 0xAAAA, &[0xFF; 160]));
    send(rtp, &packet(0, 3, 0xBBBB, &[0xFF; 160]));
    // A payload larger than a jitter buffer slot.
    send(rtp, &packet(0, 4, 0xAAAA, &[0xFF; 1200]));
    // A telephone-event payload too short to read.
    send(rtp, &packet(101, 5, 0xAAAA, &[1, 2]));
    // RTCP that does not parse: truncated header, a length past the end.
    send(rtcp, &[0x80]);
    send(rtcp, &[0x80, 201, 0x00, 0x09, 0, 0, 0, 1]);

    let statistics = wait_for(&session, Duration::from_secs(2), |statistics| {
        statistics.rtcp_invalid >= 2 && statistics.invalid_dtmf >= 1
    });
    eprintln!("{statistics:?}");
    assert_eq!(statistics.invalid_packets, 3);
    assert_eq!(statistics.unknown_payload_type, 1);
    assert_eq!(statistics.unknown_ssrc, 1);
    assert_eq!(statistics.jitter_buffer_rejected, 1);
    assert_eq!(statistics.invalid_dtmf, 1);
    assert_eq!(statistics.rtcp_invalid, 2);
    assert_eq!(statistics.packets_received, 3);
    // Still alive: a valid packet is still taken.
    send(rtp, &packet(0, 6, 0xAAAA, &[0xFF; 160]));
    let statistics = wait_for(&session, Duration::from_secs(2), |statistics| {
        statistics.packets_received >= 4
    });
    assert_eq!(statistics.packets_received, 4);
    session.stop();
}

/// A-law at 40 ms per packet, straight from one session to the other: 320-byte payloads,
/// 25 packets a second, and the tone arrives.
#[test]
fn pcma_with_a_40_ms_ptime() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("pcma.wav");
    let pcma = || MediaSessionConfig {
        codec: SessionCodec::Pcma,
        ptime: Duration::from_millis(40),
        ..config()
    };
    let receiver = MediaSession::start(
        pcma(),
        Box::new(NullPort::new(8000)),
        Box::new(WavSink::create(&recording, 8000).unwrap()),
    )
    .unwrap();
    let sender = MediaSession::start(
        MediaSessionConfig {
            remote_rtp: Some(receiver.local_rtp()),
            ..pcma()
        },
        Box::new(ToneGenerator::new(1000.0, 10_000, 8000)),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let sent = sender.stop();
    let received = wait_for(&receiver, Duration::from_secs(1), |statistics| {
        statistics.packets_received >= sent.packets_sent
    });
    receiver.stop();
    assert!((45..=55).contains(&sent.packets_sent), "{sent:?}");
    assert_eq!(sent.octets_sent, sent.packets_sent * 320);
    assert_eq!(received.packets_received, sent.packets_sent);
    assert_eq!(received.packets_lost, 0);
    let samples: Vec<i16> = hound::WavReader::open(&recording)
        .unwrap()
        .into_samples::<i16>()
        .map(Result::unwrap)
        .collect();
    let snr = snr_db(&samples[4000..12_000], 1000.0);
    assert!(snr >= 30.0, "A-law 1 kHz SNR {snr:.1} dB");
}

/// Once running, the media thread sends, receives, decodes, plays and sends DTMF without
/// a single allocation (the one counted is the source's probe that proves the counter).
#[test]
fn the_media_thread_allocates_nothing_per_frame() {
    let mut counted = MediaSession::start(
        config(),
        Box::new(CountingTone {
            tone: ToneGenerator::new(1000.0, 10_000, 8000),
            frames: 0,
            warm_up: 10,
        }),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    let peer = MediaSession::start(
        MediaSessionConfig {
            remote_rtp: Some(counted.local_rtp()),
            ..config()
        },
        Box::new(ToneGenerator::new(600.0, 10_000, 8000)),
        Box::new(NullPort::new(8000)),
    )
    .unwrap();
    counted.set_remote(peer.local_rtp(), None).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    counted.send_dtmf("12").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let allocations = MEDIA_THREAD_ALLOCATIONS.load(Ordering::Relaxed);
    let statistics = counted.statistics();
    let sent_all = events(&mut counted).contains(&MediaEvent::DtmfSent);
    counted.stop();
    peer.stop();
    assert!(statistics.packets_sent >= 60, "{statistics:?}");
    assert!(statistics.jitter_buffer.played >= 50, "{statistics:?}");
    assert!(sent_all, "the DTMF digits were not all sent");
    assert_eq!(
        allocations, 1,
        "allocations on the media thread besides the source's own probe"
    );
}

/// The remote can change mid-session: RTP and RTCP move to the new peer, the old one
/// hears nothing more.
#[test]
fn the_remote_can_change() {
    let null = || Box::new(NullPort::new(8000));
    let first = MediaSession::start(config(), null(), null()).unwrap();
    let second = MediaSession::start(config(), null(), null()).unwrap();
    let sender = MediaSession::start(
        MediaSessionConfig {
            remote_rtp: Some(first.local_rtp()),
            ..config()
        },
        Box::new(ToneGenerator::new(1000.0, 10_000, 8000)),
        null(),
    )
    .unwrap();
    let at_first = wait_for(&first, Duration::from_secs(2), |statistics| {
        statistics.packets_received >= 10 && statistics.rtcp_received >= 1
    });
    assert!(at_first.packets_received >= 10, "{at_first:?}");
    assert!(at_first.rtcp_received >= 1, "{at_first:?}");
    sender.set_remote(second.local_rtp(), None).unwrap();
    let at_second = wait_for(&second, Duration::from_secs(2), |statistics| {
        statistics.packets_received >= 10 && statistics.rtcp_received >= 1
    });
    assert!(at_second.packets_received >= 10, "{at_second:?}");
    assert!(at_second.rtcp_received >= 1, "{at_second:?}");
    // Nothing more reaches the first peer (allow what was in flight at the switch).
    let settled = first.statistics().packets_received;
    std::thread::sleep(Duration::from_millis(300));
    assert!(first.statistics().packets_received <= settled + 1);
    sender.stop();
    first.stop();
    second.stop();
}

/// Ports chosen by config: a WAV file in (0.4 s of tone, then the session says the input
/// ended and sends silence), a WAV file out at the other end.
#[test]
fn wav_ports_chosen_by_config() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.wav");
    let output = dir.path().join("output.wav");
    let mut tone = ToneGenerator::new(1000.0, 10_000, 8000);
    let mut samples = [0i16; 3200];
    tone.read(&mut samples);
    let mut writer = WavSink::create(&input, 8000).unwrap();
    ims_core::media::port::AudioSink::write(&mut writer, &samples);
    writer.finish().unwrap();

    let receiver = MediaSession::start_with_ports(
        config(),
        &AudioPortConfig {
            input: AudioInput::Null,
            output: AudioOutput::Wav {
                path: output.clone(),
            },
        },
    )
    .unwrap();
    let mut sender = MediaSession::start_with_ports(
        MediaSessionConfig {
            remote_rtp: Some(receiver.local_rtp()),
            ..config()
        },
        &AudioPortConfig {
            input: AudioInput::Wav {
                path: input.clone(),
            },
            output: AudioOutput::Null,
        },
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut ended = false;
    while !ended && Instant::now() < deadline {
        match sender.try_event() {
            Some(event) => ended = event == MediaEvent::InputEnded,
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    sender.stop();
    receiver.stop();
    assert!(ended, "no InputEnded event");
    let recorded: Vec<i16> = hound::WavReader::open(&output)
        .unwrap()
        .into_samples::<i16>()
        .map(Result::unwrap)
        .collect();
    // Silence, the tone, silence: the tone is clean where it plays.
    let start = recorded
        .iter()
        .position(|sample| sample.abs() > 1000)
        .expect("no tone recorded");
    let snr = snr_db(&recorded[start + 400..start + 2400], 1000.0);
    assert!(snr >= 30.0, "1 kHz SNR {snr:.1} dB");
    let loud = recorded.iter().filter(|sample| sample.abs() > 1000).count();
    assert!((2000..=3400).contains(&loud), "{loud} loud samples");
}

#[test]
fn a_session_refuses_bad_settings() {
    let null = || Box::new(NullPort::new(8000));
    let odd = MediaSessionConfig {
        rtp_port: 40_001,
        ..MediaSessionConfig::default()
    };
    assert!(MediaSession::start(odd, null(), null()).is_err());
    let ptime = MediaSessionConfig {
        ptime: Duration::from_millis(5),
        ..MediaSessionConfig::default()
    };
    assert!(MediaSession::start(ptime, null(), null()).is_err());
    let wideband = Box::new(NullPort::new(16_000));
    assert!(MediaSession::start(MediaSessionConfig::default(), wideband, null()).is_err());
}

//! The audio path allocates nothing: RTP parse and write to a slice, jitter buffer push
//! and pull, G.711 encode and decode, and playout decoding, counted by a global
//! allocator. Counted per thread.
// Instant has no constructor but now(): the test takes one base and offsets it.
#![allow(clippy::disallowed_methods)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use ims_core::media::codec::{Codec, MuLaw};
use ims_core::media::playout::{Concealment, FrameDecoder};
use ims_core::rtp::{JitterConfig, RtpHeader, RtpPacket, jitter_buffer};

struct Counting;

// Per thread, so the test harness's own threads do not count.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // try_with: the thread-local may be gone while a thread shuts down.
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwards the caller's layout unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `System.alloc` with this layout, via `alloc` above.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_audio_path_does_not_allocate() {
    let (mut producer, mut consumer) = jitter_buffer(&JitterConfig::default());
    let mut decoder = FrameDecoder::new(MuLaw, Concealment::RepeatFade);
    let mut encoder = MuLaw;
    let start = Instant::now();
    let mut datagram = [0u8; 1500];
    let mut pcm = [0i16; 160];
    let mut payload = [0u8; 160];
    let before = ALLOCATIONS.with(Cell::get);
    for index in 0..10_000u32 {
        for (offset, sample) in pcm.iter_mut().enumerate() {
            *sample = ((index as usize * 160 + offset) % 200) as i16 * 100;
        }
        encoder.encode(&pcm, &mut payload).unwrap();
        let length = RtpHeader {
            sequence: index as u16,
            timestamp: index * 160,
            ssrc: 7,
            ..RtpHeader::default()
        }
        .write_to_slice(&payload, 0, &mut datagram)
        .unwrap();
        // Reorder pairs and drop every 13th, to exercise the window and concealment.
        if index % 13 != 0 {
            let packet = RtpPacket::parse(&datagram[..length]).unwrap();
            let now = start + Duration::from_millis(u64::from(index) * 20);
            producer.push(now, &packet).unwrap();
        }
        let playout = consumer.pull();
        decoder.render(playout, &mut pcm);
    }
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(allocations, 0);
    assert!(consumer.statistics().played > 9000);
}

//! Loom model of the jitter buffer's lock-free hand-off (`core/src/rtp/jitter/ring.rs`,
//! compiled here against loom's atomics, `Arc` and `UnsafeCell`): loom runs every
//! interleaving of the producer and consumer threads that the C11 memory model allows
//! and fails on a data race on a slot (a read not ordered after the write it reads, or
//! a write while the other side may read), on a lost, repeated or reordered value, and
//! on a torn one.
//!
//! The ring in the library is the same file with std's primitives; this test needs no
//! `--cfg loom`.

/// The primitives `ring.rs` takes from `super::sync`, from loom.
mod sync {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
}

#[allow(dead_code, unreachable_pub)]
#[path = "../src/rtp/jitter/ring.rs"]
mod ring;

use loom::thread;

fn push(producer: &mut ring::RingProducer<[u64; 3]>, value: [u64; 3]) -> bool {
    producer.push_with(|slot| *slot = value)
}

/// Everything one `drain_with` reads, in order.
fn drain(consumer: &mut ring::RingConsumer<[u64; 3]>) -> Vec<[u64; 3]> {
    let mut values = Vec::new();
    let count = consumer.drain_with(|slot| values.push(*slot));
    assert_eq!(count, values.len());
    values
}

/// A value big enough to tear if a read raced a write: every word derives from the first.
fn item(value: u64) -> [u64; 3] {
    [value, !value, value.wrapping_mul(0x9E37_79B9_7F4A_7C15)]
}

/// `values` values through a ring of `capacity` slots; the producer retries while full,
/// the consumer polls while empty (loom yields on each retry). Interleavings with up
/// to `preemptions` forced thread switches are explored (`None`: all of them).
fn hand_over(capacity: usize, values: u64, preemptions: Option<usize>) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemptions;
    builder.check(move || {
        let (mut producer, mut consumer) = ring::ring::<[u64; 3]>(capacity, [0; 3]);
        let writer = thread::spawn(move || {
            for value in 0..values {
                while !push(&mut producer, item(value)) {
                    thread::yield_now();
                }
            }
        });
        let mut expected = 0;
        while expected < values {
            let batch = drain(&mut consumer);
            if batch.is_empty() {
                thread::yield_now();
            }
            for got in batch {
                assert_eq!(got, item(expected), "value {expected}");
                expected += 1;
            }
        }
        writer.join().expect("the producer thread");
        assert!(drain(&mut consumer).is_empty());
    });
}

#[test]
fn one_slot_ring_hands_over_three_values() {
    // Every push after the first waits for the consumer to free the only slot.
    hand_over(1, 3, None);
}

#[test]
fn two_slot_ring_wraps_around() {
    // Three values through two slots: both indices wrap past the slot count, and the
    // producer's cached head goes stale and is reloaded. Unbounded, this model runs
    // for many minutes; three preemptions cover the races of one wrap.
    hand_over(2, 3, Some(3));
}

#[test]
fn a_full_ring_refuses_without_touching_the_slot_being_read() {
    loom::model(|| {
        let (mut producer, mut consumer) = ring::ring::<[u64; 3]>(1, [0; 3]);
        assert!(push(&mut producer, item(1)), "an empty ring takes a value");
        let reader = thread::spawn(move || {
            let first = drain(&mut consumer);
            (first, consumer)
        });
        // Races the drain: either refused (the slot is still being read) or accepted
        // after it was freed; never a write into the slot under the reader.
        let second = push(&mut producer, item(2));
        let (first, mut consumer) = reader.join().expect("the consumer thread");
        assert_eq!(first, [item(1)]);
        let rest: &[[u64; 3]] = if second { &[item(2)] } else { &[] };
        assert_eq!(drain(&mut consumer), rest);
    });
}

/// The jitter buffer's buffer exchange (`core/src/rtp/jitter/consumer.rs`, `accept`): a
/// ring slot owns a buffer, which the producer fills in place; the consumer keeps a
/// packet by swapping the slot's buffer for a free one of its own, so the slot goes back
/// to the producer with a different buffer, and drops a packet (late or duplicate) by
/// leaving the slot's buffer where it is. The buffers are loom cells, so loom checks that
/// the producer's next write of a buffer is ordered after the consumer's reads of it,
/// whichever slot it comes back through.
struct Exchanged {
    sequence: u64,
    buffer: Box<loom::cell::UnsafeCell<[u64; 3]>>,
}

impl Clone for Exchanged {
    /// A fresh buffer: `ring` clones its fill value once per slot, and no two slots may
    /// share a buffer.
    fn clone(&self) -> Self {
        Self::fresh()
    }
}

impl Exchanged {
    fn fresh() -> Self {
        Self {
            sequence: u64::MAX,
            buffer: Box::new(loom::cell::UnsafeCell::new([0; 3])),
        }
    }
}

/// Writes `value` into a buffer its caller owns.
#[allow(unsafe_code)]
fn write_buffer(buffer: &loom::cell::UnsafeCell<[u64; 3]>, value: [u64; 3]) {
    // SAFETY: the caller owns the buffer (through the ring slot it fills); loom fails
    // the test if another thread's access to it is not ordered with this one.
    buffer.with_mut(|pointer| unsafe { *pointer = value });
}

/// Reads a buffer its caller owns.
#[allow(unsafe_code)]
fn read_buffer(buffer: &loom::cell::UnsafeCell<[u64; 3]>) -> [u64; 3] {
    // SAFETY: as in `write_buffer`.
    buffer.with(|pointer| unsafe { *pointer })
}

/// `values` values through a ring of `capacity` slots with the buffer exchange; the
/// consumer keeps the even values (a swap) and drops the odd ones (the buffer stays in
/// its slot), reading each kept buffer once more after the swap, as playout does.
fn exchange(capacity: usize, values: u64, preemptions: Option<usize>) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemptions;
    builder.check(move || {
        let (mut producer, mut consumer) = ring::ring(capacity, Exchanged::fresh());
        let writer = thread::spawn(move || {
            for value in 0..values {
                while !producer.push_with(|slot| {
                    write_buffer(&slot.buffer, item(value));
                    slot.sequence = value;
                }) {
                    thread::yield_now();
                }
            }
        });
        let mut spare = Box::new(loom::cell::UnsafeCell::new([0; 3]));
        let mut expected = 0;
        while expected < values {
            let mut kept = Vec::new();
            let count = consumer.drain_with(|slot| {
                assert_eq!(slot.sequence, expected);
                assert_eq!(
                    read_buffer(&slot.buffer),
                    item(expected),
                    "value {expected}"
                );
                if expected % 2 == 0 {
                    std::mem::swap(&mut slot.buffer, &mut spare);
                    kept.push(expected);
                }
                expected += 1;
            });
            if count == 0 {
                thread::yield_now();
            }
            // Playout: the kept buffer is read again after its slot went back to the
            // producer; it becomes the spare for the next swap.
            if let Some(value) = kept.last() {
                assert_eq!(read_buffer(&spare), item(*value));
            }
        }
        writer.join().expect("the producer thread");
    });
}

#[test]
fn one_slot_ring_exchanges_buffers_and_drops_in_turn() {
    // Every push after the first reuses the only slot; its buffer alternates between
    // the one the consumer swapped in and the one it left (a dropped packet).
    exchange(1, 4, None);
}

#[test]
fn two_slot_ring_exchanges_buffers_across_a_wrap() {
    // Five values through two slots: each slot is refilled twice, once with the
    // buffer the consumer handed back and once after a drop.
    exchange(2, 5, Some(3));
}

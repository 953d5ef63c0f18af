//! The lock-free hand-off between the network task and the audio callback: a bounded
//! single-producer single-consumer ring of values that stay in their slots.
//!
//! The slots are initialised once, when the ring is made; a push fills one in place and
//! the consumer reads them in place (`push_with`, `drain_with`), so a large value with a
//! short used part (a packet slot) costs only the bytes written and read, not a copy of
//! the whole value through the ring. The consumer may also change the value it reads
//! (the jitter buffer swaps the packet buffer out of the slot for an empty one), and the
//! producer's next fill of that slot sees the change.
//!
//! Each side owns one index and only reads the other's: the producer writes a slot, then
//! publishes it by storing the tail with `Release`; the consumer loads the tail with
//! `Acquire` before reading the slots up to it, and frees each slot once read by storing
//! the head past it with `Release`, which the producer loads with `Acquire` before
//! writing the slot again. The producer caches the head and reloads it only when the
//! ring looks full, so a push touches the consumer's cache line only then; the consumer
//! takes everything published at once, with one load of the tail however many values
//! it reads.
//!
//! The atomics and cells come from `super::sync`: std's in the library, loom's in the
//! model test (`core/tests/jitter_ring_loom.rs`), which compiles this same file.
// The slots are `UnsafeCell`s shared by two threads; the index protocol above decides
// which side may touch each slot, and the loom model test checks it.
#![allow(unsafe_code)]

use super::sync::{Arc, AtomicUsize, Ordering, UnsafeCell};

/// An index on its own cache line, so the producer's and consumer's stores do not
/// contend for one line.
#[repr(align(64))]
struct Padded(AtomicUsize);

struct Shared<T> {
    /// `capacity` rounded up to a power of two: index `i` lives in slot `i & mask`, so
    /// neither side keeps a slot position beside its index or divides, and the indices
    /// may wrap around `usize` (whose range the slot count divides).
    slots: Box<[UnsafeCell<T>]>,
    /// The next index the consumer reads; written by the consumer only.
    head: Padded,
    /// The next index the producer writes; written by the producer only.
    tail: Padded,
}

// SAFETY: the slots are only reached through `RingProducer` and `RingConsumer`, one
// of each; the head/tail protocol (module docs) gives each slot to one side at a time,
// with a release/acquire pair between a write and the read of it, and `T: Send` lets
// the value cross threads.
unsafe impl<T: Send> Sync for Shared<T> {}

/// Creates a ring holding up to `capacity` values (at least 1), each slot set to a clone
/// of `fill`.
pub(crate) fn ring<T: Clone + Send>(
    capacity: usize,
    fill: T,
) -> (RingProducer<T>, RingConsumer<T>) {
    let capacity = capacity.max(1);
    // Past usize::MAX / 2 values no allocation could succeed anyway.
    let length = capacity
        .checked_next_power_of_two()
        .unwrap_or(1 << (usize::BITS - 1));
    let slots = (0..length).map(|_| UnsafeCell::new(fill.clone())).collect();
    let shared = Arc::new(Shared {
        slots,
        head: Padded(AtomicUsize::new(0)),
        tail: Padded(AtomicUsize::new(0)),
    });
    let mask = length - 1;
    (
        RingProducer {
            shared: Arc::clone(&shared),
            tail: 0,
            cached_head: 0,
            capacity,
            mask,
        },
        RingConsumer {
            shared,
            head: 0,
            mask,
        },
    )
}

/// The writing end of a [`ring`].
pub(crate) struct RingProducer<T> {
    shared: Arc<Shared<T>>,
    tail: usize,
    cached_head: usize,
    /// The most values the ring holds (the slot count may be larger).
    capacity: usize,
    mask: usize,
}

impl<T> RingProducer<T> {
    /// Fills the next free slot in place with `fill` (which sees the slot's old value)
    /// and publishes it; says `false`, without calling `fill`, when the ring is full.
    /// Wait-free.
    pub(crate) fn push_with(&mut self, fill: impl FnOnce(&mut T)) -> bool {
        if self.is_full() {
            return false;
        }
        let Some(slot) = self.shared.slots.get(self.tail & self.mask) else {
            return false;
        };
        // SAFETY: `tail - head < capacity` (checked above), so the consumer has freed
        // this slot: its Release store of a head past it, which `is_full` loaded with
        // Acquire (now or earlier), came after its last read of it; and it will not read
        // the slot again before our Release store of the new tail below. So this is the
        // only reference to the slot while `fill` runs. (Slot `i & mask` holds index
        // `i`; no two of the `capacity` indices from head to tail share a slot, since
        // the slot count is at least `capacity`.)
        slot.with_mut(|pointer| fill(unsafe { &mut *pointer }));
        self.tail = self.tail.wrapping_add(1);
        self.shared.tail.0.store(self.tail, Ordering::Release);
        true
    }

    fn is_full(&mut self) -> bool {
        if self.tail.wrapping_sub(self.cached_head) < self.capacity {
            return false;
        }
        self.cached_head = self.shared.head.0.load(Ordering::Acquire);
        self.tail.wrapping_sub(self.cached_head) >= self.capacity
    }
}

/// The reading end of a [`ring`].
pub(crate) struct RingConsumer<T> {
    shared: Arc<Shared<T>>,
    head: usize,
    mask: usize,
}

impl<T> RingConsumer<T> {
    /// Reads every value published so far, oldest first, each in place with `read`
    /// (which may change it: the producer's next fill of the slot sees what it left),
    /// and frees each slot once read; returns how many it read (0 when the ring is
    /// empty). Values pushed while it runs wait for the next call. Wait-free.
    pub(crate) fn drain_with(&mut self, mut read: impl FnMut(&mut T)) -> usize {
        let tail = self.shared.tail.0.load(Ordering::Acquire);
        let start = self.head;
        while self.head != tail {
            let Some(slot) = self.shared.slots.get(self.head & self.mask) else {
                break;
            };
            // SAFETY: `head != tail` (the tail loaded above, which only grows), so the
            // producer filled this slot and published it with the Release store of a
            // tail past it, which we loaded with Acquire; it will not touch the slot
            // again before our Release store of the new head below, which it loads with
            // Acquire before its next fill (so that fill also sees what `read` wrote).
            // So this is the only reference to the slot while `read` runs.
            slot.with_mut(|pointer| read(unsafe { &mut *pointer }));
            self.head = self.head.wrapping_add(1);
            // Each slot is freed as soon as it was read, so the producer gets it back
            // as early as it can.
            self.shared.head.0.store(self.head, Ordering::Release);
        }
        self.head.wrapping_sub(start)
    }
}

impl<T> std::fmt::Debug for RingProducer<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RingProducer")
            .field("capacity", &self.capacity)
            .field("tail", &self.tail)
            .finish()
    }
}

impl<T> std::fmt::Debug for RingConsumer<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RingConsumer")
            .field("slots", &self.shared.slots.len())
            .field("head", &self.head)
            .finish()
    }
}

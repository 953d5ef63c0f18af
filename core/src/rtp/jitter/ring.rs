//! The lock-free hand-off between the network task and the audio callback: a bounded
//! single-producer single-consumer ring of `Copy` values.
//!
//! The slots are initialised once, when the ring is made; a push fills one in place and
//! a pop reads one in place (`push_with`, `pop_with`), so a large value with a short
//! used part (a packet slot) costs only the bytes written and read, not a copy of the
//! whole value through the ring.
//!
//! Each side owns one index and only reads the other's: the producer writes a slot, then
//! publishes it by storing the tail with `Release`; the consumer loads the tail with
//! `Acquire` before reading the slot, then frees it by storing the head with `Release`,
//! which the producer loads with `Acquire` before writing the slot again. Each side
//! caches the other's index and reloads it only when the ring looks full (or empty), so
//! a push or pop touches the shared cache line once in the common case.
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

impl<T> Shared<T> {
    fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn slot(&self, position: usize) -> Option<&UnsafeCell<T>> {
        self.slots.get(position)
    }

    /// The slot position after `position`, wrapping at the capacity (a compare, not the
    /// division of `index % capacity`).
    fn next_position(&self, position: usize) -> usize {
        let next = position.wrapping_add(1);
        if next >= self.capacity() { 0 } else { next }
    }
}

/// Creates a ring holding up to `capacity` values (at least 1), each slot set to `fill`.
pub(crate) fn ring<T: Copy + Send>(capacity: usize, fill: T) -> (RingProducer<T>, RingConsumer<T>) {
    let capacity = capacity.max(1);
    let slots = (0..capacity).map(|_| UnsafeCell::new(fill)).collect();
    let shared = Arc::new(Shared {
        slots,
        head: Padded(AtomicUsize::new(0)),
        tail: Padded(AtomicUsize::new(0)),
    });
    (
        RingProducer {
            shared: Arc::clone(&shared),
            tail: 0,
            position: 0,
            cached_head: 0,
        },
        RingConsumer {
            shared,
            head: 0,
            position: 0,
            cached_tail: 0,
        },
    )
}

/// The writing end of a [`ring`].
pub(crate) struct RingProducer<T> {
    shared: Arc<Shared<T>>,
    tail: usize,
    /// `tail % capacity`: the slot `tail` names, kept in step with it.
    position: usize,
    cached_head: usize,
}

impl<T> RingProducer<T> {
    /// Fills the next free slot in place with `fill` (which sees the slot's old value)
    /// and publishes it; says `false`, without calling `fill`, when the ring is full.
    /// Wait-free.
    pub(crate) fn push_with(&mut self, fill: impl FnOnce(&mut T)) -> bool {
        if self.is_full() {
            return false;
        }
        let Some(slot) = self.shared.slot(self.position) else {
            return false;
        };
        // SAFETY: `tail - head < capacity` (checked above), so the consumer has freed
        // this slot: its Release store of a head past it, which `is_full` loaded with
        // Acquire (now or earlier), came after its last read of it; and it will not read
        // the slot again before our Release store of the new tail below. So this is the
        // only reference to the slot while `fill` runs.
        slot.with_mut(|pointer| fill(unsafe { &mut *pointer }));
        self.position = self.shared.next_position(self.position);
        self.tail = self.tail.wrapping_add(1);
        self.shared.tail.0.store(self.tail, Ordering::Release);
        true
    }

    fn is_full(&mut self) -> bool {
        let capacity = self.shared.capacity();
        if self.tail.wrapping_sub(self.cached_head) < capacity {
            return false;
        }
        self.cached_head = self.shared.head.0.load(Ordering::Acquire);
        self.tail.wrapping_sub(self.cached_head) >= capacity
    }
}

/// The reading end of a [`ring`].
pub(crate) struct RingConsumer<T> {
    shared: Arc<Shared<T>>,
    head: usize,
    /// `head % capacity`: the slot `head` names, kept in step with it.
    position: usize,
    cached_tail: usize,
}

impl<T> RingConsumer<T> {
    /// Reads the oldest value in place with `read`, then frees its slot; `None`, without
    /// calling `read`, when the ring is empty. Wait-free.
    pub(crate) fn pop_with<R>(&mut self, read: impl FnOnce(&T) -> R) -> Option<R> {
        if self.head == self.cached_tail {
            self.cached_tail = self.shared.tail.0.load(Ordering::Acquire);
            if self.head == self.cached_tail {
                return None;
            }
        }
        let slot = self.shared.slot(self.position)?;
        // SAFETY: `head != tail`, so the producer filled this slot and published it with
        // the Release store of a tail past it, which we loaded with Acquire; it will not
        // write the slot again before our Release store of the new head below. So no
        // mutable reference to the slot exists while `read` runs.
        let result = slot.with(|pointer| read(unsafe { &*pointer }));
        self.position = self.shared.next_position(self.position);
        self.head = self.head.wrapping_add(1);
        self.shared.head.0.store(self.head, Ordering::Release);
        Some(result)
    }
}

impl<T> std::fmt::Debug for RingProducer<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RingProducer")
            .field("capacity", &self.shared.capacity())
            .field("tail", &self.tail)
            .finish()
    }
}

impl<T> std::fmt::Debug for RingConsumer<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RingConsumer")
            .field("capacity", &self.shared.capacity())
            .field("head", &self.head)
            .finish()
    }
}

//! The engine's timer queue: a few FIFO lanes in front of a binary heap.
//!
//! Most deadlines are `now` plus a fixed delay (Timer E at T1, Timer K at T4, Timer F at
//! 64*T1, a refresh at the granted lifetime minus the margin), and `now` only grows, so
//! the deadlines of one kind arrive already sorted. Such an entry is appended to a lane
//! (a `VecDeque`) whose last entry is not later than it: push and pop cost O(1), where
//! the heap costs O(log n) each with tens of thousands of entries. An entry that fits no
//! lane goes on the heap. Every lane stays sorted, so the earliest entry is the smallest
//! of the lane fronts and the heap's top, and entries come out in exactly the order one
//! heap of everything would give (by time, then by target).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use super::hub::Target;

/// How many sorted lanes sit in front of the heap: one per common delay, and some room.
const LANES: usize = 6;

type Entry = (Instant, Target);

/// Deadlines with what they are for, earliest first.
#[derive(Debug, Default)]
pub(super) struct TimerQueue {
    lanes: [VecDeque<Entry>; LANES],
    heap: BinaryHeap<Reverse<Entry>>,
}

/// Where the earliest entry sits.
#[derive(Clone, Copy)]
enum Source {
    Lane(usize),
    Heap,
}

impl TimerQueue {
    /// Adds a deadline.
    pub(super) fn push(&mut self, at: Instant, target: Target) {
        let entry = (at, target);
        // The lane whose last entry is the latest one not after `entry` (so lanes keep
        // to one kind of delay), else an empty lane, else the heap. Entries are compared
        // in place (no copies), and by time first: targets only break ties.
        let mut best: Option<(usize, &Entry)> = None;
        let mut empty = None;
        for (index, lane) in self.lanes.iter().enumerate() {
            match lane.back() {
                Some(last) if not_after(last, &entry) => {
                    if best.is_none_or(|(_, b)| !not_after(last, b)) {
                        best = Some((index, last));
                    }
                }
                Some(_) => {}
                None => {
                    if empty.is_none() {
                        empty = Some(index);
                    }
                }
            }
        }
        match best.map(|(index, _)| index).or(empty) {
            Some(index) => {
                if let Some(lane) = self.lanes.get_mut(index) {
                    lane.push_back(entry);
                }
            }
            None => self.heap.push(Reverse(entry)),
        }
    }

    fn earliest(&self) -> Option<(Entry, Source)> {
        let mut best: Option<(&Entry, Source)> =
            self.heap.peek().map(|Reverse(e)| (e, Source::Heap));
        for (index, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.front()
                && best.is_none_or(|(b, _)| !not_after(b, front))
            {
                best = Some((front, Source::Lane(index)));
            }
        }
        best.map(|(entry, source)| (*entry, source))
    }

    /// The earliest deadline.
    pub(super) fn peek(&self) -> Option<Instant> {
        self.earliest().map(|((at, _), _)| at)
    }

    /// Takes the earliest entry if it is due at `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Entry> {
        let (entry, source) = self.earliest()?;
        if entry.0 > now {
            return None;
        }
        match source {
            Source::Heap => self.heap.pop().map(|Reverse(e)| e),
            Source::Lane(index) => self.lanes.get_mut(index).and_then(VecDeque::pop_front),
        }
    }

    /// How many entries are queued (stale ones included).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }
}

/// `a <= b` in the queue's order (time, then target), comparing the targets only when the
/// times are equal.
fn not_after(a: &Entry, b: &Entry) -> bool {
    match a.0.cmp(&b.0) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => a.1 <= b.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ua::AccountId;
    use std::time::Duration;

    #[allow(clippy::disallowed_methods)]
    fn epoch() -> Instant {
        Instant::now()
    }

    /// Pushes entries in the given order and checks they come out as a heap of everything
    /// would give them (sorted by time, then target).
    fn check(entries: &[(u64, Target)]) {
        let start = epoch();
        let mut queue = TimerQueue::default();
        let mut expected: Vec<Entry> = Vec::new();
        for &(ms, target) in entries {
            let at = start + Duration::from_millis(ms);
            queue.push(at, target);
            expected.push((at, target));
        }
        assert_eq!(queue.len(), entries.len());
        expected.sort();
        let mut got = Vec::new();
        while let Some(entry) = queue.pop_due(start + Duration::from_secs(1_000)) {
            got.push(entry);
        }
        assert_eq!(got, expected);
        assert_eq!(queue.peek(), None);
    }

    #[test]
    fn mixed_delays_come_out_in_heap_order() {
        // Timer E (500 ms) and Timer K (5 s) entries interleaved as time moves on, a
        // refresh, and ties broken by target.
        let mut entries = Vec::new();
        for i in 0..50u64 {
            entries.push((i * 10 + 500, Target::Client(i)));
            entries.push((i * 10 + 5_000, Target::Client(1_000 + i)));
            if i % 7 == 0 {
                entries.push((i * 10 + 570_000, Target::Account(AccountId(i as u32))));
            }
        }
        entries.push((500, Target::Server(3)));
        entries.push((500, Target::Client(0)));
        check(&entries);
    }

    #[test]
    fn out_of_order_entries_spill_to_the_heap_and_still_sort() {
        let entries: Vec<(u64, Target)> = (0..200u64)
            .map(|i| ((i * 7_919) % 1_000, Target::Client(i)))
            .collect();
        check(&entries);
    }

    #[test]
    fn only_due_entries_are_taken_and_peek_is_the_earliest() {
        let start = epoch();
        let mut queue = TimerQueue::default();
        queue.push(start + Duration::from_secs(5), Target::Client(1));
        queue.push(start + Duration::from_secs(1), Target::Client(2));
        queue.push(start + Duration::from_secs(3), Target::Server(1));
        assert_eq!(queue.peek(), Some(start + Duration::from_secs(1)));
        let due = queue.pop_due(start + Duration::from_secs(2));
        assert_eq!(
            due,
            Some((start + Duration::from_secs(1), Target::Client(2)))
        );
        assert_eq!(queue.pop_due(start + Duration::from_secs(2)), None);
        assert_eq!(queue.peek(), Some(start + Duration::from_secs(3)));
    }
}

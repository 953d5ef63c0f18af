//! The engine's client transactions, in numbered slots instead of a hash table.
//!
//! A client transaction's key is `sequence << 32 | slot`: the low half names the slot the
//! transaction lives in, so finding it indexes a `Vec` (no hash, no probing), and the high
//! half is a fresh sequence number, so an old key never names the slot's next tenant. A
//! freed slot is taken again before the table grows, the most recently freed first: its
//! memory was touched last and is the likeliest to still be in cache.
//!
//! The slot is taken ([`reserve`](ClientTable::reserve)) before the request is written,
//! because our branch carries it (see [`Branch`](super::client::Branch)): a response finds
//! its transaction through the branch's slot number, with no branch index to look up.

use super::hub::Client;

/// Client transactions by key (see the [module docs](self)).
#[derive(Debug, Default)]
pub(super) struct ClientTable {
    slots: Vec<Entry>,
    /// Empty slots, the most recently freed last.
    free: Vec<u32>,
    len: usize,
}

/// One slot of the table. The transaction is held inline, as `Option<Client>` would
/// hold it: a box per transaction would be one more allocation and cache miss each.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Entry {
    /// On the free list.
    Free,
    /// Taken by [`ClientTable::reserve`] for a transaction about to start.
    Reserved,
    Open(Client),
}

/// The slot a key names.
fn slot_of(key: u64) -> usize {
    (key & u64::from(u32::MAX)) as usize
}

impl ClientTable {
    /// Takes a slot for a transaction about to start: give it to
    /// [`insert`](Self::insert), or back with [`release`](Self::release).
    pub(super) fn reserve(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            if let Some(entry) = self.slots.get_mut(slot as usize) {
                *entry = Entry::Reserved;
            }
            return slot;
        }
        self.slots.push(Entry::Reserved);
        // 2^32 open transactions would exhaust memory long before.
        u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
    }

    /// Gives back a slot [`reserve`](Self::reserve) took when no transaction starts in it.
    pub(super) fn release(&mut self, slot: u32) {
        if let Some(entry) = self.slots.get_mut(slot as usize)
            && matches!(entry, Entry::Reserved)
        {
            *entry = Entry::Free;
            self.free.push(slot);
        }
    }

    /// Files `client` in `slot` (reserved for it) under a new key made from `sequence` (a
    /// number never given to another transaction of this table still open) and returns
    /// that key, also stored in `client.key`. `None` (and `client` dropped) when `slot`
    /// was not reserved.
    pub(super) fn insert(&mut self, slot: u32, sequence: u64, mut client: Client) -> Option<u64> {
        let entry = self.slots.get_mut(slot as usize)?;
        if !matches!(entry, Entry::Reserved) {
            return None;
        }
        let key = sequence << 32 | u64::from(slot);
        client.key = key;
        *entry = Entry::Open(client);
        self.len += 1;
        Some(key)
    }

    /// The transaction `key` names, if it is still open.
    #[cfg(test)]
    pub(super) fn get(&self, key: u64) -> Option<&Client> {
        self.in_slot(slot_of(key))
            .filter(|client| client.key == key)
    }

    /// The transaction open in `slot`, whatever its key.
    pub(super) fn in_slot(&self, slot: usize) -> Option<&Client> {
        match self.slots.get(slot)? {
            Entry::Open(client) => Some(client),
            Entry::Free | Entry::Reserved => None,
        }
    }

    /// The transaction `key` names, if it is still open.
    pub(super) fn get_mut(&mut self, key: u64) -> Option<&mut Client> {
        match self.slots.get_mut(slot_of(key))? {
            Entry::Open(client) if client.key == key => Some(client),
            _ => None,
        }
    }

    /// Takes the transaction `key` names out of the table.
    pub(super) fn remove(&mut self, key: u64) -> Option<Client> {
        let slot = slot_of(key);
        let entry = self.slots.get_mut(slot)?;
        if !matches!(entry, Entry::Open(client) if client.key == key) {
            return None;
        }
        let Entry::Open(client) = std::mem::replace(entry, Entry::Free) else {
            return None;
        };
        self.len -= 1;
        // Slots are never given back: a table that held many transactions keeps room for
        // as many (emptying it would walk every slot).
        self.free.push(u32::try_from(slot).unwrap_or(u32::MAX));
        Some(client)
    }

    /// Ends the transaction `key` names, dropping it where it lies: unlike
    /// [`remove`](Self::remove), nothing is moved out, so only the slot's lines that hold
    /// the key and what needs dropping are read (the slot is usually cold by then).
    /// Returns whether it was open.
    pub(super) fn discard(&mut self, key: u64) -> bool {
        let slot = slot_of(key);
        let Some(entry) = self.slots.get_mut(slot) else {
            return false;
        };
        if !matches!(entry, Entry::Open(client) if client.key == key) {
            return false;
        }
        *entry = Entry::Free;
        self.len -= 1;
        self.free.push(u32::try_from(slot).unwrap_or(u32::MAX));
        true
    }

    /// How many transactions are open.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The open transactions with their keys, oldest slot first.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Client)> {
        self.slots.iter().filter_map(|entry| match entry {
            Entry::Open(client) => Some((client.key, client)),
            Entry::Free | Entry::Reserved => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::client::Branch;
    use crate::engine::hub::Owner;
    use crate::transaction::{ClientTransaction, TimerConfig, TransactionKind};
    use crate::transport::Transport;
    use std::net::SocketAddr;
    use std::time::Instant;

    /// A transaction told apart by its owner's number `n`, for `slot`.
    fn client(n: u64, slot: u32) -> Client {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let address: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        Client {
            key: 0,
            machine: ClientTransaction::start(
                TransactionKind::NonInvite,
                false,
                now,
                &TimerConfig::default(),
            ),
            branch: Branch::new(n, slot),
            method: "REGISTER",
            request: Vec::new(),
            transport: Transport::Udp,
            local: address,
            remote: address,
            owner: Owner::Message(n),
            scheduled: None,
        }
    }

    /// Reserves a slot and starts transaction `n` in it under sequence `n`.
    fn open(table: &mut ClientTable, n: u64) -> u64 {
        let slot = table.reserve();
        table.insert(slot, n, client(n, slot)).unwrap()
    }

    fn number(table: &ClientTable, key: u64) -> Option<u64> {
        table.get(key).map(|client| match client.owner {
            Owner::Message(n) => n,
            _ => unreachable!("the tests own their transactions as messages"),
        })
    }

    #[test]
    fn keys_name_their_transaction_and_never_the_next_tenant_of_a_slot() {
        let mut table = ClientTable::default();
        let a = open(&mut table, 10);
        let b = open(&mut table, 20);
        let c = open(&mut table, 30);
        assert_eq!((slot_of(a), slot_of(b), slot_of(c)), (0, 1, 2));
        assert_eq!(table.len(), 3);
        assert_eq!(table.get(b).map(|client| client.key), Some(b));
        assert_eq!(table.in_slot(1).map(|client| client.key), Some(b));

        assert_eq!(table.remove(b).map(|client| client.key), Some(b));
        assert_eq!(table.remove(b).map(|_| ()), None, "gone once removed");
        assert_eq!(number(&table, b), None);
        assert!(table.in_slot(1).is_none());
        assert_eq!(table.len(), 2);

        // The freed slot is taken again, under a new key; the old one still names nothing.
        let d = open(&mut table, 40);
        assert_eq!(slot_of(d), 1);
        assert!(table.discard(d), "dropped in place");
        assert!(!table.discard(d), "once");
        assert_eq!(number(&table, d), None);
        assert_eq!(table.len(), 2);
        let d = open(&mut table, 40);
        assert_eq!(slot_of(d), 1, "a discarded slot is free again");
        assert_ne!(d, b);
        assert_eq!(number(&table, d), Some(40));
        assert_eq!(number(&table, b), None);
        assert!(table.get_mut(b).is_none());
        assert!(table.remove(b).is_none());
        assert_eq!(table.len(), 3);

        let listed: Vec<(u64, Option<u64>)> = table
            .iter()
            .map(|(key, _)| (key, number(&table, key)))
            .collect();
        assert_eq!(listed, vec![(a, Some(10)), (d, Some(40)), (c, Some(30))]);
        assert_eq!(number(&table, 2), None, "a slot number alone is no key");
    }

    #[test]
    fn the_most_recently_freed_slot_is_reused_first_and_the_table_grows_only_when_full() {
        let mut table = ClientTable::default();
        let keys: Vec<u64> = (1..=4).map(|n| open(&mut table, n)).collect();
        for &key in &keys[..3] {
            assert!(table.remove(key).is_some());
        }
        // Slots 0, 1, 2 freed in that order: 2 comes back first, then 1.
        assert_eq!(slot_of(open(&mut table, 5)), 2);
        assert_eq!(slot_of(open(&mut table, 6)), 1);
        let open_keys: Vec<u64> = table.iter().map(|(key, _)| key).collect();
        assert_eq!(open_keys.len(), 3);
        for key in open_keys {
            assert!(table.remove(key).is_some());
        }
        assert_eq!(table.len(), 0);
        assert_eq!(table.iter().count(), 0);
        // Emptied in slot order 1, 2, 3: slot 3 is reused first; 0 was freed earliest.
        let slots: Vec<usize> = (7..=11).map(|n| slot_of(open(&mut table, n))).collect();
        assert_eq!(slots, [3, 2, 1, 0, 4]);
        assert_eq!(table.len(), 5);
    }

    #[test]
    fn a_reserved_slot_is_nobody_else_s_until_it_is_used_or_released() {
        let mut table = ClientTable::default();
        let first = table.reserve();
        let second = table.reserve();
        assert_ne!(first, second, "two reservations never share a slot");
        assert!(
            table.in_slot(first as usize).is_none(),
            "reserved is not open"
        );
        assert_eq!(table.len(), 0);
        assert_eq!(table.iter().count(), 0);

        // Released: the next reservation takes it again.
        table.release(second);
        table.release(second); // a second release changes nothing
        assert_eq!(table.reserve(), second);
        assert_ne!(table.reserve(), second, "released once, handed out once");

        // Only a reserved slot takes a transaction.
        let key = table.insert(first, 1, client(1, first)).unwrap();
        assert_eq!(number(&table, key), Some(1));
        assert!(
            table.insert(first, 2, client(2, first)).is_none(),
            "slot is open"
        );
        assert_eq!(number(&table, key), Some(1), "the open one stays");
        let freed = slot_of(key) as u32;
        assert!(table.remove(key).is_some());
        assert!(
            table.insert(freed, 3, client(3, freed)).is_none(),
            "slot is free"
        );
        table.release(freed); // not reserved: no second copy on the free list
        assert_eq!(table.reserve(), freed);
        assert_ne!(table.reserve(), freed);
    }
}

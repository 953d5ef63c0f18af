//! The engine's client transactions, in numbered slots instead of a hash table.
//!
//! A client transaction's key is `sequence << 32 | slot`: the low half names the slot the
//! transaction lives in, so finding it indexes a `Vec` (no hash, no probing), and the high
//! half is a fresh sequence number, so an old key never names the slot's next tenant. A
//! freed slot is taken again before the table grows, the most recently freed first: its
//! memory was touched last and is the likeliest to still be in cache.

use super::hub::Client;

/// Client transactions by key (see the [module docs](self)).
#[derive(Debug, Default)]
pub(super) struct ClientTable {
    slots: Vec<Option<Client>>,
    /// Empty slots, the most recently freed last.
    free: Vec<u32>,
    len: usize,
}

/// The slot a key names.
fn slot_of(key: u64) -> usize {
    (key & u64::from(u32::MAX)) as usize
}

impl ClientTable {
    /// Files `client` under a new key made from `sequence` (a number never given to another
    /// transaction of this table still open) and returns that key, also stored in
    /// `client.key`.
    pub(super) fn insert(&mut self, sequence: u64, mut client: Client) -> u64 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                // 2^32 open transactions would exhaust memory long before.
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let key = sequence << 32 | u64::from(slot);
        client.key = key;
        if let Some(entry) = self.slots.get_mut(slot as usize) {
            *entry = Some(client);
            self.len += 1;
        }
        key
    }

    /// The transaction `key` names, if it is still open.
    pub(super) fn get(&self, key: u64) -> Option<&Client> {
        self.slots
            .get(slot_of(key))?
            .as_ref()
            .filter(|client| client.key == key)
    }

    /// The transaction `key` names, if it is still open.
    pub(super) fn get_mut(&mut self, key: u64) -> Option<&mut Client> {
        self.slots
            .get_mut(slot_of(key))?
            .as_mut()
            .filter(|client| client.key == key)
    }

    /// Takes the transaction `key` names out of the table.
    pub(super) fn remove(&mut self, key: u64) -> Option<Client> {
        let slot = slot_of(key);
        let entry = self.slots.get_mut(slot)?;
        if entry.as_ref()?.key != key {
            return None;
        }
        let client = entry.take();
        self.len -= 1;
        // Slots are never given back: a table that held many transactions keeps room for
        // as many (emptying it would walk every slot).
        self.free.push(u32::try_from(slot).unwrap_or(u32::MAX));
        client
    }

    /// How many transactions are open.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The open transactions with their keys, oldest slot first.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Client)> {
        self.slots
            .iter()
            .filter_map(Option::as_ref)
            .map(|client| (client.key, client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::client::Branch;
    use crate::engine::hub::Owner;
    use crate::transaction::{ClientTransaction, TimerConfig, TransactionKind};
    use crate::transport::Transport;
    use crate::ua::AccountId;
    use std::net::SocketAddr;
    use std::time::Instant;

    fn client(word: u64) -> Client {
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
            branch: Branch::new(word),
            method: "REGISTER",
            request: Vec::new(),
            transport: Transport::Udp,
            local: address,
            remote: address,
            owner: Owner::Registration(AccountId(0)),
            scheduled: None,
        }
    }

    fn word(table: &ClientTable, key: u64) -> Option<u64> {
        table.get(key).map(|client| client.branch.key())
    }

    #[test]
    fn keys_name_their_transaction_and_never_the_next_tenant_of_a_slot() {
        let mut table = ClientTable::default();
        let a = table.insert(1, client(10));
        let b = table.insert(2, client(20));
        let c = table.insert(3, client(30));
        assert_eq!((slot_of(a), slot_of(b), slot_of(c)), (0, 1, 2));
        assert_eq!(table.len(), 3);
        assert_eq!(table.get(b).map(|client| client.key), Some(b));

        assert_eq!(table.remove(b).map(|client| client.branch.key()), Some(20));
        assert_eq!(table.remove(b).map(|_| ()), None, "gone once removed");
        assert_eq!(word(&table, b), None);
        assert_eq!(table.len(), 2);

        // The freed slot is taken again, under a new key; the old one still names nothing.
        let d = table.insert(4, client(40));
        assert_eq!(slot_of(d), 1);
        assert_ne!(d, b);
        assert_eq!(word(&table, d), Some(40));
        assert_eq!(word(&table, b), None);
        assert!(table.get_mut(b).is_none());
        assert!(table.remove(b).is_none());
        assert_eq!(table.len(), 3);

        let listed: Vec<(u64, u64)> = table
            .iter()
            .map(|(key, client)| (key, client.branch.key()))
            .collect();
        assert_eq!(listed, vec![(a, 10), (d, 40), (c, 30)]);
        assert_eq!(word(&table, 2), None, "a slot number alone is no key");
    }

    #[test]
    fn the_most_recently_freed_slot_is_reused_first_and_the_table_grows_only_when_full() {
        let mut table = ClientTable::default();
        let keys: Vec<u64> = (1..=4).map(|n| table.insert(n, client(n))).collect();
        for &key in &keys[..3] {
            assert!(table.remove(key).is_some());
        }
        // Slots 0, 1, 2 freed in that order: 2 comes back first, then 1.
        assert_eq!(slot_of(table.insert(5, client(5))), 2);
        assert_eq!(slot_of(table.insert(6, client(6))), 1);
        let open: Vec<u64> = table.iter().map(|(key, _)| key).collect();
        assert_eq!(open.len(), 3);
        for key in open {
            assert!(table.remove(key).is_some());
        }
        assert_eq!(table.len(), 0);
        assert_eq!(table.iter().count(), 0);
        // Emptied in slot order 1, 2, 3: slot 3 is reused first; 0 was freed earliest.
        let slots: Vec<usize> = (7..=11)
            .map(|n| slot_of(table.insert(n, client(n))))
            .collect();
        assert_eq!(slots, [3, 2, 1, 0, 4]);
        assert_eq!(table.len(), 5);
    }
}

//! Batched store writes in the messaging service (`send_texts`, `on_events`) on the
//! simulated network: under loss and duplication every message arrives exactly once,
//! every sender row ends `delivered`, and answers follow their commit.
#![cfg(feature = "store")]
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ims_core::engine::{Command, Event};
use ims_core::messaging::{Messenger, TextFormat};
use ims_core::sim::{NodeId, SimNetwork};
use ims_core::store::{Aor, Direction, Message, MessageState, Store};
use ims_core::transport::Transport;
use ims_core::ua::AccountId;

struct Side {
    node: NodeId,
    account: AccountId,
    messenger: Messenger,
}

fn side(network: &mut SimNetwork, name: &str, port: u16, peer_port: u16) -> Side {
    let local = SocketAddr::from(([127, 0, 0, 1], port));
    let node = network.add_engine(&[(Transport::Udp, local)]);
    let account = network
        .add_account(
            node,
            &format!("sip:{name}@ims.test"),
            "pw",
            SocketAddr::from(([127, 0, 0, 1], peer_port)),
            Transport::Udp,
        )
        .unwrap();
    let mut messenger = Messenger::new(Store::open_in_memory().unwrap(), [port as u8; 32]);
    messenger
        .attach(account, &format!("sip:{name}@ims.test"))
        .unwrap();
    Side {
        node,
        account,
        messenger,
    }
}

fn wall(network: &SimNetwork, epoch: Instant) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000) + (network.now() - epoch)
}

/// Runs the network for `duration` in `step`s, giving each side's events of a step to
/// its messenger as one batch.
fn pump(
    network: &mut SimNetwork,
    epoch: Instant,
    sides: &mut [&mut Side],
    duration: Duration,
    step: Duration,
) {
    let end = network.now() + duration;
    while network.now() < end {
        network.run_for(step);
        for side in sides.iter_mut() {
            let events = network.take_events(side.node);
            let now = wall(network, epoch);
            for command in side.messenger.on_events(&events, now).unwrap() {
                network.command(side.node, command).unwrap();
            }
        }
    }
}

fn messages(store: &Store, account: &str) -> Vec<Message> {
    let account = store
        .find_account(&Aor::parse(account).unwrap())
        .unwrap()
        .unwrap();
    store
        .conversations(account.id)
        .unwrap()
        .iter()
        .flat_map(|c| store.messages(c.id, 10_000, None).unwrap())
        .collect()
}

#[test]
fn a_batch_of_200_under_loss_and_duplication_arrives_once_each_and_ends_delivered() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 21);
    network.conditions.loss = 0.2;
    network.conditions.duplicate = 0.1;
    network.conditions.reorder = 0.1;
    network.record = true;
    let mut alice = side(&mut network, "alice", 5062, 5064);
    let mut bob = side(&mut network, "bob", 5064, 5062);
    alice.messenger.set_text_format(TextFormat::CpimDelivery);
    let texts: Vec<String> = (0..200).map(|i| format!("message {i}")).collect();
    let pairs: Vec<(&str, &str)> = texts
        .iter()
        .map(|t| ("sip:bob@ims.test", t.as_str()))
        .collect();
    let sent = alice
        .messenger
        .send_texts(alice.account, &pairs, wall(&network, epoch))
        .unwrap();
    assert_eq!(sent.len(), 200);
    for (id, _) in &sent {
        let queued = alice.messenger.store().message(*id).unwrap().unwrap();
        assert_eq!(queued.state, MessageState::Queued);
        assert!(queued.sip_call_id.is_some() && queued.imdn_message_id.is_some());
    }
    for (_, command) in sent.iter().cloned() {
        network.command(alice.node, command).unwrap();
    }
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_secs(40),
        Duration::from_millis(5),
    );
    let lost = network.wire().iter().filter(|w| w.lost).count();
    assert!(lost > 100, "the network dropped datagrams ({lost})");
    let at_bob = messages(bob.messenger.store(), "sip:bob@ims.test");
    assert_eq!(at_bob.len(), 200, "exactly once each");
    let bodies: BTreeSet<Vec<u8>> = at_bob.iter().map(|m| m.body.clone()).collect();
    let expected: BTreeSet<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
    assert_eq!(bodies, expected);
    assert!(at_bob.iter().all(|m| m.direction == Direction::Incoming));
    let at_alice = messages(alice.messenger.store(), "sip:alice@ims.test");
    assert_eq!(at_alice.len(), 200, "notifications are not stored");
    let not_delivered: Vec<_> = at_alice
        .iter()
        .filter(|m| m.state != MessageState::Delivered)
        .map(|m| (m.id, m.state))
        .collect();
    assert_eq!(not_delivered, vec![]);
}

/// Issue #7's loss test at the store: 1,000 texts alice -> bob with 20 % of datagrams
/// lost, each stored exactly once at bob and `sent` at alice.
#[test]
fn a_thousand_texts_under_20_percent_loss_are_stored_once_each() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 23);
    network.conditions.loss = 0.2;
    network.record = true;
    let mut alice = side(&mut network, "alice", 5062, 5064);
    let mut bob = side(&mut network, "bob", 5064, 5062);
    let texts: Vec<String> = (0..1000).map(|i| format!("text {i}")).collect();
    let pairs: Vec<(&str, &str)> = texts
        .iter()
        .map(|t| ("sip:bob@ims.test", t.as_str()))
        .collect();
    let sent = alice
        .messenger
        .send_texts(alice.account, &pairs, wall(&network, epoch))
        .unwrap();
    for (_, command) in sent.iter().cloned() {
        network.command(alice.node, command).unwrap();
    }
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_secs(40),
        Duration::from_millis(5),
    );
    let lost = network.wire().iter().filter(|w| w.lost).count();
    assert!(lost > 300, "the network dropped datagrams ({lost})");
    let at_bob = messages(bob.messenger.store(), "sip:bob@ims.test");
    assert_eq!(at_bob.len(), 1000, "exactly once each");
    let bodies: BTreeSet<Vec<u8>> = at_bob.iter().map(|m| m.body.clone()).collect();
    let expected: BTreeSet<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
    assert_eq!(bodies, expected);
    let not_sent: Vec<_> = messages(alice.messenger.store(), "sip:alice@ims.test")
        .iter()
        .filter(|m| m.state != MessageState::Sent)
        .map(|m| (m.id, m.state))
        .collect();
    assert_eq!(not_sent, vec![]);
}

#[test]
fn the_same_received_event_twice_in_one_batch_is_stored_once_and_answered_twice() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 22);
    let mut alice = side(&mut network, "alice", 5062, 5064);
    let mut bob = side(&mut network, "bob", 5064, 5062);
    let (_, command) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "twice",
            wall(&network, epoch),
        )
        .unwrap();
    network.command(alice.node, command).unwrap();
    network.run_for(Duration::from_millis(5));
    let received: Vec<Event> = network
        .take_events(bob.node)
        .into_iter()
        .filter(|e| matches!(e, Event::MessageReceived(_)))
        .collect();
    assert_eq!(received.len(), 1);
    let doubled = [received[0].clone(), received[0].clone()];
    let commands = bob
        .messenger
        .on_events(&doubled, wall(&network, epoch))
        .unwrap();
    let statuses: Vec<u16> = commands
        .iter()
        .filter_map(|c| match c {
            Command::Respond { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, vec![200, 200]);
    let at_bob = messages(bob.messenger.store(), "sip:bob@ims.test");
    assert_eq!(at_bob.len(), 1);
    assert_eq!(at_bob[0].body, b"twice");
}

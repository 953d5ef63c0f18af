//! The messaging service (store + engine) between engines on the simulated network:
//! store-before-send, states, duplicates after a crash and restart, group filing.
#![cfg(feature = "store")]
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use ims_core::messaging::Messenger;
use ims_core::sim::{NodeId, SimNetwork};
use ims_core::store::{Aor, Counterpart, Direction, GroupMode, MessageState, Store};
use ims_core::transport::Transport;
use ims_core::ua::AccountId;

struct Side {
    node: NodeId,
    account: AccountId,
    messenger: Messenger,
}

fn side(network: &mut SimNetwork, name: &str, port: u16, peer_port: u16, store: Store) -> Side {
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
    let mut messenger = Messenger::new(store, [port as u8; 32]);
    messenger
        .attach(account, &format!("sip:{name}@ims.test"))
        .unwrap();
    Side {
        node,
        account,
        messenger,
    }
}

/// Runs the network for `duration` in 1 ms steps, feeding every event to its side's
/// messenger and sending back the commands it returns.
fn pump(network: &mut SimNetwork, sides: &mut [&mut Side], duration: Duration) {
    let end = network.now() + duration;
    while network.now() < end {
        network.run_for(Duration::from_millis(1));
        for side in sides.iter_mut() {
            for event in network.take_events(side.node) {
                for command in side.messenger.on_event(&event, SystemTime::now()).unwrap() {
                    network.command(side.node, command).unwrap();
                }
            }
        }
    }
}

fn only_message(store: &Store, account: &str) -> Vec<(Direction, MessageState, Vec<u8>)> {
    let account = store
        .find_account(&Aor::parse(account).unwrap())
        .unwrap()
        .unwrap();
    store
        .conversations(account.id)
        .unwrap()
        .iter()
        .flat_map(|c| store.messages(c.id, 100, None).unwrap())
        .map(|m| (m.direction, m.state, m.body))
        .collect()
}

/// alice on 5062 and bob on 5064, each with an in-memory store.
fn alice_and_bob(network: &mut SimNetwork) -> (Side, Side) {
    let alice = side(
        network,
        "alice",
        5062,
        5064,
        Store::open_in_memory().unwrap(),
    );
    let bob = side(network, "bob", 5064, 5062, Store::open_in_memory().unwrap());
    (alice, bob)
}

#[test]
fn text_is_stored_queued_then_sent_and_the_receiver_stores_it_once() {
    let mut network = SimNetwork::new(Instant::now(), 1);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    let (id, command) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "hi bob",
            SystemTime::now(),
        )
        .unwrap();
    // Stored before anything left.
    let queued = alice.messenger.store().message(id).unwrap().unwrap();
    assert_eq!(queued.state, MessageState::Queued);
    assert!(
        queued.sip_call_id.is_some(),
        "the Call-ID is stored before sending"
    );
    network.command(alice.node, command).unwrap();
    pump(
        &mut network,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(50),
    );
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Sent
    );
    assert_eq!(
        only_message(bob.messenger.store(), "sip:bob@ims.test"),
        vec![(
            Direction::Incoming,
            MessageState::Delivered,
            b"hi bob".to_vec()
        )]
    );
}

#[test]
fn texts_overtaking_each_other_on_the_way_are_filed_in_the_order_typed() {
    let mut network = SimNetwork::new(Instant::now(), 11);
    // A third of the datagrams held back up to 300 ms, 10 % lost (retransmitted by
    // Timer E after 500 ms): later texts routinely arrive first.
    network.conditions.reorder = 0.3;
    network.conditions.reorder_window = Duration::from_millis(300);
    network.conditions.loss = 0.1;
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    let texts: Vec<String> = (1..=100).map(|n| format!("text {n}")).collect();
    let pairs: Vec<(&str, &str)> = texts
        .iter()
        .map(|t| ("sip:bob@ims.test", t.as_str()))
        .collect();
    let sent = alice
        .messenger
        .send_texts(alice.account, &pairs, SystemTime::now())
        .unwrap();
    // One Call-ID for the conversation, CSeq 1..=100 in the order typed.
    let ids: Vec<(String, u32)> = sent
        .iter()
        .map(|(id, _)| {
            let m = alice.messenger.store().message(*id).unwrap().unwrap();
            (m.sip_call_id.unwrap(), m.sip_cseq.unwrap())
        })
        .collect();
    assert!(ids.iter().all(|(call_id, _)| *call_id == ids[0].0));
    assert_eq!(
        ids.iter().map(|(_, cseq)| *cseq).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<u32>>()
    );
    for (_, command) in sent {
        network.command(alice.node, command).unwrap();
    }
    // Record the arrival order as bob's messenger sees it.
    let mut arrival = Vec::new();
    let end = network.now() + Duration::from_secs(40);
    while network.now() < end {
        network.run_for(Duration::from_millis(1));
        for side in [&mut alice, &mut bob] {
            for event in network.take_events(side.node) {
                if let ims_core::engine::Event::MessageReceived(m) = &event {
                    arrival.push(m.cseq);
                }
                for command in side.messenger.on_event(&event, SystemTime::now()).unwrap() {
                    network.command(side.node, command).unwrap();
                }
            }
        }
    }
    let mut sorted = arrival.clone();
    sorted.sort_unstable();
    assert_ne!(arrival, sorted, "the network reordered nothing: no test");
    let bob_store = bob.messenger.store();
    let bob_account = bob_store.accounts().unwrap()[0].id;
    let conversations = bob_store.conversations(bob_account).unwrap();
    assert_eq!(conversations.len(), 1);
    let conversation = conversations[0].id;
    let filed: Vec<String> = bob_store
        .messages(conversation, 1000, None)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(filed, texts);
}

fn open(path: &Path) -> Store {
    Store::open(path).unwrap()
}

#[test]
fn a_crash_between_send_and_2xx_resends_and_the_message_arrives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let alice_db = dir.path().join("alice.sqlite");
    let bob_db = dir.path().join("bob.sqlite");
    let id = {
        let mut network = SimNetwork::new(Instant::now(), 2);
        network.conditions.delay = Duration::from_millis(5);
        let mut alice = side(&mut network, "alice", 5062, 5064, open(&alice_db));
        let mut bob = side(&mut network, "bob", 5064, 5062, open(&bob_db));
        let (id, command) = alice
            .messenger
            .send_text(
                alice.account,
                "sip:bob@ims.test",
                "exactly once",
                SystemTime::now(),
            )
            .unwrap();
        network.command(alice.node, command).unwrap();
        // Bob gets it (5 ms) and answers; alice "crashes" before the 200 (at 10 ms).
        pump(
            &mut network,
            &mut [&mut alice, &mut bob],
            Duration::from_millis(7),
        );
        assert_eq!(
            only_message(bob.messenger.store(), "sip:bob@ims.test").len(),
            1
        );
        let state = alice.messenger.store().message(id).unwrap().unwrap().state;
        assert_eq!(state, MessageState::Sending, "no 2xx yet");
        id
    }; // every engine and store dropped: the crash
    let mut network = SimNetwork::new(Instant::now(), 3);
    let mut alice = side(&mut network, "alice", 5062, 5064, open(&alice_db));
    let mut bob = side(&mut network, "bob", 5064, 5062, open(&bob_db));
    let commands = alice.messenger.resend_pending(alice.account).unwrap();
    assert_eq!(commands.len(), 1);
    for command in commands {
        network.command(alice.node, command).unwrap();
    }
    pump(
        &mut network,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(50),
    );
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Sent
    );
    let at_bob = only_message(bob.messenger.store(), "sip:bob@ims.test");
    assert_eq!(
        at_bob,
        vec![(
            Direction::Incoming,
            MessageState::Delivered,
            b"exactly once".to_vec()
        )]
    );
}

#[test]
fn a_message_never_sent_before_the_crash_is_sent_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let alice_db = dir.path().join("alice.sqlite");
    let id = {
        let mut network = SimNetwork::new(Instant::now(), 4);
        let mut alice = side(&mut network, "alice", 5062, 5064, open(&alice_db));
        let (id, _command_never_given) = alice
            .messenger
            .send_text(
                alice.account,
                "sip:bob@ims.test",
                "typed, then crash",
                SystemTime::now(),
            )
            .unwrap();
        id
    };
    let mut network = SimNetwork::new(Instant::now(), 5);
    let mut alice = side(&mut network, "alice", 5062, 5064, open(&alice_db));
    let mut bob = side(
        &mut network,
        "bob",
        5064,
        5062,
        Store::open_in_memory().unwrap(),
    );
    for command in alice.messenger.resend_pending(alice.account).unwrap() {
        network.command(alice.node, command).unwrap();
    }
    pump(
        &mut network,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(50),
    );
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Sent
    );
    assert_eq!(
        only_message(bob.messenger.store(), "sip:bob@ims.test").len(),
        1
    );
}

#[test]
fn a_failed_message_is_marked_failed_with_the_reason() {
    let mut network = SimNetwork::new(Instant::now(), 6);
    let mut alice = side(
        &mut network,
        "alice",
        5062,
        5099,
        Store::open_in_memory().unwrap(),
    );
    let (id, command) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "into the void",
            SystemTime::now(),
        )
        .unwrap();
    network.command(alice.node, command).unwrap();
    pump(&mut network, &mut [&mut alice], Duration::from_secs(33));
    let stored = alice.messenger.store().message(id).unwrap().unwrap();
    assert_eq!(stored.state, MessageState::Failed);
    assert!(stored.failure_reason.unwrap().contains("timeout"));
}

#[test]
fn a_failed_message_retried_by_the_user_is_sent_and_arrives_once() {
    let mut network = SimNetwork::new(Instant::now(), 7);
    let mut alice = side(
        &mut network,
        "alice",
        5062,
        5099,
        Store::open_in_memory().unwrap(),
    );
    let (id, command) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "try again",
            SystemTime::now(),
        )
        .unwrap();
    network.command(alice.node, command).unwrap();
    pump(&mut network, &mut [&mut alice], Duration::from_secs(33));
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Failed
    );
    // Bob comes up where the message failed to go; the user presses retry.
    let mut bob = side(
        &mut network,
        "bob",
        5099,
        5062,
        Store::open_in_memory().unwrap(),
    );
    let command = alice
        .messenger
        .retry(alice.account, id, SystemTime::now())
        .unwrap()
        .expect("a failed message is sent again");
    let queued = alice.messenger.store().message(id).unwrap().unwrap();
    assert_eq!(queued.state, MessageState::Queued);
    assert_eq!(queued.failure_reason, None);
    network.command(alice.node, command).unwrap();
    pump(
        &mut network,
        &mut [&mut alice, &mut bob],
        Duration::from_secs(2),
    );
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Sent
    );
    assert_eq!(
        only_message(bob.messenger.store(), "sip:bob@ims.test"),
        vec![(
            Direction::Incoming,
            MessageState::Delivered,
            b"try again".to_vec()
        )]
    );
    // A message that did not fail is not sent twice.
    assert!(
        alice
            .messenger
            .retry(alice.account, id, SystemTime::now())
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_fan_out_group_message_is_filed_under_the_group_at_the_receiver() {
    let mut network = SimNetwork::new(Instant::now(), 7);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    let account = alice
        .messenger
        .store()
        .find_account(&Aor::parse("sip:alice@ims.test").unwrap())
        .unwrap()
        .unwrap()
        .id;
    let members = [
        Aor::parse("sip:alice@ims.test").unwrap(),
        Aor::parse("sip:bob@ims.test").unwrap(),
    ];
    let group = alice
        .messenger
        .store_mut()
        .create_group(
            account,
            &Aor::parse("sip:friends@ims.test").unwrap(),
            "Friends",
            GroupMode::Fanout,
            &members,
        )
        .unwrap();
    let (id, command) = alice
        .messenger
        .send_group(alice.account, group, "hello friends", SystemTime::now())
        .unwrap();
    network.command(alice.node, command).unwrap();
    pump(
        &mut network,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(50),
    );
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Sent
    );
    let recipients = alice.messenger.store().recipients(id).unwrap();
    let rows: Vec<(&str, MessageState)> = recipients
        .iter()
        .map(|r| (r.aor.as_str(), r.state))
        .collect();
    assert_eq!(
        rows,
        vec![("sip:bob@ims.test", MessageState::Sent)],
        "no row for the sender itself"
    );
    let bob_store = bob.messenger.store();
    let bob_account = bob_store
        .find_account(&Aor::parse("sip:bob@ims.test").unwrap())
        .unwrap()
        .unwrap()
        .id;
    let conversations = bob_store.conversations(bob_account).unwrap();
    assert_eq!(
        conversations.len(),
        1,
        "filed under the group, not a 1:1 with alice"
    );
    let Counterpart::Group(group_at_bob) = conversations[0].counterpart else {
        panic!("{conversations:?}")
    };
    let filed = bob_store.group(group_at_bob).unwrap().unwrap();
    assert_eq!(
        (filed.name.as_str(), filed.uri.as_str()),
        ("Friends", "sip:friends@ims.test")
    );
    assert_eq!(
        bob_store.group_members(group_at_bob).unwrap().len(),
        2,
        "members learnt from the list"
    );
    let messages = bob_store.messages(conversations[0].id, 10, None).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, b"hello friends");
    assert_eq!(messages[0].sender.as_str(), "sip:alice@ims.test");
}

//! Delivery notifications (RFC 5438) in the messaging service between engines on the
//! simulated network: CPIM out, text stored at the receiver, `delivered` at the sender;
//! notifications that name nothing of ours, or come from someone else; malformed CPIM.
#![cfg(feature = "store")]
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ims_core::engine::{Command, Event};
use ims_core::im::cpim::{self, Address, CpimHead, Disposition};
use ims_core::im::imdn;
use ims_core::messaging::{Messenger, TextFormat, is_notification_key};
use ims_core::sim::{NodeId, SimNetwork};
use ims_core::store::{Aor, Direction, Message, MessageState, Store};
use ims_core::transport::Transport;
use ims_core::ua::{AccountId, MessageError, OutgoingMessage};

struct Side {
    node: NodeId,
    account: AccountId,
    messenger: Messenger,
    /// Every command the messenger returned, in order.
    commands: Vec<Command>,
    /// Every event the engine gave.
    events: Vec<Event>,
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
        commands: Vec::new(),
        events: Vec::new(),
    }
}

fn wall(network: &SimNetwork, epoch: Instant) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000) + (network.now() - epoch)
}

/// Runs the network for `duration` in 1 ms steps, feeding every event to its side's
/// messenger and sending (and keeping) the commands it returns.
fn pump(network: &mut SimNetwork, epoch: Instant, sides: &mut [&mut Side], duration: Duration) {
    let end = network.now() + duration;
    while network.now() < end {
        network.run_for(Duration::from_millis(1));
        for side in sides.iter_mut() {
            for event in network.take_events(side.node) {
                let now = wall(network, epoch);
                for command in side.messenger.on_event(&event, now).unwrap() {
                    network.command(side.node, command.clone()).unwrap();
                    side.commands.push(command);
                }
                side.events.push(event);
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
        .flat_map(|c| store.messages(c.id, 100, None).unwrap())
        .collect()
}

fn statuses(side: &Side) -> Vec<u16> {
    side.commands
        .iter()
        .filter_map(|c| match c {
            Command::Respond { status, .. } => Some(*status),
            _ => None,
        })
        .collect()
}

fn notifications_sent(side: &Side) -> Vec<&OutgoingMessage> {
    side.commands
        .iter()
        .filter_map(|c| match c {
            Command::SendMessage { message, .. } => Some(message),
            _ => None,
        })
        .collect()
}

/// alice on 5062 and bob on 5064, each the other's next hop, with in-memory stores.
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

/// A raw MESSAGE from `from`'s engine, bypassing its messenger.
fn raw(side: &Side, to: &str, content_type: &str, body: Vec<u8>) -> Command {
    Command::SendMessage {
        account: side.account,
        message: OutgoingMessage {
            id: 77,
            to: to.to_owned(),
            body,
            content_type: content_type.to_owned(),
            call_id: None,
            cseq: None,
            group: None,
            headers: Vec::new(),
        },
    }
}

fn delivered_notification(from: &str, to: &str, message_id: &str) -> Vec<u8> {
    let report = imdn::Notification::delivery(
        message_id,
        "2027-01-15T08:00:00Z",
        from,
        imdn::Status::Delivered,
    );
    let mut body = Vec::new();
    imdn::write_cpim(
        &mut body,
        Address::new(None, from),
        Address::new(None, to),
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        "n0tif1",
        &report,
    )
    .unwrap();
    body
}

#[test]
fn cpim_asking_for_delivery_is_stored_as_text_and_the_sender_sees_delivered() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 11);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    alice.messenger.set_text_format(TextFormat::CpimDelivery);
    let (id, command) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "héllo bob",
            wall(&network, epoch),
        )
        .unwrap();

    // Stored as the text, with its Message-ID, before anything leaves.
    let queued = alice.messenger.store().message(id).unwrap().unwrap();
    assert_eq!(queued.state, MessageState::Queued);
    assert_eq!(queued.body, "héllo bob".as_bytes());
    assert_eq!(queued.content_type, "text/plain;charset=UTF-8");
    let message_id = queued.imdn_message_id.clone().expect("an IMDN Message-ID");
    // On the wire: CPIM asking for positive-delivery, around the text.
    let Command::SendMessage { message, .. } = &command else {
        panic!("{command:?}")
    };
    assert_eq!(message.content_type, "message/cpim");
    let wire = message.body.clone();
    let envelope = cpim::parse(&wire).unwrap();
    assert_eq!(envelope.message_id, Some(message_id.as_str()));
    assert_eq!(envelope.disposition, Disposition::POSITIVE_DELIVERY);
    assert_eq!(envelope.from.as_ref().unwrap().uri, "sip:alice@ims.test");
    assert_eq!(envelope.to[0].uri, "sip:bob@ims.test");
    assert_eq!(envelope.content_type(), Some("text/plain;charset=UTF-8"));
    assert_eq!(envelope.body, "héllo bob".as_bytes());

    network.command(alice.node, command).unwrap();
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(100),
    );

    // Bob stored the text (not the envelope) once, and answered 200 then a notification.
    let at_bob = messages(bob.messenger.store(), "sip:bob@ims.test");
    assert_eq!(at_bob.len(), 1);
    assert_eq!(at_bob[0].direction, Direction::Incoming);
    assert_eq!(at_bob[0].body, "héllo bob".as_bytes());
    assert_eq!(at_bob[0].content_type, "text/plain;charset=UTF-8");
    assert_eq!(
        at_bob[0].imdn_message_id.as_deref(),
        Some(message_id.as_str())
    );
    assert_eq!(statuses(&bob), vec![200]);
    let sent = notifications_sent(&bob);
    assert_eq!(sent.len(), 1);
    assert!(is_notification_key(sent[0].id));
    assert_eq!(sent[0].to, "sip:alice@ims.test");
    let notification = cpim::parse(&sent[0].body).unwrap();
    assert!(imdn::is_notification(&notification));
    assert_eq!(
        notification.content_header("Content-Disposition"),
        Some("notification")
    );
    let report = imdn::parse(notification.body).unwrap();
    assert_eq!(report.message_id, message_id.as_str());
    assert_eq!(report.status, imdn::Status::Delivered);
    assert_eq!(Some(report.datetime.as_ref()), envelope.datetime);

    // Alice: delivered, the notification answered 200 and not stored as a message.
    let at_alice = messages(alice.messenger.store(), "sip:alice@ims.test");
    assert_eq!(at_alice.len(), 1, "{at_alice:?}");
    assert_eq!(at_alice[0].id, id);
    assert_eq!(at_alice[0].state, MessageState::Delivered);
    assert_eq!(statuses(&alice), vec![200]);
    // Bob's engine saw the notification accepted.
    assert!(bob.events.iter().any(|e| matches!(
        e,
        Event::MessageAccepted { id, .. } if is_notification_key(*id)
    )));
}

#[test]
fn plain_text_asks_for_nothing_and_ends_sent() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 12);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    let (id, command) = alice
        .messenger
        .send_text_as(
            alice.account,
            "sip:bob@ims.test",
            "plain",
            TextFormat::Plain,
            wall(&network, epoch),
        )
        .unwrap();
    network.command(alice.node, command).unwrap();
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(100),
    );
    let stored = alice.messenger.store().message(id).unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.imdn_message_id),
        (MessageState::Sent, None)
    );
    assert!(notifications_sent(&bob).is_empty());
}

#[test]
fn a_notification_naming_no_message_of_ours_is_answered_and_changes_nothing() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 13);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    // Alice has a delivery-asking message of her own, with another Message-ID.
    alice.messenger.set_text_format(TextFormat::CpimDelivery);
    let (id, _never_sent) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "mine",
            wall(&network, epoch),
        )
        .unwrap();
    let body = delivered_notification("sip:bob@ims.test", "sip:alice@ims.test", "NoSuchId");
    network
        .command(
            bob.node,
            raw(&bob, "sip:alice@ims.test", "message/cpim", body),
        )
        .unwrap();
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(100),
    );
    assert_eq!(statuses(&alice), vec![200]);
    assert!(bob.events.iter().any(|e| matches!(
        e,
        Event::MessageAccepted {
            id: 77,
            status: 200,
            ..
        }
    )));
    let at_alice = messages(alice.messenger.store(), "sip:alice@ims.test");
    assert_eq!(
        at_alice.len(),
        1,
        "the notification is not stored: {at_alice:?}"
    );
    assert_eq!(
        (at_alice[0].id, at_alice[0].state),
        (id, MessageState::Queued)
    );
}

#[test]
fn a_notification_from_someone_the_message_did_not_go_to_changes_nothing() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 14);
    let (mut alice, bob) = alice_and_bob(&mut network);
    let mut carol = side(
        &mut network,
        "carol",
        5066,
        5062,
        Store::open_in_memory().unwrap(),
    );
    alice.messenger.set_text_format(TextFormat::CpimDelivery);
    let (id, _never_sent) = alice
        .messenger
        .send_text(
            alice.account,
            "sip:bob@ims.test",
            "for bob",
            wall(&network, epoch),
        )
        .unwrap();
    let message_id = alice
        .messenger
        .store()
        .message(id)
        .unwrap()
        .unwrap()
        .imdn_message_id
        .unwrap();
    let body = delivered_notification("sip:carol@ims.test", "sip:alice@ims.test", &message_id);
    network
        .command(
            carol.node,
            raw(&carol, "sip:alice@ims.test", "message/cpim", body),
        )
        .unwrap();
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut carol],
        Duration::from_millis(100),
    );
    assert!(carol.events.iter().any(|e| matches!(
        e,
        Event::MessageAccepted {
            id: 77,
            status: 200,
            ..
        }
    )));
    let state = alice.messenger.store().message(id).unwrap().unwrap().state;
    assert_eq!(state, MessageState::Queued, "only bob may report on it");
    assert!(notifications_sent(&bob).is_empty());
}

#[test]
fn malformed_cpim_is_answered_400_and_nothing_is_stored() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 15);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    let cases: [&[u8]; 3] = [
        // No blank line after the message headers.
        b"From: <sip:bob@ims.test>\r\nTo: <sip:alice@ims.test>\r\n",
        // A header line that is not a header.
        b"From: <sip:bob@ims.test>\r\n:::\r\n\r\nContent-Type: text/plain\r\n\r\nx",
        // A notification whose document is not IMDN.
        b"From: <sip:bob@ims.test>\r\nTo: <sip:alice@ims.test>\r\n\r\n\
          Content-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n\r\n<x/>",
    ];
    for body in cases {
        network
            .command(
                bob.node,
                raw(&bob, "sip:alice@ims.test", "message/cpim", body.to_vec()),
            )
            .unwrap();
        pump(
            &mut network,
            epoch,
            &mut [&mut alice, &mut bob],
            Duration::from_millis(50),
        );
    }
    assert_eq!(statuses(&alice), vec![400, 400, 400]);
    let rejected = bob
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::MessageFailed {
                    reason: MessageError::Rejected { status: 400, .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(rejected, 3);
    let account = alice
        .messenger
        .store()
        .find_account(&Aor::parse("sip:alice@ims.test").unwrap())
        .unwrap()
        .unwrap();
    assert!(
        alice
            .messenger
            .store()
            .conversations(account.id)
            .unwrap()
            .iter()
            .all(|c| alice
                .messenger
                .store()
                .messages(c.id, 10, None)
                .unwrap()
                .is_empty()),
        "nothing stored"
    );
}

#[test]
fn a_network_group_message_asking_for_delivery_gets_no_notification() {
    let epoch = Instant::now();
    let mut network = SimNetwork::new(epoch, 16);
    let (mut alice, mut bob) = alice_and_bob(&mut network);
    let head = CpimHead {
        from: Address::new(None, "sip:alice@ims.test"),
        to: Address::new(None, "sip:friends@ims.test"),
        datetime: wall(&network, epoch),
        message_id: "Grp1",
        disposition: Disposition::POSITIVE_DELIVERY,
        content_type: "text/plain;charset=UTF-8",
        content_headers: &[],
    };
    let mut body = Vec::new();
    cpim::write(&mut body, &head, b"to the group").unwrap();
    let Command::SendMessage {
        account,
        mut message,
    } = raw(&alice, "sip:bob@ims.test", "message/cpim", body)
    else {
        unreachable!()
    };
    message.headers = vec![(
        "X-Group".to_owned(),
        "\"Friends\" <sip:friends@ims.test>".to_owned(),
    )];
    network
        .command(alice.node, Command::SendMessage { account, message })
        .unwrap();
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(100),
    );
    assert_eq!(statuses(&bob), vec![200]);
    assert!(notifications_sent(&bob).is_empty());
    let at_bob = messages(bob.messenger.store(), "sip:bob@ims.test");
    assert_eq!(at_bob.len(), 1);
    assert_eq!(at_bob[0].body, b"to the group");
}

fn open(path: &Path) -> Store {
    Store::open(path).unwrap()
}

#[test]
fn a_crash_before_the_notification_resends_the_same_message_id_and_ends_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let alice_db = dir.path().join("alice.sqlite");
    let bob_db = dir.path().join("bob.sqlite");
    let epoch = Instant::now();
    let (id, first_body) = {
        let mut network = SimNetwork::new(epoch, 17);
        network.conditions.delay = Duration::from_millis(5);
        let mut alice = side(&mut network, "alice", 5062, 5064, open(&alice_db));
        let mut bob = side(&mut network, "bob", 5064, 5062, open(&bob_db));
        let (id, command) = alice
            .messenger
            .send_text_as(
                alice.account,
                "sip:bob@ims.test",
                "once, delivered",
                TextFormat::CpimDelivery,
                wall(&network, epoch),
            )
            .unwrap();
        let Command::SendMessage { message, .. } = &command else {
            unreachable!()
        };
        let first_body = message.body.clone();
        network.command(alice.node, command).unwrap();
        // Bob stores it at 5 ms; alice "crashes" before the 200 and the notification.
        pump(
            &mut network,
            epoch,
            &mut [&mut alice, &mut bob],
            Duration::from_millis(7),
        );
        assert_eq!(messages(bob.messenger.store(), "sip:bob@ims.test").len(), 1);
        assert_eq!(
            alice.messenger.store().message(id).unwrap().unwrap().state,
            MessageState::Sending
        );
        (id, first_body)
    };
    let mut network = SimNetwork::new(epoch, 18);
    let mut alice = side(&mut network, "alice", 5062, 5064, open(&alice_db));
    let mut bob = side(&mut network, "bob", 5064, 5062, open(&bob_db));
    let commands = alice.messenger.resend_pending(alice.account).unwrap();
    assert_eq!(commands.len(), 1);
    let Command::SendMessage { message, .. } = &commands[0] else {
        unreachable!()
    };
    assert_eq!(
        message.body, first_body,
        "the same envelope, Message-ID and DateTime"
    );
    for command in commands {
        network.command(alice.node, command).unwrap();
    }
    pump(
        &mut network,
        epoch,
        &mut [&mut alice, &mut bob],
        Duration::from_millis(100),
    );
    assert_eq!(
        alice.messenger.store().message(id).unwrap().unwrap().state,
        MessageState::Delivered
    );
    assert_eq!(messages(bob.messenger.store(), "sip:bob@ims.test").len(), 1);
    assert_eq!(
        notifications_sent(&bob).len(),
        1,
        "the duplicate is answered again"
    );
}

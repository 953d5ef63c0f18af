//! Pager-mode IM (RFC 3428) and group chat between engines on the simulated network.
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ims_core::engine::{Command, Event};
use ims_core::sim::{NodeId, SimNetwork};
use ims_core::transport::Transport;
use ims_core::ua::{AccountId, GroupMode, GroupTarget, MessageError, OutgoingMessage};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An engine with one account whose next hop is `proxy` (engines talk directly: the
/// Request-URI's user names the receiving account).
fn user(network: &mut SimNetwork, name: &str, port: u16, proxy: &str) -> (NodeId, AccountId) {
    let local = SocketAddr::from(([127, 0, 0, 1], port));
    let node = network.add_engine(&[(Transport::Udp, local), (Transport::Tcp, local)]);
    let account = network
        .add_account(
            node,
            &format!("sip:{name}@ims.test"),
            "pw",
            addr(proxy),
            Transport::Udp,
        )
        .unwrap();
    network.answer_messages(node, Some(200));
    (node, account)
}

fn text(id: u64, to: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        id,
        to: to.to_owned(),
        body: body.as_bytes().to_vec(),
        content_type: "text/plain;charset=UTF-8".to_owned(),
        call_id: None,
        cseq: None,
        group: None,
        headers: Vec::new(),
    }
}

/// (Call-ID, body, group) of each message received.
type Received = (String, Vec<u8>, Option<(String, String)>);

fn received(network: &SimNetwork, node: NodeId) -> Vec<Received> {
    network
        .events(node)
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(m) => Some((m.call_id.clone(), m.body.clone(), m.group.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn one_to_one_text_arrives_and_is_accepted() {
    let mut network = SimNetwork::new(Instant::now(), 1);
    let (alice, alice_account) = user(&mut network, "alice", 5062, "127.0.0.1:5064");
    let (bob, _) = user(&mut network, "bob", 5064, "127.0.0.1:5062");
    let message = text(7, "sip:bob@ims.test", "héllo bob");
    network
        .command(
            alice,
            Command::SendMessage {
                account: alice_account,
                message,
            },
        )
        .unwrap();
    network.run_for(Duration::from_secs(1));
    let got = received(&network, bob);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "héllo bob".as_bytes());
    let events = network.events(alice);
    let sending = events.iter().find_map(|e| match e {
        Event::MessageSending {
            id: 7,
            call_id,
            cseq,
            ..
        } => Some((call_id.clone(), *cseq)),
        _ => None,
    });
    assert_eq!(
        sending.map(|s| s.0),
        Some(got[0].0.clone()),
        "the Call-ID the sender reported is the one received"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::MessageAccepted {
            id: 7,
            status: 200,
            ..
        }
    )));
}

#[test]
fn a_resend_with_the_stored_call_id_and_cseq_is_recognisable_as_a_duplicate() {
    let mut network = SimNetwork::new(Instant::now(), 2);
    let (alice, alice_account) = user(&mut network, "alice", 5062, "127.0.0.1:5064");
    let (bob, _) = user(&mut network, "bob", 5064, "127.0.0.1:5062");
    for _ in 0..2 {
        let mut message = text(1, "sip:bob@ims.test", "once");
        message.call_id = Some("stored-call-id@alice".to_owned());
        message.cseq = Some(42);
        network
            .command(
                alice,
                Command::SendMessage {
                    account: alice_account,
                    message,
                },
            )
            .unwrap();
        network.run_for(Duration::from_secs(40));
    }
    let got: Vec<(String, u32)> = network
        .events(bob)
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(m) => Some((m.call_id.clone(), m.cseq)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![("stored-call-id@alice".to_owned(), 42); 2],
        "same ids: the store drops the second"
    );
}

#[test]
fn with_20_percent_loss_1000_messages_arrive_exactly_once_each() {
    let mut network = SimNetwork::new(Instant::now(), 3);
    network.conditions.loss = 0.2;
    network.conditions.reorder = 0.2;
    network.conditions.reorder_window = Duration::from_millis(300);
    let (alice, alice_account) = user(&mut network, "alice", 5062, "127.0.0.1:5064");
    let (bob, _) = user(&mut network, "bob", 5064, "127.0.0.1:5062");
    for id in 0..1000u64 {
        let message = text(id, "sip:bob@ims.test", &format!("message {id}"));
        network
            .command(
                alice,
                Command::SendMessage {
                    account: alice_account,
                    message,
                },
            )
            .unwrap();
        network.run_for(Duration::from_millis(20));
    }
    network.run_for(Duration::from_secs(60));
    let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (_, body, _) in received(&network, bob) {
        *counts.entry(body).or_default() += 1;
    }
    assert_eq!(counts.len(), 1000, "every message arrived");
    assert!(
        counts.values().all(|c| *c == 1),
        "none twice (retransmissions absorbed)"
    );
    let accepted = network
        .events(alice)
        .iter()
        .filter(|e| matches!(e, Event::MessageAccepted { .. }))
        .count();
    assert_eq!(accepted, 1000);
}

#[test]
fn large_message_goes_over_tcp_and_without_tcp_fails_clearly() {
    let mut network = SimNetwork::new(Instant::now(), 4);
    network.record = true;
    let (alice, alice_account) = user(&mut network, "alice", 5062, "127.0.0.1:5064");
    let (bob, _) = user(&mut network, "bob", 5064, "127.0.0.1:5062");
    let big = "z".repeat(1400);
    network
        .command(
            alice,
            Command::SendMessage {
                account: alice_account,
                message: text(1, "sip:bob@ims.test", &big),
            },
        )
        .unwrap();
    network.run_for(Duration::from_secs(1));
    assert_eq!(received(&network, bob).len(), 1);
    let message = network
        .wire()
        .iter()
        .find(|r| r.bytes.starts_with(b"MESSAGE "))
        .unwrap();
    assert_eq!(message.transport, Transport::Tcp);

    // An engine with UDP only refuses with a clear error.
    let udp_only = network.add_engine(&[(Transport::Udp, addr("127.0.0.1:5066"))]);
    let carol = network
        .add_account(
            udp_only,
            "sip:carol@ims.test",
            "pw",
            addr("127.0.0.1:5064"),
            Transport::Udp,
        )
        .unwrap();
    network
        .command(
            udp_only,
            Command::SendMessage {
                account: carol,
                message: text(2, "sip:bob@ims.test", &big),
            },
        )
        .unwrap();
    network.run_for(Duration::from_secs(1));
    assert!(network.events(udp_only).iter().any(|e| matches!(
        e,
        Event::MessageFailed {
            id: 2,
            reason: MessageError::TooLargeForUdp { .. },
            ..
        }
    )));
}

/// A group of engines: alice sends; bob, carol, dave receive. `fork` makes alice's next
/// hop a forking peer (network mode); otherwise alice fans out herself.
mod group {
    use super::*;
    use ims_core::sim::SimPeer;
    use ims_core::sip::{Limits, RawHeader, SipMessage};
    use std::any::Any;

    /// The core network's group support, as a scripted peer: a MESSAGE to the group URI
    /// is forwarded to every member engine; the first member 2xx goes back to the
    /// sender. Here the fork itself is not modelled: it records and answers 200.
    struct Forker {
        members: Vec<SocketAddr>,
        forwarded: Vec<Vec<u8>>,
    }

    impl SimPeer for Forker {
        fn on_message(
            &mut self,
            _now: Instant,
            _from: SocketAddr,
            _t: Transport,
            bytes: &[u8],
        ) -> Vec<Vec<u8>> {
            let mut slots = [RawHeader::EMPTY; 64];
            let Ok(request) = SipMessage::parse_datagram(bytes, &mut slots, &Limits::DEFAULT)
            else {
                return Vec::new();
            };
            if !request.is_request() {
                return Vec::new();
            }
            self.forwarded.push(bytes.to_vec());
            let mut out = Vec::new();
            let mut writer = ims_core::sip::MessageWriter::response_to(
                &mut out,
                &request,
                200,
                "OK",
                Some("fork"),
                ims_core::sip::WriteOptions::default(),
            );
            writer.header(
                ims_core::sip::HeaderName::from_wire("X-Members"),
                self.members.len().to_string().as_bytes(),
            );
            writer.finish(b"");
            vec![out]
        }

        fn as_any_mut(&mut self) -> &mut dyn Any {
            self
        }
    }

    fn group(mode: GroupMode) -> GroupTarget {
        GroupTarget {
            name: "Friends \"A\"".to_owned(),
            uri: "sip:friends@ims.test".to_owned(),
            mode,
        }
    }

    #[test]
    fn network_mode_sends_one_message_to_the_group_uri_and_paces_the_next_on_a_2xx() {
        let mut network = SimNetwork::new(Instant::now(), 5);
        network.record = true;
        network.conditions.delay = Duration::from_millis(50);
        network.add_peer(
            addr("127.0.0.1:5060"),
            Forker {
                members: vec![addr("127.0.0.1:5064")],
                forwarded: Vec::new(),
            },
        );
        let (alice, account) = user(&mut network, "alice", 5062, "127.0.0.1:5060");
        for id in 1..=3u64 {
            let mut message = text(id, "ignored", &format!("group message {id}"));
            message.group = Some(group(GroupMode::Network));
            network
                .command(alice, Command::SendMessage { account, message })
                .unwrap();
        }
        network.run_for(Duration::from_secs(2));
        let sent: Vec<(Instant, String)> = network
            .wire()
            .iter()
            .filter(|r| r.bytes.starts_with(b"MESSAGE "))
            .map(|r| (r.sent, String::from_utf8_lossy(&r.bytes).into_owned()))
            .collect();
        assert_eq!(sent.len(), 3);
        for (_, text) in &sent {
            assert!(
                text.starts_with("MESSAGE sip:friends@ims.test SIP/2.0\r\n"),
                "{text}"
            );
            assert!(text.contains("To: <sip:friends@ims.test>\r\n"), "{text}");
            assert!(
                text.contains("X-Group: \"Friends \\\"A\\\"\" <sip:friends@ims.test>\r\n"),
                "{text}"
            );
        }
        // Each next message leaves a full round trip (2 x 50 ms) after the previous.
        assert!(sent[1].0 - sent[0].0 >= Duration::from_millis(100));
        assert!(sent[2].0 - sent[1].0 >= Duration::from_millis(100));
        let order: Vec<u64> = network
            .events(alice)
            .iter()
            .filter_map(|e| match e {
                Event::MessageAccepted { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(order, vec![1, 2, 3]);
    }

    #[test]
    fn fan_out_sends_one_copy_per_member_and_releases_the_next_after_the_first_2xx() {
        let mut network = SimNetwork::new(Instant::now(), 6);
        network.record = true;
        let (alice, account) = user(&mut network, "alice", 5062, "127.0.0.1:5060");
        // Members reachable through alice's next hop: make the proxy address bob's node
        // so every copy lands there; the Request-URI picks the account.
        let members_node = network.add_engine(&[(Transport::Udp, addr("127.0.0.1:5060"))]);
        network.answer_messages(members_node, Some(200));
        for name in ["bob", "carol"] {
            network
                .add_account(
                    members_node,
                    &format!("sip:{name}@ims.test"),
                    "pw",
                    addr("127.0.0.1:5062"),
                    Transport::Udp,
                )
                .unwrap();
        }
        let members = vec![
            "sip:alice@ims.test".to_owned(), // the sender: skipped
            "sip:bob@ims.test".to_owned(),
            "sip:carol@ims.test".to_owned(),
            "sip:nobody@ims.test".to_owned(), // no account: the node hands it up unnamed
        ];
        for id in 1..=2u64 {
            let mut message = text(id, "ignored", &format!("fan-out {id}"));
            message.group = Some(group(GroupMode::FanOut {
                members: members.clone(),
            }));
            network
                .command(alice, Command::SendMessage { account, message })
                .unwrap();
        }
        network.run_for(Duration::from_secs(40));
        let got = received(&network, members_node);
        // Each of the three members gets both messages, with the group named.
        assert_eq!(got.len(), 3 * 2, "{got:?}");
        assert!(
            got.iter()
                .all(|(_, _, g)| g.as_ref().map(|g| g.1.as_str()) == Some("sip:friends@ims.test"))
        );
        // The copies of one message share its Call-ID (and CSeq), so a member that gets
        // one again after the sender's restart drops it.
        for body in [&b"fan-out 1"[..], b"fan-out 2"] {
            let call_ids: HashSet<&String> = got
                .iter()
                .filter(|(_, b, _)| b.as_slice() == body)
                .map(|(call_id, _, _)| call_id)
                .collect();
            assert_eq!(call_ids.len(), 1, "{got:?}");
        }
        // The receiver sees the text (not the multipart wrapper) and the member list.
        let incoming: Vec<_> = network
            .events(members_node)
            .iter()
            .filter_map(|e| match e {
                Event::MessageReceived(m) => Some(m.clone()),
                _ => None,
            })
            .collect();
        assert!(
            incoming.iter().all(|m| m.body.starts_with(b"fan-out ")),
            "{incoming:#?}"
        );
        assert!(
            incoming
                .iter()
                .all(|m| m.content_type == "text/plain;charset=UTF-8")
        );
        assert_eq!(
            incoming[0].group_members, members,
            "every member listed, the sender included"
        );
        let wire = network
            .wire()
            .iter()
            .find(|r| r.bytes.starts_with(b"MESSAGE "))
            .unwrap();
        let wire = String::from_utf8_lossy(&wire.bytes);
        assert!(
            wire.contains("Content-Type: multipart/mixed;boundary="),
            "{wire}"
        );
        assert!(wire.contains("application/resource-lists+xml"), "{wire}");
        let outcomes: HashMap<(u64, String), bool> = network
            .events(alice)
            .iter()
            .filter_map(|e| match e {
                Event::MessageAccepted {
                    id,
                    member: Some(m),
                    ..
                } => Some(((*id, m.clone()), true)),
                Event::MessageFailed {
                    id,
                    member: Some(m),
                    ..
                } => Some(((*id, m.clone()), false)),
                _ => None,
            })
            .collect();
        assert_eq!(outcomes.len(), 6, "{outcomes:?}");
        let tos: Vec<String> = network
            .wire()
            .iter()
            .filter(|r| r.bytes.starts_with(b"MESSAGE "))
            .map(|r| {
                String::from_utf8_lossy(&r.bytes)
                    .lines()
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(
            !tos.iter().any(|t| t.contains("alice@")),
            "no copy to the sender: {tos:?}"
        );
        // Message 2's copies leave after message 1's first 2xx.
        let first_of_2 = network
            .wire()
            .iter()
            .position(|r| r.bytes.windows(9).any(|w| w == b"fan-out 2"))
            .unwrap();
        let first_2xx = network
            .wire()
            .iter()
            .position(|r| r.bytes.starts_with(b"SIP/2.0 200") && r.to == addr("127.0.0.1:5062"))
            .unwrap();
        assert!(first_2xx < first_of_2);
    }
}

#[test]
fn a_call_id_that_is_not_a_sip_word_is_refused() {
    let mut network = SimNetwork::new(Instant::now(), 8);
    let (alice, account) = user(&mut network, "alice", 5062, "127.0.0.1:5064");
    let mut message = text(1, "sip:bob@ims.test", "x");
    message.call_id = Some("has a space".to_owned());
    let refused = network.command(alice, Command::SendMessage { account, message });
    assert_eq!(refused, Err(ims_core::engine::CommandError::UnsafeHeader));
}

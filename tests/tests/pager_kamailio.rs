//! Pager-mode IM and group chat (issue #7) between our engines through the real Kamailio
//! (scripts/peers/kamailio.cfg) on loopback, each phone with its own store file and the
//! store-backed messaging service answering for it: 1:1 text and CPIM, network-mode groups
//! of 3 and 20 (forked by Kamailio's group table), client fan-out, a group with nobody
//! registered, baresip both ways, and SIPp's malformed and oversized MESSAGEs.

// Real processes on a real clock: the store's times and CPIM's DateTime are the wall clock
// here; the clock ban of clippy.toml is for the engine (STYLE.md §2), not for test drivers.
#![allow(clippy::disallowed_methods)]

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, SystemTime};

use ims_core::engine::{Command, Event};
use ims_core::im::cpim::{self, Address, CpimHead, Disposition};
use ims_core::messaging::{TextFormat, is_notification_key, message_key};
use ims_core::store::{
    Aor, Counterpart, Direction, Group, GroupMode, Message, MessageId, MessageState, NewOutgoing,
};
use ims_core::ua::{MessageError, OutgoingMessage};
use ims_tests::{
    Baresip, BaresipAccount, ChatPhone, Kamailio, Sipp, SippTransport, SippUser, scripts_dir,
};
use tempfile::TempDir;

/// Long enough for a loaded machine; everything here is loopback.
const TIMEOUT: Duration = Duration::from_secs(15);

fn password(user: &str) -> String {
    format!("{user}-secret")
}

fn uri(user: &str) -> String {
    format!("sip:{user}@ims.test")
}

fn kamailio(users: &[&str]) -> Kamailio {
    users
        .iter()
        .fold(Kamailio::builder(), |builder, user| {
            builder.user(user, &password(user))
        })
        .start()
        .expect("start Kamailio")
}

/// One phone per user, each with its store file in `dir`, all registered.
fn phones(kamailio: &Kamailio, dir: &Path, users: &[&str]) -> Vec<ChatPhone> {
    let phones: Vec<ChatPhone> = users
        .iter()
        .map(|user| {
            ChatPhone::start(
                kamailio.addr(),
                &uri(user),
                &password(user),
                &dir.join(format!("{user}.sqlite")),
            )
        })
        .collect();
    for phone in &phones {
        phone.register();
    }
    for phone in &phones {
        phone.wait_registered(TIMEOUT);
    }
    phones
}

/// `scripts/peers/kamailio-groups --db DB ARGS...`, the provisioning command of the issue.
fn kamailio_groups(kamailio: &Kamailio, args: &[&str]) {
    let output = Process::new(scripts_dir().join("kamailio-groups"))
        .arg("--db")
        .arg(kamailio.db())
        .args(args)
        .output()
        .expect("run scripts/peers/kamailio-groups");
    assert!(
        output.status.success(),
        "kamailio-groups {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every conversation of the phone's account with its messages, oldest first.
fn conversations(phone: &ChatPhone) -> Vec<(Counterpart, Vec<Message>)> {
    let account = phone.store_account();
    phone.messenger(|messenger| {
        let store = messenger.store();
        store
            .conversations(account)
            .expect("read conversations")
            .into_iter()
            .map(|c| {
                let messages = store.messages(c.id, 10_000, None).expect("read messages");
                (c.counterpart, messages)
            })
            .collect()
    })
}

fn message_total(phone: &ChatPhone) -> usize {
    conversations(phone).iter().map(|(_, m)| m.len()).sum()
}

/// The 1:1 conversation with `peer`.
fn with_peer(phone: &ChatPhone, peer: &str) -> Vec<Message> {
    let peer = Aor::parse(peer).expect("peer URI");
    conversations(phone)
        .into_iter()
        .find(|(counterpart, _)| *counterpart == Counterpart::Peer(peer.clone()))
        .map(|(_, messages)| messages)
        .unwrap_or_default()
}

/// The group stored under `uri`, with its members and its conversation's messages.
fn group(phone: &ChatPhone, uri: &str) -> Option<(Group, Vec<Aor>, Vec<Message>)> {
    let uri = Aor::parse(uri).expect("group URI");
    let account = phone.store_account();
    let group = phone.messenger(|m| m.store().find_group(account, &uri).expect("find group"))?;
    let members = phone.messenger(|m| m.store().group_members(group.id).expect("members"));
    let messages = conversations(phone)
        .into_iter()
        .find(|(counterpart, _)| *counterpart == Counterpart::Group(group.id))
        .map(|(_, messages)| messages)
        .unwrap_or_default();
    Some((group, members, messages))
}

fn stored(phone: &ChatPhone, id: MessageId) -> Message {
    phone
        .messenger(|m| m.store().message(id).expect("read message"))
        .expect("message row")
}

fn wait_state(phone: &ChatPhone, ids: &[MessageId], state: MessageState) {
    phone.wait_until(&format!("{} messages {state:?}", ids.len()), TIMEOUT, |p| {
        ids.iter().all(|id| stored(p, *id).state == state)
    });
}

fn bodies(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

/// A member's copy of a group's texts: every text exactly once, filed in the order sent.
/// Arrival order may differ: the paper's rule lets text n+1 leave at the first 2xx for
/// text n, so a member whose branch of n is still in the core (Kamailio runs two UDP
/// workers) can get n+1 first (seen with 20 members: #3 after #4 and #5). The store
/// puts such a text back before the later one by its CSeq (the group's texts share a
/// Call-ID), which is what this checks. The sender's pacing is asserted on its own
/// events (`assert_paced`).
fn assert_filed_in_order(received: &[Message], texts: &[String], who: &str) {
    assert_eq!(bodies(received), texts, "{who}");
}

/// Stores every text of a group as `queued` first, then gives the engine all the send
/// commands at once, so that its per-group queue (not the test) decides when each leaves.
fn queue_group_texts(
    phone: &ChatPhone,
    group: ims_core::store::GroupId,
    texts: &[String],
) -> Vec<MessageId> {
    let queued: Vec<(MessageId, Command)> = texts
        .iter()
        .map(|text| {
            phone
                .messenger(|m| m.send_group(phone.account(), group, text, SystemTime::now()))
                .expect("store a group text")
        })
        .collect();
    queued
        .into_iter()
        .map(|(id, command)| {
            phone.command(command);
            id
        })
        .collect()
}

/// From the sender's events (in the order its engine emitted them): every copy of message
/// n+1 went out (`MessageSending`) after the first 2xx of message n (`MessageAccepted`),
/// never before. Returns how many were released by that very 2xx (the next event after it),
/// which shows the engine's queue held them.
fn assert_paced(phone: &ChatPhone, ids: &[MessageId]) -> usize {
    let seen = phone.seen();
    let first = |wanted: &dyn Fn(&Event) -> bool| seen.iter().position(|s| wanted(&s.event));
    let mut released_by_2xx = 0;
    for pair in ids.windows(2) {
        let (previous, next) = (message_key(pair[0]), message_key(pair[1]));
        let accepted =
            first(&|e| matches!(e, Event::MessageAccepted { id, .. } if *id == previous))
                .unwrap_or_else(|| panic!("no 2xx for message {previous}: {seen:#?}"));
        let sending = first(&|e| matches!(e, Event::MessageSending { id, .. } if *id == next))
            .unwrap_or_else(|| panic!("message {next} never sent: {seen:#?}"));
        assert!(
            sending > accepted,
            "message {next} left (event {sending}) before the 2xx of message {previous} \
             (event {accepted}): {seen:#?}"
        );
        assert!(seen[sending].at >= seen[accepted].at);
        if sending == accepted + 1 {
            released_by_2xx += 1;
        }
    }
    released_by_2xx
}

/// The delivery notifications `phone` sent (engine ids with the notification bit) that
/// were answered 2xx.
fn notifications_accepted(phone: &ChatPhone) -> usize {
    phone
        .seen()
        .iter()
        .filter(
            |s| matches!(&s.event, Event::MessageAccepted { id, .. } if is_notification_key(*id)),
        )
        .count()
}

#[test]
fn one_to_one_text_and_cpim_are_stored_on_both_sides_once_and_delivery_is_notified() {
    let kamailio = kamailio(&["alice", "bob"]);
    let dir = TempDir::new().expect("temp dir");
    let [alice, bob]: [ChatPhone; 2] = phones(&kamailio, dir.path(), &["alice", "bob"])
        .try_into()
        .expect("two phones");

    // 1. Plain text: sent, no notification asked for.
    let plain = "hello bob, grüße from alice";
    let plain_id = alice.send_text(&uri("bob"), plain);
    wait_state(&alice, &[plain_id], MessageState::Sent);
    bob.wait_until("the text stored", TIMEOUT, |b| message_total(b) == 1);

    // 2. CPIM asking for positive delivery (RFC 5438): delivered once bob's notification,
    // itself a MESSAGE through Kamailio, reaches alice.
    let asking = "CPIM: ça va, bob? tell me you got it";
    let (asking_id, asking_command) = alice
        .messenger(|m| {
            m.send_text_as(
                alice.account(),
                &uri("bob"),
                asking,
                TextFormat::CpimDelivery,
                SystemTime::now(),
            )
        })
        .expect("store the CPIM text");
    alice.command(asking_command.clone());
    wait_state(&alice, &[asking_id], MessageState::Delivered);
    bob.wait_until("the CPIM text stored", TIMEOUT, |b| message_total(b) == 2);
    bob.wait_until("its notification answered", TIMEOUT, |b| {
        notifications_accepted(b) == 1
    });

    // The same MESSAGE again (same Call-ID, CSeq and Message-ID, as after a restart): bob
    // answers 200 and notifies again, but keeps one copy.
    alice.command(asking_command);
    bob.wait_until("the repeated notification answered", TIMEOUT, |b| {
        notifications_accepted(b) == 2
    });

    // 3. CPIM from another client (ims_core::im::cpim::write), asking nothing: stored by
    // hand as the sender would, sent as message/cpim.
    let mut cpim_body = Vec::new();
    cpim::write(
        &mut cpim_body,
        &CpimHead {
            from: Address::new(Some("Alice"), &uri("alice")),
            to: Address::new(Some("Bob"), &uri("bob")),
            datetime: SystemTime::now(),
            message_id: "pager-kamailio-cpim-3",
            disposition: Disposition::NONE,
            content_type: "text/plain;charset=UTF-8",
            content_headers: &[],
        },
        "CPIM without a notification".as_bytes(),
    )
    .expect("write CPIM");
    let call_id = format!(
        "pager-kamailio-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    );
    let raw_id = alice.messenger(|m| {
        let account = alice.store_account();
        let store = m.store_mut();
        let conversation = store
            .conversation_with_peer(account, &Aor::parse(&uri("bob")).expect("URI"))
            .expect("conversation");
        let id = store
            .insert_outgoing(&NewOutgoing {
                conversation,
                body: &cpim_body,
                content_type: cpim::CONTENT_TYPE,
                imdn_message_id: None,
                created_at: SystemTime::now(),
            })
            .expect("store");
        store.record_sip_ids(id, &call_id, 1).expect("store");
        id
    });
    alice.command(Command::SendMessage {
        account: alice.account(),
        message: OutgoingMessage {
            id: message_key(raw_id),
            to: uri("bob"),
            body: cpim_body.clone(),
            content_type: cpim::CONTENT_TYPE.to_owned(),
            call_id: Some(call_id.clone()),
            cseq: Some(1),
            group: None,
            headers: Vec::new(),
        },
    });
    wait_state(&alice, &[raw_id], MessageState::Sent);
    bob.wait_until("the third message stored", TIMEOUT, |b| {
        message_total(b) == 3
    });

    // 4. bob answers; once alice has it, any notification bob sent before is in too.
    let reply = "got them all";
    let reply_id = bob.send_text(&uri("alice"), reply);
    wait_state(&bob, &[reply_id], MessageState::Sent);
    alice.wait_until("bob's reply stored", TIMEOUT, |a| message_total(a) == 4);

    // alice: one conversation, with bob, in order.
    assert_eq!(
        conversations(&alice).len(),
        1,
        "{:#?}",
        conversations(&alice)
    );
    let at_alice = with_peer(&alice, &uri("bob"));
    let states: Vec<(Direction, MessageState)> =
        at_alice.iter().map(|m| (m.direction, m.state)).collect();
    assert_eq!(
        states,
        [
            (Direction::Outgoing, MessageState::Sent),
            (Direction::Outgoing, MessageState::Delivered),
            (Direction::Outgoing, MessageState::Sent),
            (Direction::Incoming, MessageState::Delivered),
        ],
        "{at_alice:#?}"
    );
    assert_eq!(bodies(&at_alice)[0], plain);
    assert_eq!(
        bodies(&at_alice)[1],
        asking,
        "the text is stored, not the envelope"
    );
    assert_eq!(at_alice[2].body, cpim_body);
    assert_eq!(bodies(&at_alice)[3], reply);
    assert!(at_alice[1].imdn_message_id.is_some());
    assert!(at_alice.iter().all(|m| m.sip_call_id.is_some()));
    assert_eq!(
        notifications_accepted(&alice),
        0,
        "alice was asked for no notification"
    );

    // bob: the three, once each, incoming from alice, then his reply.
    assert_eq!(conversations(&bob).len(), 1, "{:#?}", conversations(&bob));
    let at_bob = with_peer(&bob, &uri("alice"));
    assert_eq!(
        bodies(&at_bob),
        [plain, asking, "CPIM without a notification", reply],
        "{at_bob:#?}"
    );
    for (got, sent) in at_bob.iter().zip(&at_alice).take(3) {
        assert_eq!(got.direction, Direction::Incoming);
        assert_eq!(got.state, MessageState::Delivered);
        assert_eq!(got.sender.as_str(), uri("alice"));
        assert_eq!(
            got.sip_call_id, sent.sip_call_id,
            "the Call-ID of the MESSAGE"
        );
        assert!(
            got.content_type.starts_with("text/plain"),
            "the inner content type: {}",
            got.content_type
        );
    }
    assert_eq!(at_bob[1].imdn_message_id, at_alice[1].imdn_message_id);
    assert_eq!(
        at_bob[2].imdn_message_id.as_deref(),
        Some("pager-kamailio-cpim-3")
    );
    assert_eq!(
        notifications_accepted(&bob),
        2,
        "one notification per copy of the message asking for one, none for the others"
    );
}

/// alice and `others` register, the group `name` (`user@ims.test`) is provisioned in
/// Kamailio with all of them by scripts/peers/kamailio-groups, alice sends `count` texts to
/// it at once in network mode: every other member files each under the group, in order,
/// and no text left alice before the 2xx of the one before.
fn network_group(name: &str, display: &str, others: &[String], count: usize) {
    let mut users: Vec<&str> = vec!["alice"];
    users.extend(others.iter().map(String::as_str));
    let kamailio = kamailio(&users);
    let group_uri = uri(name);
    let aors: Vec<String> = users.iter().map(|u| format!("{u}@ims.test")).collect();
    let mut args = vec!["add".to_owned(), format!("{name}@ims.test")];
    args.extend(aors);
    kamailio_groups(
        &kamailio,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );

    let dir = TempDir::new().expect("temp dir");
    let phones = phones(&kamailio, dir.path(), &users);
    let (alice, members) = phones.split_first().expect("alice first");
    let member_uris: Vec<String> = users.iter().map(|u| uri(u)).collect();
    let group_id = alice.create_group(
        &group_uri,
        display,
        GroupMode::Network,
        &member_uris.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let texts: Vec<String> = (1..=count).map(|n| format!("{display} #{n}")).collect();
    let ids = queue_group_texts(alice, group_id, &texts);

    wait_state(alice, &ids, MessageState::Sent);
    for member in members {
        member.wait_until(&format!("{count} group messages"), TIMEOUT, |m| {
            message_total(m) == count
        });
    }

    // The sender: one MESSAGE per text, each after the 2xx of the previous one.
    let released = assert_paced(alice, &ids);
    assert!(
        released >= 1,
        "no text waited in the engine's group queue: {:#?}",
        alice.seen()
    );
    let seen = alice.seen();
    for id in &ids {
        let copies = seen
            .iter()
            .filter(|s| matches!(&s.event, Event::MessageSending { id: i, member: None, .. } if *i == message_key(*id)))
            .count();
        assert_eq!(copies, 1, "network mode sends one MESSAGE per text");
    }
    assert!(
        !seen
            .iter()
            .any(|s| matches!(s.event, Event::MessageReceived(_))),
        "the sender got its own message back: {seen:#?}"
    );
    let (_, _, sent) = group(alice, &group_uri).expect("alice's group");
    assert_eq!(bodies(&sent), texts);

    // Kamailio forked each to every other member.
    let forked = format!(
        "group {group_uri}: MESSAGE from {} to {} member(s)",
        uri("alice"),
        members.len()
    );
    assert_eq!(
        kamailio.log().matches(&forked).count(),
        count,
        "{forked:?} in {}",
        kamailio.log()
    );

    // Every member: one conversation, the group's, named from X-Group, texts in order.
    for member in members {
        let all = conversations(member);
        assert_eq!(
            all.len(),
            1,
            "{}: filed under the group only: {all:#?}",
            member.aor()
        );
        let (stored_group, _, received) = group(member, &group_uri)
            .unwrap_or_else(|| panic!("{} has no group {group_uri}: {all:#?}", member.aor()));
        assert_eq!(stored_group.name, display);
        assert_eq!(stored_group.mode, GroupMode::Network);
        assert_filed_in_order(&received, &texts, member.aor());
        for message in &received {
            assert_eq!(message.direction, Direction::Incoming);
            assert_eq!(message.sender.as_str(), uri("alice"));
        }
        // The group's texts share a Call-ID; CSeq counts them in the order typed.
        let sip_ids = |messages: &[Message]| -> Vec<_> {
            messages
                .iter()
                .map(|m| (m.sip_call_id.clone(), m.sip_cseq))
                .collect()
        };
        let (call_ids, sent_ids) = (sip_ids(&received), sip_ids(&sent));
        assert!(
            sent_ids
                .iter()
                .all(|(c, _)| c.is_some() && *c == sent_ids[0].0),
            "{sent_ids:?}"
        );
        assert_eq!(
            call_ids,
            sent_ids,
            "{}: one stored copy per MESSAGE",
            member.aor()
        );
    }
}

#[test]
fn network_group_of_three_files_every_message_in_order_one_at_a_time() {
    network_group(
        "friends",
        "Friends",
        &["bob".to_owned(), "carol".to_owned()],
        5,
    );
}

#[test]
fn network_group_of_twenty_files_every_message_in_order_one_at_a_time() {
    let others: Vec<String> = (1..=19).map(|n| format!("member{n:02}")).collect();
    network_group("crowd", "Crowd", &others, 5);
}

#[test]
fn network_group_with_no_registered_member_is_refused_with_480() {
    let kamailio = kamailio(&["alice", "dave"]);
    kamailio_groups(
        &kamailio,
        &["add", "lonely@ims.test", "alice@ims.test", "dave@ims.test"],
    );
    let dir = TempDir::new().expect("temp dir");
    let [alice]: [ChatPhone; 1] = phones(&kamailio, dir.path(), &["alice"])
        .try_into()
        .expect("one phone");
    let group_id = alice.create_group(
        &uri("lonely"),
        "Lonely",
        GroupMode::Network,
        &[&uri("alice"), &uri("dave")],
    );
    let id = alice.send_group(group_id, "anyone?");
    wait_state(&alice, &[id], MessageState::Failed);
    let failed = alice.wait_event("MessageFailed", TIMEOUT, |e| {
        matches!(e, Event::MessageFailed { .. })
    });
    assert!(
        matches!(
            failed.event,
            Event::MessageFailed {
                reason: MessageError::Rejected { status: 480, .. },
                ..
            }
        ),
        "{failed:?}"
    );
    let reason = stored(&alice, id).failure_reason.unwrap_or_default();
    assert!(reason.starts_with("480"), "{reason}");
}

#[test]
fn client_fan_out_group_reaches_every_member_without_the_group_table() {
    let kamailio = kamailio(&["alice", "bob", "carol"]);
    let dir = TempDir::new().expect("temp dir");
    let [alice, bob, carol]: [ChatPhone; 3] =
        phones(&kamailio, dir.path(), &["alice", "bob", "carol"])
            .try_into()
            .expect("three phones");
    let members = [uri("alice"), uri("bob"), uri("carol")];
    let group_uri = uri("hikers");
    let group_id = alice.create_group(
        &group_uri,
        "Hikers",
        GroupMode::Fanout,
        &members.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let texts: Vec<String> = (1..=3).map(|n| format!("Hikers #{n}")).collect();
    let ids = queue_group_texts(&alice, group_id, &texts);
    wait_state(&alice, &ids, MessageState::Sent);
    for phone in [&bob, &carol] {
        phone.wait_until("3 group messages", TIMEOUT, |p| message_total(p) == 3);
    }
    // Each member's copy is recorded as sent.
    let others = [uri("bob"), uri("carol")];
    alice.wait_until("every copy sent", TIMEOUT, |a| {
        ids.iter().all(|id| {
            let recipients = a.messenger(|m| m.store().recipients(*id).expect("recipients"));
            others.iter().all(|member| {
                recipients
                    .iter()
                    .any(|r| r.aor.as_str() == member && r.state == MessageState::Sent)
            })
        })
    });
    let seen = alice.seen();
    for id in &ids {
        let copies: Vec<Option<String>> = seen
            .iter()
            .filter_map(|s| match &s.event {
                Event::MessageSending { id: i, member, .. } if *i == message_key(*id) => {
                    Some(member.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            copies,
            vec![Some(uri("bob")), Some(uri("carol"))],
            "one copy per member, none to the sender"
        );
    }
    let released = assert_paced(&alice, &ids);
    assert!(released >= 1, "no text waited in the engine's group queue");
    assert!(
        !kamailio.log().contains("member(s)"),
        "Kamailio forked a fan-out copy: {}",
        kamailio.log()
    );

    for phone in [&bob, &carol] {
        let all = conversations(phone);
        assert_eq!(
            all.len(),
            1,
            "{}: filed under the group only: {all:#?}",
            phone.aor()
        );
        let (stored_group, stored_members, received) =
            group(phone, &group_uri).expect("the group, created from the member list");
        assert_eq!(stored_group.name, "Hikers");
        assert_eq!(stored_group.mode, GroupMode::Fanout);
        let mut stored_members: Vec<&str> = stored_members.iter().map(Aor::as_str).collect();
        stored_members.sort_unstable();
        assert_eq!(
            stored_members,
            members.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_filed_in_order(&received, &texts, phone.aor());
        assert!(received.iter().all(|m| m.sender.as_str() == uri("alice")));
        assert!(
            received
                .iter()
                .all(|m| m.content_type.starts_with("text/plain")),
            "the text part is stored, not the multipart body: {received:#?}"
        );
    }
}

#[test]
fn baresip_receives_our_message_and_we_store_its_reply() {
    let kamailio = kamailio(&["alice", "bob"]);
    let mut baresip = Baresip::start_with_contacts(
        &BaresipAccount {
            user: "bob".to_owned(),
            password: password("bob"),
            domain: kamailio.domain().to_owned(),
            registrar: kamailio.addr(),
        },
        &[&uri("alice")],
    )
    .expect("start baresip");
    kamailio
        .wait_registered("bob", TIMEOUT)
        .expect("baresip registers");
    let dir = TempDir::new().expect("temp dir");
    let [alice]: [ChatPhone; 1] = phones(&kamailio, dir.path(), &["alice"])
        .try_into()
        .expect("one phone");

    let text = "hello baresip, this is ims-rs";
    let id = alice.send_text(&uri("bob"), text);
    wait_state(&alice, &[id], MessageState::Sent);
    let accepted = alice.wait_event("2xx", TIMEOUT, |e| {
        matches!(e, Event::MessageAccepted { .. })
    });
    assert!(
        matches!(accepted.event, Event::MessageAccepted { status: 200, .. }),
        "{accepted:?}"
    );
    let shown = baresip
        .wait_console(&format!("{}: \"{text}\"", uri("alice")), TIMEOUT)
        .expect("baresip shows the text from alice");
    assert_eq!(shown.matches(text).count(), 1, "shown once: {shown}");

    let current = baresip.command("contact_next", "").expect("contact_next");
    assert!(current.contains(&uri("alice")), "{current}");
    let reply = "hello ims-rs, baresip here";
    baresip.command("message", reply).expect("baresip sends");
    alice.wait_until("baresip's message stored", TIMEOUT, |a| {
        with_peer(a, &uri("bob")).len() == 2
    });
    let conversation = with_peer(&alice, &uri("bob"));
    assert_eq!(conversations(&alice).len(), 1);
    assert_eq!(conversation[1].direction, Direction::Incoming);
    assert_eq!(conversation[1].sender.as_str(), uri("bob"));
    assert_eq!(String::from_utf8_lossy(&conversation[1].body), reply);
}

/// A raw OPTIONS to `address` over UDP; the status line of the answer.
fn options(address: SocketAddr) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let local = socket.local_addr().expect("local address");
    let request = format!(
        "OPTIONS sip:bob@{address} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-pager-options-{port}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@ims.test>;tag=probe\r\n\
         To: <sip:bob@ims.test>\r\n\
         Call-ID: pager-options-{port}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        port = local.port()
    );
    socket
        .send_to(request.as_bytes(), address)
        .expect("send OPTIONS");
    let mut buffer = [0u8; 4096];
    let (length, _) = socket.recv_from(&mut buffer).expect("an answer to OPTIONS");
    String::from_utf8_lossy(&buffer[..length])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn malformed_and_oversized_messages_are_refused_and_nothing_is_stored() {
    let kamailio = kamailio(&["alice", "bob"]);
    let dir = TempDir::new().expect("temp dir");
    let [bob]: [ChatPhone; 1] = phones(&kamailio, dir.path(), &["bob"])
        .try_into()
        .expect("one phone");
    let sipp_alice = SippUser::new("alice", &password("alice"), kamailio.domain()).peer("bob");

    for transport in [SippTransport::Udp, SippTransport::Tcp] {
        Sipp::new("message-malformed.xml", &sipp_alice)
            .transport(transport)
            .run(bob.local_address(), TIMEOUT)
            .expect("run SIPp")
            .assert_success();
        // The default limit is 16 KiB of body; 20,000 bytes still fit one UDP datagram.
        Sipp::new("message-oversized.xml", &sipp_alice)
            .key("body_size", "20000")
            .transport(transport)
            .run(bob.local_address(), TIMEOUT)
            .expect("run SIPp")
            .assert_success();
    }

    assert_eq!(
        options(bob.local_address()),
        "SIP/2.0 200 OK",
        "the phone still answers"
    );
    let seen = bob.seen();
    assert!(
        !seen
            .iter()
            .any(|s| matches!(s.event, Event::MessageReceived(_))),
        "a refused MESSAGE reached the application: {seen:#?}"
    );
    assert_eq!(message_total(&bob), 0, "{:#?}", conversations(&bob));
    assert!(bob.messaging_errors().is_empty());

    // And a well-formed one through Kamailio is still stored.
    Sipp::new("message.xml", &sipp_alice)
        .run(kamailio.addr(), TIMEOUT)
        .expect("run SIPp")
        .assert_success();
    bob.wait_until("the good MESSAGE stored", TIMEOUT, |b| {
        message_total(b) == 1
    });
    assert_eq!(
        bodies(&with_peer(&bob, &uri("alice"))),
        ["hello bob from alice\r\n"]
    );
}

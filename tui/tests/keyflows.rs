//! Key flows through the Action layer with a fixed clock: what the keys do to the store
//! and what goes to the engine.

mod common;

use std::net::SocketAddr;

use common::{ALICE, Harness, aor, at};
use crossterm::event::{KeyCode, KeyModifiers};
use ims_core::driver::trace::Direction as WireDirection;
use ims_core::engine::{Command, Event};
use ims_core::store::{Direction, GroupMode, MessageState};
use ims_core::transport::Transport;
use ims_core::ua::MessageError;
use ims_tui::{Action, Effect, Target};

fn sent_message(harness: &mut Harness) -> (u64, String) {
    let commands = harness.commands();
    let [Command::SendMessage { message, .. }] = commands.as_slice() else {
        panic!("one SendMessage expected, got {commands:?}");
    };
    (message.id, message.to.clone())
}

fn account(harness: &Harness) -> ims_core::ua::AccountId {
    harness.engine_account
}

#[test]
fn typing_a_message_stores_it_queued_sends_it_and_shows_each_state() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    harness.chars("hello bob");
    harness.key_with(KeyCode::Enter, KeyModifiers::ALT);
    harness.chars("second line");
    harness.key(KeyCode::Enter);
    assert!(
        harness.app.input.is_empty(),
        "the input is cleared after sending"
    );
    let (id, to) = sent_message(&mut harness);
    assert_eq!(to, "sip:bob@ims.test");
    let chat = harness.app.chat.as_ref().expect("open");
    let last = chat.data.messages.last().expect("stored");
    assert_eq!(last.body, "hello bob\nsecond line");
    assert_eq!(last.direction, Direction::Outgoing);
    assert_eq!(last.state, MessageState::Queued);
    assert!(harness.render(80, 24).contains("· queued"));

    let engine_account = account(&harness);
    let events = [
        Event::MessageSending {
            account: engine_account,
            id,
            member: None,
            call_id: "c-1".into(),
            cseq: 1,
        },
        Event::MessageAccepted {
            account: engine_account,
            id,
            member: None,
            status: 200,
        },
    ];
    let actions = harness.backend.on_events(&events, at(10));
    harness.apply(actions);
    let chat = harness.app.chat.as_ref().expect("open");
    assert_eq!(
        chat.data.messages.last().map(|m| m.state),
        Some(MessageState::Sent)
    );
    assert!(harness.render(80, 24).contains("✓ sent"));
}

#[test]
fn a_failed_message_shows_why_and_r_sends_it_again() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char(':'));
    harness.chars("msg carol are you there?");
    harness.key(KeyCode::Enter);
    let (id, to) = sent_message(&mut harness);
    assert_eq!(to, "sip:carol@ims.test");
    let engine_account = account(&harness);
    let actions = harness.backend.on_events(
        &[Event::MessageFailed {
            account: engine_account,
            id,
            member: None,
            reason: MessageError::Rejected {
                status: 480,
                reason: "Temporarily Unavailable".into(),
            },
        }],
        at(20),
    );
    harness.apply(actions);
    let screen = harness.render(100, 24);
    assert!(
        screen.contains("failed: 480 Temporarily Unavailable"),
        "{screen}"
    );
    harness.key(KeyCode::Esc); // input -> messages
    harness.key(KeyCode::Char('r'));
    let (again, to) = sent_message(&mut harness);
    assert_eq!((again, to.as_str()), (id, "sip:carol@ims.test"));
    let chat = harness.app.chat.as_ref().expect("open");
    assert_eq!(
        chat.data.messages.last().map(|m| m.state),
        Some(MessageState::Queued)
    );
}

#[test]
fn a_group_created_by_command_is_stored_listed_and_messaged_by_name() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char(':'));
    harness.chars("group create Climbers bob carol --fanout");
    harness.key(KeyCode::Enter);
    let store = harness.backend.messenger_mut().store();
    let alice = store
        .find_account(&aor(ALICE))
        .expect("read")
        .expect("account")
        .id;
    let group = store
        .find_group(alice, &aor("sip:climbers@ims.test"))
        .expect("read")
        .expect("created");
    assert_eq!(group.mode, GroupMode::Fanout);
    assert_eq!(
        store.group_members(group.id).expect("members"),
        vec![aor("sip:bob@ims.test"), aor("sip:carol@ims.test")]
    );
    assert!(harness.render(80, 24).contains("Climbers"));
    harness.key(KeyCode::Char(':'));
    harness.chars("msg climbers on the wall at 6");
    harness.key(KeyCode::Enter);
    let commands = harness.commands();
    let [Command::SendMessage { message, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    let target = message.group.as_ref().expect("a group message");
    assert_eq!(target.name, "Climbers");
    assert_eq!(
        harness.app.chat.as_ref().map(|c| c.data.target.clone()),
        Some(Target::Group(group.id))
    );
}

#[test]
fn the_add_contact_form_adds_a_contact_and_bad_input_is_explained() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('a'));
    harness.chars("dan@ims.test");
    harness.key(KeyCode::Tab);
    harness.chars("Dan");
    harness.key(KeyCode::Enter);
    assert!(harness.app.form.is_none());
    assert!(
        harness
            .app
            .directory
            .contacts
            .iter()
            .any(|c| c.aor.as_str() == "sip:dan@ims.test" && c.name.as_deref() == Some("Dan"))
    );
    harness.key(KeyCode::Char(':'));
    harness.chars("frobnicate");
    harness.key(KeyCode::Enter);
    assert!(harness.render(80, 24).contains("unknown command"));
    harness.key(KeyCode::Char('a'));
    harness.key(KeyCode::Enter);
    assert!(harness.render(80, 24).contains("the address is required"));
}

#[test]
fn deleting_asks_first() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('j')); // Bob
    harness.key(KeyCode::Char('d'));
    assert!(harness.render(80, 24).contains("Delete contact Bob?"));
    harness.key(KeyCode::Char('n'));
    assert!(
        harness
            .app
            .directory
            .contacts
            .iter()
            .any(|c| c.label() == "Bob")
    );
    harness.key(KeyCode::Char('d'));
    harness.key(KeyCode::Char('y'));
    assert!(
        harness.effects.contains(&Effect::DeleteContact(
            harness
                .effects
                .iter()
                .find_map(|e| match e {
                    Effect::DeleteContact(id) => Some(*id),
                    _ => None,
                })
                .expect("deleted")
        ))
    );
    assert!(
        !harness
            .app
            .directory
            .contacts
            .iter()
            .any(|c| c.label() == "Bob")
    );
}

#[test]
fn opening_a_conversation_marks_it_read() {
    let mut harness = Harness::with_data();
    assert_eq!(harness.app.total_unread(), 3);
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    assert_eq!(
        harness.app.total_unread(),
        1,
        "bob's two are read, dave's one is not"
    );
}

const REGISTER: &[u8] = b"REGISTER sip:ims.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@ims.test>;tag=1\r\nTo: <sip:alice@ims.test>\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
const OK: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@ims.test>;tag=1\r\nTo: <sip:alice@ims.test>;tag=2\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:5070>;expires=600\r\nContent-Length: 0\r\n\r\n";

#[test]
fn the_trace_lists_flows_then_a_ladder_then_one_message_and_exports() {
    let mut harness = Harness::with_data();
    let local = SocketAddr::from(([127, 0, 0, 1], 5070));
    let remote = SocketAddr::from(([127, 0, 0, 1], 5060));
    for (n, (bytes, direction)) in [
        (REGISTER, WireDirection::Sent),
        (OK, WireDirection::Received),
    ]
    .into_iter()
    .enumerate()
    {
        harness.dispatch(Action::Trace(Box::new(ims_tui::trace::record(
            at(n as u64),
            direction,
            Transport::Udp,
            local,
            remote,
            bytes,
        ))));
    }
    harness.key(KeyCode::Char('3'));
    insta::assert_snapshot!("trace_flows_80x24", harness.render(80, 24));
    harness.key(KeyCode::Enter);
    insta::assert_snapshot!("trace_ladder_80x24", harness.render(80, 24));
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    insta::assert_snapshot!("trace_message_80x24", harness.render(80, 24));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("session.pcap");
    harness.key(KeyCode::Char(':'));
    harness.chars(&format!("export {}", path.display()));
    harness.key(KeyCode::Enter);
    assert!(harness.effects.contains(&Effect::ExportTrace(path.clone())));
    // The loop owns the trace; it writes the file as the program does.
    let action = ims_tui::backend::export_trace(&harness.app.trace, &path, 0);
    harness.dispatch(action);
    let bytes = std::fs::read(&path).expect("written");
    assert_eq!(bytes[..4], 0xa1b2_c3d4u32.to_le_bytes());
    assert!(harness.render(80, 24).contains("2 messages written"));
}

#[test]
fn a_text_the_store_refuses_comes_back_to_the_input() {
    let mut harness = Harness::with_data();
    let actions = harness.backend.execute(
        Effect::Send {
            target: Target::Group(ims_core::store::GroupId(999)),
            text: "not lost\nat all".into(),
        },
        at(5),
    );
    harness.apply(actions);
    assert_eq!(harness.app.input.text(), "not lost\nat all");
    assert!(harness.render(100, 24).contains("message not sent"));
    assert!(harness.commands().is_empty(), "nothing went to the engine");
}

#[test]
fn the_first_run_form_checks_the_address_and_asks_to_save_the_account() {
    let mut app = ims_tui::App::new("", at(0));
    app.open_first_run();
    let mut effects = Vec::new();
    let mut press = |app: &mut ims_tui::App, code: KeyCode| {
        let key = crossterm::event::KeyEvent::new(code, KeyModifiers::NONE);
        if let Some(action) = ims_tui::keymap::action(app, key) {
            effects.extend(app.update(action));
        }
    };
    for c in "alice".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert!(app.form.is_some(), "a bad address keeps the form open");
    assert!(
        matches!(&app.notice, Some(ims_tui::action::Notice::Error(e)) if e.contains("user@domain"))
    );
    for c in "@ims.test".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Tab);
    for c in "pw".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::SaveAccount {
            aor: "sip:alice@ims.test".into(),
            password: "pw".into(),
            proxy: String::new(),
            transport: "udp".into(),
        }]
    );
}

#[test]
fn a_backlog_from_the_last_run_goes_out_paced() {
    let mut harness = Harness::with_data();
    let store = harness.backend.messenger_mut().store_mut();
    let alice = store
        .find_account(&aor(ALICE))
        .expect("read")
        .expect("account")
        .id;
    let with_bob = store
        .conversation_with_peer(alice, &aor("sip:bob@ims.test"))
        .expect("conversation");
    for n in 0..50u8 {
        store
            .insert_outgoing(&ims_core::store::NewOutgoing {
                conversation: with_bob,
                body: &[b'a' + n % 26],
                content_type: "text/plain",
                imdn_message_id: None,
                created_at: at(u64::from(n)),
            })
            .expect("queued");
    }
    let actions = harness.backend.resend_pending();
    harness.apply(actions);
    let first = harness.commands();
    assert_eq!(first.len(), ims_tui::backend::BACKLOG_WINDOW);
    assert_eq!(harness.backend.backlog_len(), 50 - first.len());
    // Each answer lets one more go.
    let ids: Vec<u64> = first
        .iter()
        .filter_map(|c| match c {
            Command::SendMessage { message, .. } => Some(message.id),
            _ => None,
        })
        .collect();
    let engine_account = harness.engine_account;
    let actions = harness.backend.on_events(
        &[
            Event::MessageAccepted {
                account: engine_account,
                id: ids[0],
                member: None,
                status: 200,
            },
            Event::MessageFailed {
                account: engine_account,
                id: ids[1],
                member: None,
                reason: MessageError::Timeout,
            },
        ],
        at(60),
    );
    harness.apply(actions);
    assert_eq!(harness.commands().len(), 2);
    assert_eq!(
        harness.backend.backlog_len(),
        50 - ims_tui::backend::BACKLOG_WINDOW - 2
    );
}

/// The Account screen: edit the account in use (secrets left empty are kept), add one,
/// switch to another; mistakes keep the form open on the wrong field.
#[test]
fn accounts_are_edited_added_and_switched_from_the_account_screen() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('4'));
    harness.key(KeyCode::Char('e'));
    // AOR, IMPI, Password (left empty), Proxy: replace it.
    for _ in 0..3 {
        harness.key(KeyCode::Tab);
    }
    harness.key_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    harness.chars("127.0.0.1:5080");
    harness.effects.clear();
    harness.key(KeyCode::Enter);
    let [Effect::SaveSettings { index, edit }] = harness.effects.as_slice() else {
        panic!("one save expected: {:?}", harness.effects);
    };
    assert_eq!(*index, Some(0));
    assert_eq!(edit.aor, ALICE);
    assert_eq!(edit.proxy, "127.0.0.1:5080");
    assert_eq!(edit.transport, "udp");
    assert_eq!(edit.password, None, "an empty password keeps the saved one");
    assert!(harness.app.form.is_none());

    // A new account with a bad proxy: refused in the form, on the Proxy field.
    harness.effects.clear();
    harness.key(KeyCode::Char('a'));
    harness.chars("carol@ims.test");
    for _ in 0..3 {
        harness.key(KeyCode::Tab);
    }
    harness.chars("pcscf.test:70000");
    harness.key(KeyCode::Enter);
    assert!(harness.effects.is_empty());
    let form = harness.app.form.as_ref().expect("still open");
    assert_eq!(form.fields[form.focus].0, "Proxy");
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("host[:port]")),
        "{:?}",
        form.error
    );
    harness.key_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    harness.chars("pcscf.test:5060");
    harness.key(KeyCode::Enter);
    let [Effect::SaveSettings { index: None, edit }] = harness.effects.as_slice() else {
        panic!("a new account expected: {:?}", harness.effects);
    };
    assert_eq!(edit.aor, "sip:carol@ims.test");

    // Enter on another account switches to it; on the one in use it does nothing.
    harness.effects.clear();
    harness.key(KeyCode::Enter);
    assert!(harness.effects.is_empty(), "{:?}", harness.effects);
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    assert_eq!(harness.effects, [Effect::SwitchAccount(1)]);
    // The loop answers with the new list: the other account is in use, the open
    // conversation (alice's) closes.
    harness.dispatch(Action::ShowScreen(ims_tui::Screen::Chats));
    harness.key(KeyCode::Enter);
    assert!(harness.app.chat.is_some());
    let accounts = harness.app.accounts.clone();
    harness.dispatch(Action::Accounts {
        accounts,
        active: 1,
        paths: Vec::new(),
    });
    assert_eq!(harness.app.aor, "sip:alice@ims.example");
    assert!(harness.app.chat.is_none());
    assert_eq!(harness.app.account_active, 1);
}

/// The mouse at 80x24: a click on a tab shows its screen, a click on a list row selects
/// it and a second click opens it, the wheel scrolls the pane under it (focusing it),
/// and nothing reaches the screen under an open form.
#[test]
fn mouse_clicks_select_and_open_and_the_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    use ims_tui::Pane;
    use ratatui::layout::Rect;
    fn mouse(harness: &mut Harness, kind: MouseEventKind, column: u16, row: u16) {
        let event = MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        let actions = ims_tui::mouse::actions(&harness.app, event, Rect::new(0, 0, 80, 24));
        harness.apply(actions);
    }
    let click = MouseEventKind::Down(MouseButton::Left);
    let mut harness = Harness::with_data();
    // Row 2 is the first entry (Friends), row 3 Bob.
    mouse(&mut harness, click, 5, 3);
    assert_eq!(harness.app.selected, 1);
    assert!(harness.app.chat.is_none(), "one click selects");
    mouse(&mut harness, click, 5, 3);
    let chat = harness.app.chat.as_ref().expect("a second click opens");
    assert_eq!(chat.data.title, "Bob");
    // Below the last entry: nothing.
    let before = harness.app.selected;
    mouse(&mut harness, click, 5, 20);
    assert_eq!(harness.app.selected, before);
    // The wheel over the conversation focuses it and moves up through it.
    mouse(&mut harness, MouseEventKind::ScrollUp, 50, 5);
    assert_eq!(harness.app.pane, Pane::Messages);
    let chat = harness.app.chat.as_ref().expect("open");
    assert_eq!(
        chat.selected,
        Some(0),
        "two messages: three rows up is the top"
    );
    // A click on the input focuses it.
    mouse(&mut harness, click, 50, 21);
    assert_eq!(harness.app.pane, Pane::Input);

    // Tabs sit at the right of the status bar: click " 2 ".
    let screen = harness.render(80, 24);
    let top = screen.lines().next().expect("top line").trim_matches('"');
    let at = top.rfind(" 2 ").expect("tab 2");
    let column = u16::try_from(top[..at].chars().count() + 1).expect("column");
    mouse(&mut harness, click, column, 0);
    assert_eq!(harness.app.screen, ims_tui::Screen::History);
    assert_eq!(harness.app.history.rows.len(), 3);
    // History rows start on row 2; a click selects, a second opens the conversation.
    mouse(&mut harness, click, 10, 4);
    assert_eq!(harness.app.history.selected, 2);
    mouse(&mut harness, MouseEventKind::ScrollUp, 10, 4);
    assert_eq!(harness.app.history.selected, 0);

    // The Account screen's list: the second account.
    harness.dispatch(Action::ShowScreen(ims_tui::Screen::Settings));
    mouse(&mut harness, click, 5, 3);
    assert_eq!(harness.app.account_selected, 1);
    // An open form takes no clicks; the help takes the wheel.
    harness.key(KeyCode::Char('e'));
    mouse(&mut harness, click, 5, 2);
    assert_eq!(harness.app.account_selected, 1);
    assert!(harness.app.form.is_some());
    harness.key(KeyCode::Esc);
    harness.key(KeyCode::Char('?'));
    mouse(&mut harness, MouseEventKind::ScrollDown, 40, 10);
    assert!(harness.app.help);
    assert_eq!(harness.app.help_scroll, 3);
}

/// A failed registration's retry time counts down with the clock the loop sets.
#[test]
fn the_retry_time_counts_down() {
    use ims_tui::action::RegistrationState;
    let mut harness = Harness::new();
    harness.dispatch(Action::Registration(RegistrationState::Failed {
        reason: "408 Request Timeout".into(),
        retry_in: Some(std::time::Duration::from_secs(40)),
    }));
    let top = |harness: &Harness| {
        let screen = harness.render(100, 30);
        screen.lines().next().unwrap_or_default().to_owned()
    };
    assert!(top(&harness).contains("✗ 408 Request Timeout, retry in 40 s"));
    harness.dispatch(Action::Tick(at(15)));
    assert!(top(&harness).contains("retry in 25 s"), "{}", top(&harness));
    harness.dispatch(Action::Tick(at(60)));
    assert!(top(&harness).contains("retry in 0 s"), "{}", top(&harness));
    harness.dispatch(Action::Registration(RegistrationState::Registering));
    assert_eq!(harness.app.retry_left(), None);
}

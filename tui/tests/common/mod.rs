//! A test harness: the app and its backend over an in-memory store, a command sink
//! instead of the engine, a fixed clock, and rendering into a TestBackend.
#![allow(dead_code, clippy::disallowed_methods)] // shared by several test files; one Instant::now() as the sim epoch

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ims_core::engine::Command;
use ims_core::messaging::{Messenger, TextFormat};
use ims_core::sim::SimNetwork;
use ims_core::store::{Aor, GroupMode, NewIncoming, Store};
use ims_core::transport::Transport;
use ims_tui::action::RegistrationState;
use ims_tui::backend::Backend;
use ims_tui::settings::AccountSummary;
use ims_tui::{Action, App, Effect};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub const ALICE: &str = "sip:alice@ims.test";

/// 2027-01-15 09:30:00 UTC: every screen shows the same times.
pub fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_005_400 + seconds)
}

pub struct Harness {
    pub app: App,
    pub backend: Backend<Vec<Command>>,
    pub now: SystemTime,
    pub effects: Vec<Effect>,
    pub engine_account: ims_core::ua::AccountId,
    _network: SimNetwork,
}

impl Harness {
    /// Alice's phone over an empty in-memory store.
    pub fn new() -> Harness {
        let mut network = SimNetwork::new(Instant::now(), 1);
        let node =
            network.add_engine(&[(Transport::Udp, SocketAddr::from(([127, 0, 0, 1], 5070)))]);
        let account = network
            .add_account(
                node,
                ALICE,
                "pw",
                SocketAddr::from(([127, 0, 0, 1], 5060)),
                Transport::Udp,
            )
            .expect("account");
        let store = Store::open_in_memory().expect("store");
        let mut messenger = Messenger::new(store, [7; 32]);
        messenger.set_text_format(TextFormat::CpimDelivery);
        let backend = Backend::new(messenger, account, ALICE, Vec::new()).expect("backend");
        let now = at(0);
        let mut app = App::new(ALICE, now);
        app.palette = ims_tui::components::Palette::None;
        app.next_hop = "udp 127.0.0.1:5060".into();
        app.update(Action::Accounts {
            accounts: vec![
                AccountSummary {
                    aor: ALICE.into(),
                    proxy: Some("127.0.0.1:5060".into()),
                    transport: Some("udp".into()),
                    has_password: true,
                    ..AccountSummary::default()
                },
                AccountSummary {
                    aor: "sip:alice@ims.example".into(),
                    auth_username: Some("alice@ims.example".into()),
                    dns_server: Some("127.0.0.1:53".into()),
                    ims: true,
                    has_password: false,
                    has_k: true,
                    has_opc: true,
                    ..AccountSummary::default()
                },
            ],
            active: 0,
            paths: vec![
                (
                    "config file".into(),
                    "/home/alice/.config/ims-rs/imsphone.toml".into(),
                ),
                (
                    "message store".into(),
                    "/home/alice/.local/share/ims-rs/ims.sqlite".into(),
                ),
                ("log file".into(), "(none)".into()),
            ],
        });
        let mut harness = Harness {
            app,
            backend,
            now,
            effects: Vec::new(),
            engine_account: account,
            _network: network,
        };
        harness.dispatch(Action::Registration(RegistrationState::Registered {
            expires: 600,
            until: now + Duration::from_secs(600),
        }));
        harness
    }

    /// Alice's phone with bob, carol, an unknown sender, the group friends and a
    /// conversation with bob.
    pub fn with_data() -> Harness {
        let mut harness = Harness::new();
        let store = harness.backend.messenger_mut().store_mut();
        let alice = store
            .find_account(&aor(ALICE))
            .expect("read")
            .expect("attached")
            .id;
        store
            .add_contact(alice, &aor("sip:bob@ims.test"), Some("Bob"), "")
            .expect("bob");
        store
            .add_contact(alice, &aor("sip:carol@ims.test"), Some("Carol"), "desk")
            .expect("carol");
        store
            .create_group(
                alice,
                &aor("sip:friends@ims.test"),
                "Friends",
                GroupMode::Network,
                &[
                    aor(ALICE),
                    aor("sip:bob@ims.test"),
                    aor("sip:carol@ims.test"),
                ],
            )
            .expect("group");
        let with_bob = store
            .conversation_with_peer(alice, &aor("sip:bob@ims.test"))
            .expect("conversation");
        let bob = aor("sip:bob@ims.test");
        for (n, text) in ["hi alice", "are you coming to the IMS meetup tonight? It starts at seven, in the usual place near the station"]
            .iter()
            .enumerate()
        {
            store
                .insert_incoming(&NewIncoming {
                    conversation: with_bob,
                    sender: &bob,
                    sender_display_name: Some("Bob"),
                    body: text.as_bytes(),
                    content_type: "text/plain;charset=UTF-8",
                    sip_call_id: Some(&format!("bob-{n}")),
                    sip_cseq: Some(1),
                    imdn_message_id: None,
                    received_at: at(60 * n as u64),
                })
                .expect("incoming");
        }
        let dave = aor("sip:dave@elsewhere.test");
        let with_dave = store.conversation_with_peer(alice, &dave).expect("dave");
        store
            .insert_incoming(&NewIncoming {
                conversation: with_dave,
                sender: &dave,
                sender_display_name: None,
                body: b"who is this?",
                content_type: "text/plain",
                sip_call_id: Some("dave-1"),
                sip_cseq: Some(1),
                imdn_message_id: None,
                received_at: at(200),
            })
            .expect("dave");
        let actions = harness.backend.refresh();
        harness.apply(actions);
        harness
    }

    /// Applies actions, carrying out the effects they cause, until nothing is left.
    pub fn apply(&mut self, actions: Vec<Action>) {
        let mut pending: Vec<Action> = actions.into_iter().rev().collect();
        while let Some(action) = pending.pop() {
            for effect in self.app.update(action) {
                self.effects.push(effect.clone());
                let mut more = self.backend.execute(effect, self.now);
                more.reverse();
                pending.extend(more);
            }
        }
    }

    pub fn dispatch(&mut self, action: Action) {
        self.apply(vec![action]);
    }

    pub fn key_with(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let event = KeyEvent::new(code, modifiers);
        if let Some(action) = ims_tui::keymap::action(&self.app, event) {
            self.dispatch(action);
        }
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_with(code, KeyModifiers::NONE);
    }

    pub fn chars(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// The screen as text.
    pub fn render(&self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| ims_tui::components::render(&self.app, frame))
            .expect("draw");
        terminal.backend().to_string()
    }

    /// The screen as cells (colours included).
    pub fn render_buffer(&self, width: u16, height: u16) -> ratatui::buffer::Buffer {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| ims_tui::components::render(&self.app, frame))
            .expect("draw");
        terminal.backend().buffer().clone()
    }

    /// Commands sent to the engine so far (taken).
    pub fn commands(&mut self) -> Vec<Command> {
        std::mem::take(self.backend.commands_mut())
    }
}

pub fn aor(text: &str) -> Aor {
    Aor::parse(text).expect("address")
}

//! imsphone's performance figures (issue #9), measured on a store with 1,000 contacts and
//! 100,000 messages (10,000 of them in one conversation): start to first frame, opening
//! the big conversation, scrolling it to the top one key at a time (each key applied and
//! the frame drawn), and the resident memory after all that.
//!
//! ```text
//! cargo run --release -p ims-tui --example perf [-- --keep DIR]
//! ```
//! Idle CPU is measured on the running program instead (bench/RESULTS.md says how).
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ims_core::engine::Command;
use ims_core::messaging::Messenger;
use ims_core::store::{Aor, MessageState, NewIncoming, NewOutgoing, Store};
use ims_tui::action::Target;
use ims_tui::backend::Backend;
use ims_tui::{Action, App, Effect, Pane};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const CONTACTS: usize = 1_000;
const MESSAGES: usize = 100_000;
const BIG: usize = 10_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn fill(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::open(path)?;
    let alice = store.upsert_account(&Aor::parse("sip:alice@ims.test")?, None)?;
    let mut conversations = Vec::new();
    let mut peers = Vec::new();
    for n in 0..CONTACTS {
        let aor = Aor::parse(&format!("sip:user{n:04}@ims.test"))?;
        store.add_contact(alice, &aor, Some(&format!("User {n:04}")), "")?;
        conversations.push(store.conversation_with_peer(alice, &aor)?);
        peers.push(aor);
    }
    let base = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let text = "a message of about the length people type in a chat, give or take";
    store.batch(|batch| {
        for n in 0..MESSAGES {
            // The first BIG messages all go to user0000; the rest spread over the others.
            let index = if n < BIG { 0 } else { 1 + n % (CONTACTS - 1) };
            let at = base + Duration::from_secs(n as u64);
            if n % 2 == 0 {
                let id = batch.insert_outgoing(&NewOutgoing {
                    conversation: conversations[index],
                    body: text.as_bytes(),
                    content_type: "text/plain;charset=UTF-8",
                    imdn_message_id: None,
                    created_at: at,
                })?;
                // A history, not a queue: nothing to send again at start.
                batch.set_state(id, MessageState::Sent, None, at)?;
            } else {
                batch.insert_incoming(&NewIncoming {
                    conversation: conversations[index],
                    sender: &peers[index],
                    sender_display_name: None,
                    body: text.as_bytes(),
                    content_type: "text/plain;charset=UTF-8",
                    sip_call_id: Some(&format!("perf-{n}")),
                    sip_cseq: Some(1),
                    imdn_message_id: None,
                    received_at: at,
                })?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keep = std::env::args().skip_while(|a| a != "--keep").nth(1);
    let dir = tempfile::tempdir()?;
    let path = match &keep {
        Some(keep) => std::path::PathBuf::from(keep).join("ims.sqlite"),
        None => dir.path().join("ims.sqlite"),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let filled = Instant::now();
    if !path.exists() {
        fill(&path)?;
    }
    println!(
        "store: {CONTACTS} contacts, {MESSAGES} messages ({BIG} in one conversation), filled in {:.1} s",
        filled.elapsed().as_secs_f64()
    );

    // Start to first frame: open the store, read the directory, build the app, draw.
    let start = Instant::now();
    let store = Store::open(&path)?;
    let mut network = ims_core::sim::SimNetwork::new(Instant::now(), 1);
    let node = network.add_engine(&[(
        ims_core::transport::Transport::Udp,
        "127.0.0.1:5070".parse()?,
    )]);
    let account = network.add_account(
        node,
        "sip:alice@ims.test",
        "pw",
        "127.0.0.1:5060".parse()?,
        ims_core::transport::Transport::Udp,
    )?;
    let messenger = Messenger::new(store, [1; 32]);
    let mut backend: Backend<Vec<Command>> =
        Backend::new(messenger, account, "sip:alice@ims.test", Vec::new())?;
    let mut app = App::new("sip:alice@ims.test", SystemTime::now());
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    for action in backend.refresh() {
        app.update(action);
    }
    terminal.draw(|frame| ims_tui::components::render(&app, frame))?;
    let first_frame = start.elapsed();

    // Open the 10,000-message conversation.
    let start = Instant::now();
    let target = Target::Peer(Aor::parse("sip:user0000@ims.test")?);
    let mut pending: Vec<Action> = backend.execute(Effect::Open(target), SystemTime::now());
    pending.reverse();
    while let Some(action) = pending.pop() {
        for effect in app.update(action) {
            let mut more = backend.execute(effect, SystemTime::now());
            more.reverse();
            pending.extend(more);
        }
    }
    app.update(Action::Focus(Pane::Messages));
    terminal.draw(|frame| ims_tui::components::render(&app, frame))?;
    let open = start.elapsed();

    // Scroll to the very first message, one key (k) at a time, drawing every frame.
    let mut keys = Vec::new();
    let mut loads = 0;
    loop {
        let before = app.chat.as_ref().and_then(|c| c.selected);
        let start = Instant::now();
        let mut pending = vec![Action::Up];
        while let Some(action) = pending.pop() {
            for effect in app.update(action) {
                loads += usize::from(matches!(effect, Effect::LoadOlder { .. }));
                let mut more = backend.execute(effect, SystemTime::now());
                more.reverse();
                pending.extend(more);
            }
        }
        terminal.draw(|frame| ims_tui::components::render(&app, frame))?;
        keys.push(start.elapsed());
        let chat = app.chat.as_ref().ok_or("conversation closed")?;
        if chat.selected == Some(0) && !chat.data.has_older && before == Some(0) {
            break;
        }
        if keys.len() > BIG * 2 {
            return Err("scrolling never reached the top".into());
        }
    }
    let loaded = app.chat.as_ref().map_or(0, |c| c.data.messages.len());
    let mut sorted = keys.clone();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("start to first frame: {:.1} ms", ms(first_frame));
    println!("open the {BIG}-message conversation: {:.1} ms", ms(open));
    println!(
        "scroll to the top: {} keys ({loads} page loads, {loaded} messages held), per key: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        keys.len(),
        ms(percentile(&sorted, 0.5)),
        ms(percentile(&sorted, 0.99)),
        ms(percentile(&sorted, 1.0)),
    );
    println!("resident memory: {:.1} MB", rss_kib() as f64 / 1024.0);
    Ok(())
}

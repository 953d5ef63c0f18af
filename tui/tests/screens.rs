//! Snapshots of every screen at 80x24 and 160x48 (ratatui TestBackend + insta), from a
//! store filled by the test. Review changes with `cargo insta review`.

mod common;

use common::Harness;
use crossterm::event::KeyCode;
use ims_tui::{Action, Screen};

fn both_sizes(name: &str, harness: &Harness) {
    insta::assert_snapshot!(format!("{name}_80x24"), harness.render(80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), harness.render(160, 48));
}

#[test]
fn empty_first_start() {
    both_sizes("empty", &Harness::new());
}

#[test]
fn chats_with_a_conversation_open() {
    let mut harness = Harness::with_data();
    // Bob is the second entry (after the group).
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    harness.chars("see you th");
    both_sizes("chats_bob", &harness);
}

#[test]
fn contact_list_filtered() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('/'));
    harness.chars("car");
    both_sizes("filter_car", &harness);
}

#[test]
fn history_screen() {
    let mut harness = Harness::with_data();
    harness.dispatch(Action::ShowScreen(Screen::History));
    both_sizes("history", &harness);
}

#[test]
fn account_screen_and_help() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('4'));
    both_sizes("account", &harness);
    harness.key(KeyCode::Char('?'));
    both_sizes("help", &harness);
}

#[test]
fn new_group_form() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('n'));
    harness.chars("Climbers");
    both_sizes("new_group_form", &harness);
}

/// The same screen in each palette: 24-bit colours only where the terminal has them,
/// the 16 ANSI colours otherwise, none without colour; the text stays the same.
#[test]
fn colours_degrade_with_the_palette() {
    use ims_tui::components::Palette;
    use ratatui::style::Color;
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    let text = harness.render(80, 24);
    let mut kinds = Vec::new();
    for palette in [
        Palette::TrueColor,
        Palette::Ansi256,
        Palette::Ansi16,
        Palette::None,
    ] {
        harness.app.palette = palette;
        assert_eq!(
            harness.render(80, 24),
            text,
            "{palette:?} changes only colours"
        );
        let buffer = harness.render_buffer(80, 24);
        let colours: Vec<Color> = buffer
            .content()
            .iter()
            .map(|cell| cell.fg)
            .filter(|c| *c != Color::Reset)
            .collect();
        let rgb = colours.iter().any(|c| matches!(c, Color::Rgb(..)));
        let indexed = colours.iter().any(|c| matches!(c, Color::Indexed(_)));
        kinds.push((palette, colours.is_empty(), rgb, indexed));
    }
    assert_eq!(
        kinds,
        [
            (Palette::TrueColor, false, true, false),
            (Palette::Ansi256, false, false, true),
            (Palette::Ansi16, false, false, false),
            (Palette::None, true, false, false),
        ]
    );
}

/// A failed registration at 80 columns: the reason is cut so the retry time shows.
#[test]
fn registration_failure_in_the_status_bar() {
    use ims_tui::action::RegistrationState;
    let mut harness = Harness::new();
    harness.dispatch(Action::Registration(RegistrationState::Failed {
        reason: "next hop (P-CSCF) not found: DNS NAPTR lookup of ims.test failed: refused".into(),
        retry_in: Some(std::time::Duration::from_secs(40)),
    }));
    let screen = harness.render(80, 24);
    let top = screen.lines().next().unwrap_or_default();
    assert!(
        top.contains("✗ next hop") && top.contains("retry in 40 s"),
        "{top}"
    );
    insta::assert_snapshot!("registration_failed_80x24", screen);
}

/// The account form after a bad K: the form stays open on K and says why; what was
/// typed into the secret fields shows only as stars.
#[test]
fn account_form_with_a_mistake() {
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('4'));
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Char('e'));
    // AOR, IMPI, Password: type a password.
    harness.key(KeyCode::Tab);
    harness.key(KeyCode::Tab);
    harness.chars("hunter2");
    // ... Proxy, DNS, Transport, IMS, K: a short key.
    for _ in 0..5 {
        harness.key(KeyCode::Tab);
    }
    harness.chars("0123abcd");
    harness.key(KeyCode::Enter);
    let form = harness.app.form.as_ref().expect("still open");
    assert_eq!(form.fields[form.focus].0, "K");
    let screen = harness.render(80, 24);
    assert!(screen.contains("K is 32 hex digits"), "{screen}");
    assert!(
        !screen.contains("hunter2") && !screen.contains("0123abcd"),
        "{screen}"
    );
    both_sizes("account_form_error", &harness);
}

/// One terminal resized from 80x24 to 200x60 and back: each frame is what a fresh
/// terminal of that size shows (nothing left over from the other size).
#[test]
fn resizes_cleanly() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut harness = Harness::with_data();
    harness.key(KeyCode::Char('j'));
    harness.key(KeyCode::Enter);
    harness.chars("see you th");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    for (width, height) in [(80, 24), (200, 60), (80, 24), (200, 60)] {
        terminal.backend_mut().resize(width, height);
        harness.dispatch(Action::Resize);
        terminal
            .draw(|frame| ims_tui::components::render(&harness.app, frame))
            .expect("draw");
        assert_eq!(
            terminal.backend().to_string(),
            harness.render(width, height),
            "{width}x{height}"
        );
    }
    insta::assert_snapshot!("chats_bob_200x60", harness.render(200, 60));
    harness.dispatch(Action::ShowScreen(Screen::Settings));
    insta::assert_snapshot!("account_200x60", harness.render(200, 60));
}

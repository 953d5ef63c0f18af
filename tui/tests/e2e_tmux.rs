//! imsphone end to end in real terminals: Kamailio on loopback, one imsphone per user in
//! its own tmux window, keys typed with `tmux send-keys`, screens read with
//! `tmux capture-pane`. A 1:1 message reaches bob's screen and shows `delivered` on
//! alice's; a group message reaches both other members' screens.
// A real terminal on a real clock (the wait loops); the clock ban is for the engine.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ims_tests::{Kamailio, PeerDir, require_program};

const TIMEOUT: Duration = Duration::from_secs(20);
const GROUP: &str = "sip:friends@ims.test";

/// A tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn new(dir: &Path) -> Tmux {
        require_program("tmux").expect("tmux is installed by scripts/test");
        Tmux {
            socket: dir.join("tmux.sock"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .env("TERM", "xterm-256color")
            .output()
            .expect("run tmux")
    }

    fn open(&self, name: &str, command: &str) {
        let output = self.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "120",
            "-y",
            "32",
            command,
        ]);
        assert!(
            output.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Types `text` literally, then presses each of `keys` (tmux key names).
    fn type_keys(&self, name: &str, text: &str, keys: &[&str]) {
        if !text.is_empty() {
            self.run(&["send-keys", "-t", name, "-l", text]);
        }
        for key in keys {
            self.run(&["send-keys", "-t", name, key]);
        }
        // Let the phone read them before the next batch.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn screen(&self, name: &str) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", name]).stdout).into_owned()
    }

    /// Waits until `name`'s screen shows `text`; panics with the screen if it never does.
    fn wait_for(&self, name: &str, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen(name);
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("{name}'s screen never showed {text:?}; it shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// True while the session exists (the phone has not exited).
    fn alive(&self, name: &str) -> bool {
        self.run(&["has-session", "-t", name]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

fn phone(tmux: &Tmux, dir: &Path, kamailio: &Kamailio, user: &str) {
    let command = format!(
        "{} --aor sip:{user}@ims.test --password {user}-pw --proxy {} --data-dir {} --log-file {} --no-color",
        env!("CARGO_BIN_EXE_imsphone"),
        kamailio.addr(),
        dir.join(user).display(),
        dir.join(format!("{user}.log")).display(),
    );
    tmux.open(user, &command);
}

/// Quits every phone with `q` (each de-registers) and waits for them to exit.
fn quit_all(tmux: &Tmux, users: &[&str]) {
    for user in users {
        tmux.type_keys(user, "", &["Escape", "Escape", "q"]);
    }
    let deadline = Instant::now() + TIMEOUT;
    for user in users {
        while tmux.alive(user) {
            assert!(
                Instant::now() < deadline,
                "{user}'s imsphone did not exit on q"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_message_typed_in_alices_phone_shows_on_bobs_and_a_group_message_on_two_members() {
    let users = ["alice", "bob", "carol"];
    let kamailio = users
        .iter()
        .fold(Kamailio::builder(), |builder, user| {
            builder
                .user(user, &format!("{user}-pw"))
                .group_member(GROUP, &format!("sip:{user}@ims.test"))
        })
        .start()
        .expect("start Kamailio");
    let dir = PeerDir::new("imsphone-tmux").expect("dir");
    let tmux = Tmux::new(dir.path());
    for user in users {
        phone(&tmux, dir.path(), &kamailio, user);
    }
    for user in users {
        tmux.wait_for(user, "● registered");
    }

    // 1:1: alice types, bob's screen shows it, alice's shows it delivered.
    tmux.type_keys("alice", ":msg bob hello from alice", &["Enter"]);
    tmux.wait_for("bob", "? alice@ims.test");
    tmux.type_keys("bob", ":open alice", &["Enter"]);
    tmux.wait_for("bob", "hello from alice");
    let alice = tmux.wait_for("alice", "✓✓ delivered");
    assert!(alice.contains("hello from alice"), "{alice}");

    // Group: alice creates Friends and writes to it; bob and carol both see it, filed
    // under the group the X-Group header names.
    tmux.type_keys("alice", "", &["Escape", "Escape"]);
    tmux.type_keys("alice", ":group create Friends bob carol", &["Enter"]);
    tmux.wait_for("alice", "group Friends (sip:friends@ims.test, network)");
    tmux.type_keys("alice", ":msg friends dinner at eight?", &["Enter"]);
    for member in ["bob", "carol"] {
        tmux.type_keys(member, "", &["Escape", "Escape"]);
        tmux.wait_for(member, "# Friends");
        tmux.type_keys(member, ":open friends", &["Enter"]);
        let screen = tmux.wait_for(member, "dinner at eight?");
        assert!(
            screen.contains("# Friends"),
            "{member} files it under the group:\n{screen}"
        );
    }
    tmux.wait_for("alice", "✓ sent");

    quit_all(&tmux, &users);
    for user in users {
        let log =
            std::fs::read_to_string(dir.path().join(format!("{user}.log"))).unwrap_or_default();
        assert!(
            log.contains("unregistered"),
            "{user} de-registered on quit:\n{log}"
        );
    }
}

/// A P-CSCF that never answers: the status bar says why registration failed and when it
/// is retried, and the keys keep working meanwhile.
#[test]
fn an_unreachable_pcscf_shows_the_reason_and_the_ui_stays_responsive() {
    let dir = PeerDir::new("imsphone-unreachable").expect("dir");
    let tmux = Tmux::new(dir.path());
    // A port nobody listens on (bound once to find it, then released).
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let config = dir.join("imsphone.toml");
    // T1 = 50 ms: Timer F (64*T1) gives up after 3.2 s instead of 32 s.
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nt1_ms = 50\n[[accounts]]\naor = \"sip:alice@ims.test\"\n\
             password = \"pw\"\nproxy = \"127.0.0.1:{port}\"\n"
        ),
    )
    .expect("config");
    let command = format!(
        "{} --config {} --data-dir {} --no-color",
        env!("CARGO_BIN_EXE_imsphone"),
        config.display(),
        dir.join("alice").display(),
    );
    tmux.open("alice", &command);
    tmux.wait_for("alice", "registering");
    // Responsive while the REGISTER goes unanswered: the trace screen opens and shows it.
    tmux.type_keys("alice", "3", &[]);
    tmux.wait_for("alice", "REGISTER");
    let screen = tmux.wait_for("alice", "✗");
    assert!(screen.contains("retry in"), "{screen}");
    tmux.type_keys("alice", "1", &[]);
    tmux.wait_for("alice", "No contacts yet");
    tmux.type_keys("alice", "", &["q"]);
    let deadline = Instant::now() + TIMEOUT;
    while tmux.alive("alice") {
        assert!(Instant::now() < deadline, "imsphone did not exit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A DNS server on loopback that refuses every query (RCODE 5) at once, until dropped.
struct RefusingDns {
    address: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RefusingDns {
    fn start() -> RefusingDns {
        use std::sync::atomic::Ordering;
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind DNS");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let address = socket.local_addr().expect("address");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 1500];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                if n < 12 {
                    continue;
                }
                // The query back as the answer: QR set, RD kept, RCODE 5 (REFUSED).
                let mut answer = buffer[..n].to_vec();
                answer[2] = 0x80 | (answer[2] & 0x01);
                answer[3] = 0x05;
                let _ = socket.send_to(&answer, from);
            }
        });
        RefusingDns { address, stop }
    }
}

impl Drop for RefusingDns {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// No proxy configured and a DNS server that refuses: imsphone starts anyway, the
/// status bar names the failure and the next try, the keys work, and it tries again
/// (the log shows a second attempt).
#[test]
fn a_next_hop_that_dns_cannot_find_does_not_stop_the_program() {
    let dir = PeerDir::new("imsphone-nodns").expect("dir");
    let tmux = Tmux::new(dir.path());
    let dns = RefusingDns::start();
    let config = dir.join("imsphone.toml");
    // retry_base_s = 1: the second try comes a second after the first failure.
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nretry_base_s = 1\nretry_max_s = 2\n[[accounts]]\n\
         aor = \"sip:alice@ims.test\"\npassword = \"pw\"\n",
    )
    .expect("config");
    let log = dir.join("alice.log");
    let command = format!(
        "{} --config {} --data-dir {} --dns-server {} --log-file {} --no-color",
        env!("CARGO_BIN_EXE_imsphone"),
        config.display(),
        dir.join("alice").display(),
        dns.address,
        log.display(),
    );
    tmux.open("alice", &command);
    let screen = tmux.wait_for("alice", "✗");
    assert!(
        screen.contains("next hop") && screen.contains("retry in"),
        "{screen}"
    );
    // Responsive: screens switch while it waits.
    tmux.type_keys("alice", "4", &[]);
    tmux.wait_for("alice", "address of record");
    tmux.type_keys("alice", "1", &[]);
    tmux.wait_for("alice", "No contacts yet");
    let deadline = Instant::now() + TIMEOUT;
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("no session")
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no second try in the log");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(tmux.alive("alice"), "imsphone is still running");
    tmux.type_keys("alice", "", &["q"]);
    while tmux.alive("alice") {
        assert!(Instant::now() < deadline, "imsphone did not exit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A wrong password fails; the password typed into the Account screen's form (shown
/// as stars) is saved to the config file (mode 0600, comment kept) and the phone
/// registers again with it.
#[test]
fn a_password_fixed_in_the_account_form_is_saved_and_registers() {
    use std::os::unix::fs::PermissionsExt;
    let kamailio = Kamailio::builder()
        .user("alice", "alice-pw")
        .start()
        .expect("start Kamailio");
    let dir = PeerDir::new("imsphone-settings").expect("dir");
    let tmux = Tmux::new(dir.path());
    let config = dir.join("imsphone.toml");
    std::fs::write(
        &config,
        format!(
            "# alice's phone\nlisten = \"127.0.0.1:0\"\n[[accounts]]\naor = \"sip:alice@ims.test\"\n\
             password = \"wrong\"\nproxy = \"{}\"\n",
            kamailio.addr()
        ),
    )
    .expect("config");
    let command = format!(
        "{} --config {} --data-dir {} --log-file {} --no-color",
        env!("CARGO_BIN_EXE_imsphone"),
        config.display(),
        dir.join("alice").display(),
        dir.join("alice.log").display(),
    );
    tmux.open("alice", &command);
    tmux.wait_for("alice", "✗");
    // Account screen, edit, Tab to Password, type it, save.
    tmux.type_keys("alice", "4", &[]);
    tmux.type_keys("alice", "e", &["Tab", "Tab"]);
    tmux.type_keys("alice", "alice-pw", &[]);
    let form = tmux.wait_for("alice", "Password: ********");
    assert!(!form.contains("alice-pw"), "{form}");
    tmux.type_keys("alice", "", &["Enter"]);
    tmux.wait_for("alice", "● registered");
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.starts_with("# alice's phone") && text.contains("password = \"alice-pw\""),
        "{text}"
    );
    let mode = std::fs::metadata(&config)
        .expect("config")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let log = std::fs::read_to_string(dir.join("alice.log")).unwrap_or_default();
    assert!(!log.contains("alice-pw"), "the password is never logged");
    tmux.type_keys("alice", "", &["q"]);
    let deadline = Instant::now() + TIMEOUT;
    while tmux.alive("alice") {
        assert!(Instant::now() < deadline, "imsphone did not exit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Mouse reporting is on while imsphone runs and off once it exits; a click (an SGR
/// mouse report, as a terminal sends it) on a tab of the status bar shows that screen.
#[test]
fn the_mouse_clicks_tabs_and_reporting_ends_with_the_program() {
    let dir = PeerDir::new("imsphone-mouse").expect("dir");
    let tmux = Tmux::new(dir.path());
    let dns = RefusingDns::start();
    let config = dir.join("imsphone.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n[[accounts]]\naor = \"sip:alice@ims.test\"\npassword = \"pw\"\n",
    )
    .expect("config");
    let command = format!(
        "{} --config {} --data-dir {} --dns-server {} --no-color",
        env!("CARGO_BIN_EXE_imsphone"),
        config.display(),
        dir.join("alice").display(),
        dns.address,
    );
    tmux.open("alice", &command);
    // The pane stays after the program exits, so its modes can be read then.
    tmux.run(&["set-option", "-t", "alice", "remain-on-exit", "on"]);
    let screen = tmux.wait_for("alice", "No contacts yet");
    let flags = |tmux: &Tmux| {
        let output = tmux.run(&[
            "display-message",
            "-p",
            "-t",
            "alice",
            "#{mouse_any_flag}#{mouse_sgr_flag}",
        ]);
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(flags(&tmux), "11", "any-event mouse reports, SGR encoded");
    // Tab " 4 " at the right of the top line (120 columns wide).
    let top = screen.lines().next().unwrap_or_default();
    let at = top.rfind(" 4").expect("tab 4");
    let column = top[..at].chars().count() + 2;
    tmux.type_keys(
        "alice",
        &format!("\x1b[<0;{column};1M\x1b[<0;{column};1m"),
        &[],
    );
    tmux.wait_for("alice", "address of record");
    tmux.type_keys("alice", "", &["q"]);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let dead = tmux.run(&["display-message", "-p", "-t", "alice", "#{pane_dead}"]);
        if String::from_utf8_lossy(&dead.stdout).trim() == "1" {
            break;
        }
        assert!(Instant::now() < deadline, "imsphone did not exit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(flags(&tmux), "00", "mouse reporting is off after the exit");
}

/// Two accounts in the config: Enter on the second one in the Account screen
/// de-registers the first and registers the second (the status bar names it).
#[test]
fn switching_account_registers_the_other_one() {
    let kamailio = Kamailio::builder()
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .start()
        .expect("start Kamailio");
    let dir = PeerDir::new("imsphone-switch").expect("dir");
    let tmux = Tmux::new(dir.path());
    let config = dir.join("imsphone.toml");
    let proxy = kamailio.addr();
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n\
             [[accounts]]\naor = \"sip:alice@ims.test\"\npassword = \"alice-pw\"\nproxy = \"{proxy}\"\n\
             [[accounts]]\naor = \"sip:bob@ims.test\"\npassword = \"bob-pw\"\nproxy = \"{proxy}\"\n"
        ),
    )
    .expect("config");
    let log = dir.join("phone.log");
    let command = format!(
        "{} --config {} --data-dir {} --log-file {} --log ims_core=debug --no-color",
        env!("CARGO_BIN_EXE_imsphone"),
        config.display(),
        dir.join("phone").display(),
        log.display(),
    );
    tmux.open("phone", &command);
    let screen = tmux.wait_for("phone", "● registered");
    assert!(screen.contains(" alice@ims.test "), "{screen}");
    tmux.type_keys("phone", "4", &[]);
    tmux.type_keys("phone", "j", &["Enter"]);
    tmux.wait_for("phone", "bob@ims.test (in use)");
    let screen = tmux.wait_for("phone", "● registered");
    let top = screen.lines().next().unwrap_or_default();
    assert!(top.contains(" bob@ims.test "), "{screen}");
    tmux.type_keys("phone", "", &["q"]);
    let deadline = Instant::now() + TIMEOUT;
    while tmux.alive("phone") {
        assert!(Instant::now() < deadline, "imsphone did not exit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    // One de-registration per session: alice's at the switch, bob's at the exit.
    let unregistered = log.matches("unregistered account=").count();
    assert_eq!(unregistered, 2, "{log}");
}

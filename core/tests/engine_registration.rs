//! Registration and client-transaction timers on the simulated network (virtual time;
//! nothing sleeps).
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ims_core::engine::{Command, EngineConfig, Event};
use ims_core::sim::{ForcedResponse, NodeId, Registrar, SimNetwork};
use ims_core::sip::typed::{Authorization, CSeq, CallId, Expires};
use ims_core::sip::{Limits, RawHeader, SipMessage};
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, AccountId, RegistrationError, RegistrationState};

const REGISTRAR: &str = "127.0.0.1:5060";
const PHONE: &str = "127.0.0.1:5062";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Setup {
    network: SimNetwork,
    registrar: NodeId,
    phone: NodeId,
    alice: AccountId,
    start: Instant,
}

/// A recording network with the registrar (these users, password "secret") at REGISTRAR.
fn network_with_registrar(start: Instant, seed: u64, users: &[&str]) -> (SimNetwork, NodeId) {
    let mut network = SimNetwork::new(start, seed);
    network.record = true;
    let registrar = network.add_peer(addr(REGISTRAR), Registrar::new("ims.test"));
    for user in users {
        network
            .peer_mut::<Registrar>(registrar)
            .unwrap()
            .add_user(user, "secret");
    }
    (network, registrar)
}

fn setup_with(seed: u64, password: &str, transport: Transport, expires: u32) -> Setup {
    let start = Instant::now();
    let (mut network, registrar) = network_with_registrar(start, seed, &["alice"]);
    let phone = network.add_engine(&[(Transport::Udp, addr(PHONE)), (Transport::Tcp, addr(PHONE))]);
    let mut config = AccountConfig::new("sip:alice@ims.test", password, addr(REGISTRAR), transport);
    config.expires = expires;
    let alice = network.add_account_with(phone, config).unwrap();
    Setup {
        network,
        registrar,
        phone,
        alice,
        start,
    }
}

fn setup() -> Setup {
    setup_with(1, "secret", Transport::Udp, 600)
}

impl Setup {
    fn registrar(&mut self) -> &mut Registrar {
        self.network.peer_mut::<Registrar>(self.registrar).unwrap()
    }

    fn register(&mut self) {
        self.network
            .command(
                self.phone,
                Command::Register {
                    account: self.alice,
                },
            )
            .unwrap();
    }

    /// REGISTERs the phone sent, with their send time in ms since the start.
    fn registers(&self) -> Vec<(u128, Vec<u8>)> {
        self.network
            .wire()
            .iter()
            .filter(|r| r.from == addr(PHONE) && r.bytes.starts_with(b"REGISTER "))
            .map(|r| ((r.sent - self.start).as_millis(), r.bytes.clone()))
            .collect()
    }

    fn registered_events(&self) -> usize {
        self.network
            .events(self.phone)
            .iter()
            .filter(|e| matches!(e, Event::Registered { .. }))
            .count()
    }

    fn failures(&self) -> Vec<(RegistrationError, Option<Duration>)> {
        self.network
            .events(self.phone)
            .iter()
            .filter_map(|e| match e {
                Event::RegistrationFailed {
                    reason, retry_in, ..
                } => Some((reason.clone(), *retry_in)),
                _ => None,
            })
            .collect()
    }

    fn state(&mut self) -> RegistrationState {
        let alice = self.alice;
        self.network
            .engine(self.phone)
            .unwrap()
            .registration_state(alice)
            .unwrap()
    }
}

/// Reads one header view out of a message.
fn with_message<T>(bytes: &[u8], f: impl FnOnce(&SipMessage<'_>) -> T) -> T {
    let mut slots = [RawHeader::EMPTY; 64];
    let message = SipMessage::parse_datagram(bytes, &mut slots, &Limits::DEFAULT).unwrap();
    f(&message)
}

#[test]
fn digest_challenge_is_answered_and_registration_completes() {
    let mut s = setup();
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.registered_events(), 1);
    assert_eq!(s.state(), RegistrationState::Registered { expires: 600 });
    let now = s.network.now();
    let registrar = s.registrar();
    assert_eq!(
        (registrar.challenges, registrar.accepted, registrar.rejected),
        (1, 1, 0)
    );
    assert_eq!(
        registrar.binding("sip:alice@ims.test", now),
        Some("sip:alice@127.0.0.1:5062")
    );
    let registers = s.registers();
    assert_eq!(registers.len(), 2);
    let (first, second) = (&registers[0].1, &registers[1].1);
    // Same Call-ID, CSeq one up, credentials only in the second (RFC 3261 §10.2.4, §22).
    let ids: Vec<(String, u32, bool)> = [first, second]
        .iter()
        .map(|b| {
            with_message(b, |m| {
                (
                    m.header::<CallId>().unwrap().unwrap().0.to_owned(),
                    m.header::<CSeq>().unwrap().unwrap().seq,
                    m.header::<Authorization>().is_some(),
                )
            })
        })
        .collect();
    assert_eq!(ids[0].0, ids[1].0);
    assert_eq!(ids[1].1, ids[0].1 + 1);
    assert_eq!((ids[0].2, ids[1].2), (false, true));
    with_message(second, |m| {
        let credentials = m.header::<Authorization>().unwrap().unwrap();
        assert_eq!(credentials.username(), Some("alice"));
        assert_eq!(credentials.realm(), Some("ims.test"));
        assert_eq!(credentials.uri(), Some("sip:ims.test"));
        assert_eq!(credentials.qop(), Some("auth"));
        assert_eq!(credentials.nc(), Some(1));
        assert_eq!(m.header::<Expires>().unwrap().unwrap().0, 600);
    });
}

#[test]
fn timer_e_retransmits_at_rfc_times_and_timer_f_ends_the_attempt() {
    let mut s = setup();
    s.registrar().silent = true;
    s.register();
    s.network.run_for(Duration::from_millis(32_500));
    let times: Vec<u128> = s.registers().iter().map(|(t, _)| *t).collect();
    // T1 = 500 ms: E fires at 0.5, 1.5, 3.5, 7.5 s, then every T2 = 4 s; F at 64*T1 = 32 s.
    assert_eq!(
        times,
        vec![
            0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    let registers = s.registers();
    assert!(
        registers.iter().all(|(_, b)| b == &registers[0].1),
        "retransmissions are byte-identical"
    );
    let failures = s.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].0,
        RegistrationError::Timeout {
            proxy: addr(REGISTRAR)
        }
    );
    let retry = failures[0].1.expect("a timeout is retried");
    // Back-off: 50–100 % of retry_base (5 s) for the first failure.
    assert!(
        retry >= Duration::from_millis(2500) && retry <= Duration::from_secs(5),
        "{retry:?}"
    );
    let failed_at = s.network.now();
    assert_eq!(s.state(), RegistrationState::WaitingToRetry);
    // Once the server answers again, the retry registers.
    s.registrar().silent = false;
    s.network.run_until(failed_at + Duration::from_secs(6));
    assert_eq!(s.registered_events(), 1);
}

#[test]
fn duplicated_responses_are_absorbed() {
    let mut s = setup();
    s.network.conditions.duplicate = 1.0;
    s.register();
    s.network.run_for(Duration::from_secs(5));
    // Every REGISTER arrives twice; the registrar answers each, but the phone's
    // transactions absorb the second answer: one challenge answered, one Registered.
    assert_eq!(s.registrar().requests, 4);
    assert_eq!(s.registers().len(), 2);
    assert_eq!(s.registered_events(), 1);
    let stats = s.network.engine(s.phone).unwrap().stats();
    assert_eq!(
        stats.stray_responses, 0,
        "the second copy matched and was absorbed"
    );
}

#[test]
fn wrong_password_fails_after_one_answer_without_looping() {
    let mut s = setup_with(2, "not-the-password", Transport::Udp, 600);
    s.register();
    s.network.run_for(Duration::from_secs(120));
    assert_eq!(
        s.registers().len(),
        2,
        "one unauthenticated REGISTER, one answer, then stop"
    );
    let failures = s.failures();
    assert_eq!(
        failures,
        vec![(
            RegistrationError::AuthenticationFailed {
                username: "alice".to_owned(),
                realm: "ims.test".to_owned()
            },
            None
        )]
    );
    assert_eq!(s.state(), RegistrationState::Failed);
    let message = failures[0].0.to_string();
    assert!(message.contains("wrong password"), "{message}");
}

#[test]
fn refresh_reuses_the_challenge_with_next_nonce_count_and_stale_is_answered_silently() {
    let mut s = setup_with(3, "secret", Transport::Udp, 120);
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.registered_events(), 1);
    // Refresh at 120 - 30 = 90 s.
    s.network.run_until(s.start + Duration::from_secs(89));
    assert_eq!(s.registers().len(), 2);
    s.network.run_until(s.start + Duration::from_secs(91));
    let registers = s.registers();
    assert_eq!(registers.len(), 3);
    assert_eq!(
        registers[2].0,
        90_000 + 4,
        "refresh 30 s before expiry (counted from the 2xx, 4 ms in)"
    );
    with_message(&registers[2].1, |m| {
        assert_eq!(m.header::<Authorization>().unwrap().unwrap().nc(), Some(2));
    });
    assert_eq!(s.registered_events(), 2);
    // Next refresh: the registrar calls the nonce stale; the phone answers the new
    // challenge without telling the user anything went wrong.
    s.registrar().stale_next = 1;
    s.network.run_until(s.start + Duration::from_secs(182));
    assert_eq!(s.registered_events(), 3);
    assert!(s.failures().is_empty());
    assert_eq!(s.registers().len(), 5);
}

#[test]
fn interval_too_brief_raises_expires_to_min_expires() {
    let mut s = setup();
    s.registrar().min_expires = 1800;
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.state(), RegistrationState::Registered { expires: 1800 });
    assert_eq!(s.registrar().too_brief, 1);
    let last = s.registers().pop().unwrap().1;
    with_message(&last, |m| {
        assert_eq!(m.header::<Expires>().unwrap().unwrap().0, 1800)
    });
}

#[test]
fn service_unavailable_with_retry_after_waits_that_long() {
    let mut s = setup();
    s.registrar().forced.push_back(ForcedResponse {
        status: 503,
        reason: "Service Unavailable".to_owned(),
        headers: vec![("Retry-After".to_owned(), "7 (maintenance)".to_owned())],
    });
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.failures()[0].1, Some(Duration::from_secs(7)));
    assert!(matches!(
        s.failures()[0].0,
        RegistrationError::Unavailable { status: 503, .. }
    ));
    s.network.run_until(s.start + Duration::from_millis(7_001));
    assert_eq!(s.registers().len(), 1, "nothing before Retry-After ends");
    s.network.run_until(s.start + Duration::from_secs(9));
    let times: Vec<u128> = s.registers().iter().map(|(t, _)| *t).collect();
    assert_eq!(times[1], 7_002);
    assert_eq!(s.registered_events(), 1);
}

#[test]
fn redirect_moves_the_registration_to_the_contact() {
    let mut s = setup();
    let second = s
        .network
        .add_peer(addr("127.0.0.1:5070"), Registrar::new("ims.test"));
    s.network
        .peer_mut::<Registrar>(second)
        .unwrap()
        .add_user("alice", "secret");
    s.registrar().forced.push_back(ForcedResponse {
        status: 302,
        reason: "Moved Temporarily".to_owned(),
        headers: vec![(
            "Contact".to_owned(),
            "<sip:registrar2@127.0.0.1:5070>".to_owned(),
        )],
    });
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.registered_events(), 1);
    let second = s.network.peer_mut::<Registrar>(second).unwrap();
    assert_eq!(second.accepted, 1);
    let last = s.registers().pop().unwrap().1;
    assert!(last.starts_with(b"REGISTER sip:registrar2@127.0.0.1:5070 SIP/2.0\r\n"));
}

#[test]
fn refresh_command_re_registers_at_once_with_the_same_call_id() {
    let mut s = setup();
    // Not registered yet: nothing to refresh, nothing sent.
    s.network
        .command(s.phone, Command::Refresh { account: s.alice })
        .unwrap();
    s.network.run_for(Duration::from_secs(1));
    assert!(s.registers().is_empty());
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.registered_events(), 1);
    assert_eq!(s.registers().len(), 2, "challenged, then answered");
    let at = s.network.now();
    s.network
        .command(s.phone, Command::Refresh { account: s.alice })
        .unwrap();
    s.network.run_for(Duration::from_secs(1));
    let registers = s.registers();
    assert_eq!(registers.len(), 3, "one REGISTER for the refresh");
    assert_eq!(registers[2].0, (at - s.start).as_millis(), "sent at once");
    let call_id = |bytes: &[u8]| {
        with_message(bytes, |m| {
            m.header::<CallId>().unwrap().unwrap().0.to_owned()
        })
    };
    assert_eq!(call_id(&registers[2].1), call_id(&registers[0].1));
    with_message(&registers[2].1, |m| {
        assert_eq!(m.header::<Authorization>().unwrap().unwrap().nc(), Some(2));
    });
    assert_eq!(s.registered_events(), 2);
    assert!(s.failures().is_empty());
    // The refresh timer starts again from the new 2xx (2 s in): 30 s before its expiry
    // (600 s), at 572 s, not at 571 s as the first registration's timer would have.
    s.network
        .run_until(s.start + Duration::from_millis(571_500));
    assert_eq!(s.registers().len(), 3, "the first timer is gone");
    s.network.run_until(s.start + Duration::from_secs(573));
    assert_eq!(s.registers().len(), 4, "the refresh's own timer fired");
}

#[test]
fn unregister_sends_expires_zero_and_removes_the_binding() {
    let mut s = setup();
    s.register();
    s.network.run_for(Duration::from_secs(1));
    s.network
        .command(s.phone, Command::Unregister { account: s.alice })
        .unwrap();
    s.network.run_for(Duration::from_secs(1));
    assert!(matches!(
        s.network.events(s.phone).last(),
        Some(Event::Unregistered { .. })
    ));
    assert_eq!(s.state(), RegistrationState::Idle);
    let now = s.network.now();
    assert_eq!(s.registrar().binding("sip:alice@ims.test", now), None);
    let last = s.registers().pop().unwrap().1;
    with_message(&last, |m| {
        assert_eq!(m.header::<Expires>().unwrap().unwrap().0, 0)
    });
    // No refresh after de-registration.
    s.network.run_for(Duration::from_secs(1000));
    assert_eq!(s.registers().len(), 3);
}

#[test]
fn shutdown_unregisters_every_account_then_reports() {
    let mut s = setup();
    s.registrar().add_user("bob", "b-secret");
    let bob = s
        .network
        .add_account(
            s.phone,
            "sip:bob@ims.test",
            "b-secret",
            addr(REGISTRAR),
            Transport::Udp,
        )
        .unwrap();
    s.register();
    s.network
        .command(s.phone, Command::Register { account: bob })
        .unwrap();
    s.network.run_for(Duration::from_secs(1));
    let now = s.network.now();
    assert_eq!(s.registrar().bound(now), 2);
    s.network.command(s.phone, Command::Shutdown).unwrap();
    s.network.run_for(Duration::from_secs(1));
    let now = s.network.now();
    assert_eq!(s.registrar().bound(now), 0);
    let events = s.network.events(s.phone);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Unregistered { .. }))
            .count(),
        2
    );
    assert!(matches!(events.last(), Some(Event::ShutdownComplete)));
}

#[test]
fn tcp_registration_sends_no_retransmissions() {
    let mut s = setup_with(4, "secret", Transport::Tcp, 600);
    s.register();
    s.network.run_for(Duration::from_secs(40));
    assert_eq!(s.registered_events(), 1);
    let registers = s.registers();
    assert_eq!(registers.len(), 2);
    assert!(
        registers
            .iter()
            .all(|(_, b)| b.windows(16).any(|w| w == b"SIP/2.0/TCP 127."))
    );
    let contact = s
        .network
        .engine(s.phone)
        .unwrap()
        .contact(s.alice)
        .unwrap()
        .to_owned();
    assert_eq!(contact, "sip:alice@127.0.0.1:5062;transport=tcp");
}

#[test]
fn tcp_connection_loss_re_registers_at_once() {
    let mut s = setup_with(5, "secret", Transport::Tcp, 600);
    s.register();
    s.network.run_for(Duration::from_secs(1));
    let now = s.network.now();
    s.network
        .engine(s.phone)
        .unwrap()
        .handle_connection_closed(now, addr(REGISTRAR));
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(
        s.registers().len(),
        3,
        "one REGISTER right after the loss (cached credentials)"
    );
    assert_eq!(s.registered_events(), 2);
}

/// A REGISTER waiting for its answer when its TCP connection closes fails at once as a
/// transport error (the answer cannot come back on that connection), not 32 s later as
/// a timeout; the account then backs off as after any transport error.
#[test]
fn tcp_connection_loss_fails_a_register_in_flight() {
    let mut s = setup_with(6, "secret", Transport::Tcp, 600);
    s.registrar().silent = true;
    s.register();
    s.network.run_for(Duration::from_millis(100));
    assert_eq!(s.registers().len(), 1, "one REGISTER, unanswered");
    let now = s.network.now();
    s.network
        .engine(s.phone)
        .unwrap()
        .handle_connection_closed(now, addr(REGISTRAR));
    s.network.run_for(Duration::from_millis(1));
    let failures = s.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        failures[0].0,
        RegistrationError::Transport {
            proxy: addr(REGISTRAR)
        }
    );
    assert!(failures[0].1.is_some(), "a retry is scheduled");
    assert_eq!(
        s.registers().len(),
        1,
        "no second REGISTER sent at once beside the retry"
    );
}

#[test]
fn transport_error_fails_the_transaction_and_backs_off() {
    let mut s = setup();
    s.registrar().silent = true;
    s.register();
    s.network.run_for(Duration::from_millis(100));
    let now = s.network.now();
    s.network
        .engine(s.phone)
        .unwrap()
        .handle_transport_error(now, Transport::Udp, addr(REGISTRAR));
    s.network.run_for(Duration::from_millis(1));
    let failures = s.failures();
    assert_eq!(
        failures[0].0,
        RegistrationError::Transport {
            proxy: addr(REGISTRAR)
        }
    );
    assert!(failures[0].1.is_some());
}

#[test]
fn same_seed_gives_the_same_bytes() {
    let run = || {
        let mut s = setup_with(42, "secret", Transport::Udp, 600);
        s.register();
        s.network.run_for(Duration::from_secs(1));
        s.registers()
            .into_iter()
            .map(|(_, b)| b)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn with_20_percent_loss_and_reordering_every_one_of_1000_seeded_runs_registers() {
    let mut slowest = Duration::ZERO;
    for seed in 0..1000 {
        let start = Instant::now();
        let mut network = SimNetwork::new(start, seed);
        network.conditions.loss = 0.2;
        network.conditions.reorder = 0.3;
        network.conditions.reorder_window = Duration::from_millis(800);
        network.conditions.delay = Duration::from_millis(20);
        let registrar = network.add_peer(addr(REGISTRAR), Registrar::new("ims.test"));
        network
            .peer_mut::<Registrar>(registrar)
            .unwrap()
            .add_user("alice", "secret");
        let phone =
            network.add_engine_with(EngineConfig::default(), &[(Transport::Udp, addr(PHONE))]);
        let alice = network
            .add_account(
                phone,
                "sip:alice@ims.test",
                "secret",
                addr(REGISTRAR),
                Transport::Udp,
            )
            .unwrap();
        network
            .command(phone, Command::Register { account: alice })
            .unwrap();
        let done = network.run_until_with(start + Duration::from_secs(300), |n| {
            n.events(phone)
                .iter()
                .any(|e| matches!(e, Event::Registered { .. }))
        });
        assert!(
            done,
            "seed {seed}: not registered after 300 s: {:?}",
            network.events(phone)
        );
        let failed = network
            .events(phone)
            .iter()
            .any(|e| matches!(e, Event::RegistrationFailed { retry_in: None, .. }));
        assert!(!failed, "seed {seed}: gave up: {:?}", network.events(phone));
        slowest = slowest.max(network.now() - start);
    }
    assert!(slowest < Duration::from_secs(300));
}

#[test]
fn a_dead_next_hop_fails_over_to_the_next_target_at_once() {
    let start = Instant::now();
    let mut network = SimNetwork::new(start, 9);
    network.record = true;
    let registrar = network.add_peer(addr("127.0.0.1:5070"), Registrar::new("ims.test"));
    network
        .peer_mut::<Registrar>(registrar)
        .unwrap()
        .add_user("alice", "secret");
    let phone = network.add_engine(&[(Transport::Udp, addr(PHONE)), (Transport::Tcp, addr(PHONE))]);
    // Nothing answers at 127.0.0.1:5060; the second target (over TCP) is alive.
    let mut config = AccountConfig::new(
        "sip:alice@ims.test",
        "secret",
        addr(REGISTRAR),
        Transport::Udp,
    );
    config.failover = vec![(addr("127.0.0.1:5070"), Transport::Tcp)];
    let alice = network.add_account_with(phone, config).unwrap();
    network
        .command(phone, Command::Register { account: alice })
        .unwrap();
    network.run_for(Duration::from_secs(40));
    let events = network.events(phone).to_vec();
    let failed_at_once = events.iter().any(|e| {
        matches!(e, Event::RegistrationFailed { reason: RegistrationError::Timeout { .. }, retry_in: Some(d), .. } if d.is_zero())
    });
    assert!(failed_at_once, "{events:#?}");
    assert!(
        events.iter().any(|e| matches!(e, Event::Registered { .. })),
        "{events:#?}"
    );
    let engine = network.engine(phone).unwrap();
    assert_eq!(
        engine.contact(alice),
        Some("sip:alice@127.0.0.1:5062;transport=tcp")
    );
    let accepted = network.peer_mut::<Registrar>(registrar).unwrap().accepted;
    assert_eq!(accepted, 1);
    // Registered 32 s (Timer F) after the start, at the second target.
    let to_second: Vec<Duration> = network
        .wire()
        .iter()
        .filter(|r| r.to == addr("127.0.0.1:5070"))
        .map(|r| r.sent - start)
        .collect();
    assert_eq!(to_second.first().copied(), Some(Duration::from_secs(32)));
}

#[test]
fn when_every_target_failed_it_backs_off_and_starts_again_from_the_first() {
    let start = Instant::now();
    let mut network = SimNetwork::new(start, 10);
    network.record = true;
    let phone = network.add_engine(&[(Transport::Udp, addr(PHONE))]);
    let mut config = AccountConfig::new(
        "sip:alice@ims.test",
        "secret",
        addr(REGISTRAR),
        Transport::Udp,
    );
    config.failover = vec![(addr("127.0.0.1:5070"), Transport::Udp)];
    let alice = network.add_account_with(phone, config).unwrap();
    network
        .command(phone, Command::Register { account: alice })
        .unwrap();
    network.run_for(Duration::from_secs(64) + Duration::from_millis(10));
    let retries: Vec<Option<Duration>> = network
        .events(phone)
        .iter()
        .filter_map(|e| match e {
            Event::RegistrationFailed { retry_in, .. } => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert_eq!(
        retries[0],
        Some(Duration::ZERO),
        "first target dead: the second at once"
    );
    assert!(
        retries[1].is_some_and(|d| d >= Duration::from_millis(2500)),
        "both dead: back-off"
    );
    let first_hops: Vec<SocketAddr> = network
        .wire()
        .iter()
        .filter(|r| r.from == addr(PHONE))
        .map(|r| r.to)
        .collect();
    assert_eq!(first_hops.first(), Some(&addr(REGISTRAR)));
    assert_eq!(first_hops.last(), Some(&addr("127.0.0.1:5070")));
    network.run_for(Duration::from_secs(10));
    let after = network
        .wire()
        .iter()
        .rev()
        .find(|r| r.from == addr(PHONE))
        .unwrap()
        .to;
    assert_eq!(
        after,
        addr(REGISTRAR),
        "the next round starts from the first target"
    );
}

/// Keep-alive pings (`CRLF CRLF`) the phone sent, in seconds since the start.
fn pings(s: &Setup) -> Vec<f64> {
    s.network
        .wire()
        .iter()
        .filter(|r| r.from == addr(PHONE) && r.bytes == b"\r\n\r\n")
        .map(|r| (r.sent - s.start).as_secs_f64())
        .collect()
}

fn keepalive_failures(s: &Setup) -> usize {
    s.network
        .events(s.phone)
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::StreamError {
                    error: ims_core::engine::StreamFailure::KeepAliveTimeout,
                    ..
                }
            )
        })
        .count()
}

#[test]
fn tcp_flow_is_kept_alive_with_crlf_pings_every_96_to_120_seconds() {
    let mut s = setup_with(21, "secret", Transport::Tcp, 600);
    s.register();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.registered_events(), 1);
    // 600 s granted: the refresh before they run out does not restart the pings' rhythm.
    s.network.run_for(Duration::from_secs(649));
    let pings = pings(&s);
    assert!((5..=6).contains(&pings.len()), "{pings:?}");
    assert!(pings[0] >= 96.0 && pings[0] <= 121.0, "{pings:?}");
    for pair in pings.windows(2) {
        let gap = pair[1] - pair[0];
        assert!((96.0..=120.0).contains(&gap), "{pings:?}");
    }
    assert_eq!(s.registrar().pings, pings.len() as u64);
    let stats = s.network.engine(s.phone).unwrap().stats();
    assert_eq!(stats.keepalive_pings, pings.len() as u64);
    assert_eq!(stats.keepalive_pongs, pings.len() as u64, "every pong seen");
    assert_eq!(keepalive_failures(&s), 0);
    assert_eq!(s.registers().len(), 3, "challenge, answer, one refresh");
}

#[test]
fn a_peer_that_stops_answering_pings_fails_the_flow_and_the_phone_registers_again() {
    let mut s = setup_with(22, "secret", Transport::Tcp, 600);
    s.register();
    s.network.run_for(Duration::from_secs(125));
    assert_eq!(pings(&s).len(), 1);
    assert_eq!(
        s.network.engine(s.phone).unwrap().stats().keepalive_pongs,
        1
    );
    let registers_before = s.registers().len();
    s.registrar().pongs = false;
    s.network.run_for(Duration::from_secs(125));
    let pings = pings(&s);
    assert_eq!(pings.len(), 2, "{pings:?}");
    assert_eq!(keepalive_failures(&s), 1);
    // RFC 5626 §4.4.1: 10 s without a pong, then a new REGISTER (the driver opens a new
    // connection for it) at once.
    let registers = s.registers();
    assert_eq!(
        registers.len(),
        registers_before + 1,
        "one REGISTER after the failure"
    );
    let re_register = registers[registers_before].0 as f64 / 1000.0;
    assert!(
        (re_register - (pings[1] + 10.0)).abs() < 0.1,
        "REGISTER at {re_register} s, ping at {} s",
        pings[1]
    );
    assert_eq!(s.registered_events(), 2);
    assert_eq!(s.network.engine(s.phone).unwrap().stats().flows_failed, 1);
}

#[test]
fn a_peer_that_never_answers_pings_is_not_held_to_it() {
    let mut s = setup_with(23, "secret", Transport::Tcp, 3600);
    s.registrar().pongs = false;
    s.register();
    s.network.run_for(Duration::from_secs(400));
    let pings = pings(&s);
    assert!(pings.len() >= 3, "{pings:?}");
    for pair in pings.windows(2) {
        assert!((96.0..=120.0).contains(&(pair[1] - pair[0])), "{pings:?}");
    }
    assert_eq!(keepalive_failures(&s), 0);
    assert_eq!(s.registers().len(), 2, "no re-registration");
}

#[test]
fn udp_registrations_send_no_crlf_pings() {
    let mut s = setup_with(24, "secret", Transport::Udp, 600);
    s.register();
    s.network.run_for(Duration::from_secs(400));
    assert!(pings(&s).is_empty());
    assert_eq!(
        s.network.engine(s.phone).unwrap().stats().keepalive_pings,
        0
    );
}

#[test]
fn an_answer_too_big_for_udp_goes_over_tcp_as_the_same_request() {
    // The first REGISTER fits in mtu - 200 bytes; the answer with its Authorization does
    // not and is written again for TCP. It must be the same request: CSeq one past the
    // first, nc=00000001 (a registrar counting nonce uses would refuse 2).
    let start = Instant::now();
    let mut network = SimNetwork::new(start, 31);
    network.record = true;
    let registrar = network.add_peer(addr(REGISTRAR), Registrar::new("ims.test"));
    network
        .peer_mut::<Registrar>(registrar)
        .unwrap()
        .add_user("alice", "secret");
    let config = EngineConfig {
        mtu: 750,
        ..EngineConfig::default()
    };
    let phone = network.add_engine_with(
        config,
        &[(Transport::Udp, addr(PHONE)), (Transport::Tcp, addr(PHONE))],
    );
    let config = AccountConfig::new(
        "sip:alice@ims.test",
        "secret",
        addr(REGISTRAR),
        Transport::Udp,
    );
    let alice = network.add_account_with(phone, config).unwrap();
    network
        .command(phone, Command::Register { account: alice })
        .unwrap();
    network.run_for(Duration::from_secs(2));
    let registers: Vec<_> = network
        .wire()
        .iter()
        .filter(|r| r.from == addr(PHONE) && r.bytes.starts_with(b"REGISTER "))
        .map(|r| (r.transport, r.bytes.clone()))
        .collect();
    assert_eq!(registers.len(), 2, "{registers:?}");
    assert_eq!(registers[0].0, Transport::Udp, "the first one fits");
    assert!(registers[0].1.len() <= 550, "{}", registers[0].1.len());
    assert_eq!(registers[1].0, Transport::Tcp, "the answer does not");
    assert!(registers[1].1.len() > 550);
    let cseq = |bytes: &[u8]| with_message(bytes, |m| m.header::<CSeq>().unwrap().unwrap().seq);
    assert_eq!(cseq(&registers[1].1), cseq(&registers[0].1) + 1);
    let nc = with_message(&registers[1].1, |m| {
        m.header::<Authorization>().unwrap().unwrap().nc()
    });
    assert_eq!(nc, Some(1));
    assert!(
        network
            .events(phone)
            .iter()
            .any(|e| matches!(e, Event::Registered { .. }))
    );
}

/// An account with its own local address (`AccountConfig::local`, one socket per virtual
/// user in a load generator) sends from it and puts it in Via and Contact; the other
/// account keeps the engine's first address; an address the engine lacks is refused.
#[test]
fn an_account_sends_from_its_own_local_address() {
    const BOB_LOCAL: &str = "127.0.0.1:5064";
    let start = Instant::now();
    let (mut network, registrar) = network_with_registrar(start, 1, &["alice", "bob"]);
    // The engine's first UDP address is PHONE; BOB_LOCAL is its second.
    let phone = network.add_engine(&[
        (Transport::Udp, addr(PHONE)),
        (Transport::Udp, addr(BOB_LOCAL)),
    ]);
    let config = AccountConfig::new(
        "sip:alice@ims.test",
        "secret",
        addr(REGISTRAR),
        Transport::Udp,
    );
    let alice = network.add_account_with(phone, config).unwrap();
    let mut s = Setup {
        network,
        registrar,
        phone,
        alice,
        start,
    };
    let mut config = AccountConfig::new(
        "sip:bob@ims.test",
        "secret",
        addr(REGISTRAR),
        Transport::Udp,
    );
    config.local = Some(addr(BOB_LOCAL));
    let bob = s.network.add_account_with(s.phone, config).unwrap();
    s.register();
    s.network
        .command(s.phone, Command::Register { account: bob })
        .unwrap();
    s.network.run_for(Duration::from_secs(1));
    assert_eq!(s.registered_events(), 2, "{:?}", s.network.events(s.phone));
    let from = |user: &str| -> Vec<SocketAddr> {
        s.network
            .wire()
            .iter()
            .filter(|r| {
                r.bytes.starts_with(b"REGISTER ")
                    && String::from_utf8_lossy(&r.bytes).contains(&format!("From: <sip:{user}@"))
            })
            .map(|r| r.from)
            .collect()
    };
    let (alice_from, bob_from) = (from("alice"), from("bob"));
    assert_eq!(alice_from.len(), 2, "challenge and answer");
    assert!(
        alice_from.iter().all(|a| *a == addr(PHONE)),
        "{alice_from:?}"
    );
    assert_eq!(bob_from.len(), 2, "challenge and answer");
    assert!(
        bob_from.iter().all(|a| *a == addr(BOB_LOCAL)),
        "{bob_from:?}"
    );
    let bob_register = s
        .network
        .wire()
        .iter()
        .find(|r| r.from == addr(BOB_LOCAL))
        .map(|r| String::from_utf8_lossy(&r.bytes).into_owned())
        .unwrap();
    assert!(
        bob_register.contains("Via: SIP/2.0/UDP 127.0.0.1:5064;"),
        "{bob_register}"
    );
    assert!(
        bob_register.contains("<sip:bob@127.0.0.1:5064>"),
        "{bob_register}"
    );
    // A local address the engine was not given.
    let mut config = AccountConfig::new("sip:carol@ims.test", "x", addr(REGISTRAR), Transport::Udp);
    config.local = Some(addr("127.0.0.1:5099"));
    let error = s.network.add_account_with(s.phone, config).unwrap_err();
    assert!(error.to_string().contains("127.0.0.1:5099"), "{error}");
}

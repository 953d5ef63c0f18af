//! IMS registration on the simulated network (TS 24.229 §5.1.1): the initial REGISTER's
//! empty Authorization, P-Access-Network-Info, sec-agree header negotiation,
//! Service-Route and P-Associated-URI.
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ims_core::engine::{Command, Event};
use ims_core::sim::{Registrar, SimNetwork};
use ims_core::sip::typed::{Authorization, SecurityVerify};
use ims_core::sip::{HeaderKind, Limits, RawHeader, SipMessage};
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, ImsConfig};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn ims_register_names_the_impi_negotiates_sec_agree_and_keeps_service_route() {
    let start = Instant::now();
    let mut network = SimNetwork::new(start, 11);
    let pcscf = network.add_peer(addr("127.0.0.1:5060"), Registrar::new("ims.test"));
    {
        let registrar = network.peer_mut::<Registrar>(pcscf).unwrap();
        registrar.add_user("alice@ims.test", "secret");
        registrar.challenge_headers = vec![(
            "Security-Server".to_owned(),
            "digest;q=0.1, tls;q=0.2".to_owned(),
        )];
        registrar.ok_headers = vec![
            (
                "Service-Route".to_owned(),
                "<sip:orig@scscf.ims.test;lr>".to_owned(),
            ),
            (
                "P-Associated-URI".to_owned(),
                "<sip:alice@ims.test>, <tel:+15551234567>".to_owned(),
            ),
        ];
    }
    let phone = network.add_engine(&[(Transport::Udp, addr("127.0.0.1:5062"))]);
    let mut config = AccountConfig::new(
        "sip:alice@ims.test",
        "secret",
        addr("127.0.0.1:5060"),
        Transport::Udp,
    );
    config.auth_username = Some("alice@ims.test".to_owned());
    config.ims = Some(Box::new(ImsConfig {
        access_network_info: Some(
            "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B".to_owned(),
        ),
        security_client: Some("digest".to_owned()),
        ..ImsConfig::default()
    }));
    let alice = network.add_account_with(phone, config).unwrap();
    network
        .command(phone, Command::Register { account: alice })
        .unwrap();
    network.run_for(Duration::from_secs(1));

    let registered = network
        .events(phone)
        .iter()
        .find_map(|e| match e {
            Event::Registered {
                associated_uris, ..
            } => Some(associated_uris.clone()),
            _ => None,
        })
        .expect("registered");
    assert_eq!(registered, vec!["sip:alice@ims.test", "tel:+15551234567"]);
    let route = network
        .engine(phone)
        .unwrap()
        .service_route(alice)
        .unwrap()
        .to_vec();
    assert_eq!(route, vec!["<sip:orig@scscf.ims.test;lr>"]);

    let received = network
        .peer_mut::<Registrar>(pcscf)
        .unwrap()
        .received
        .clone();
    assert_eq!(received.len(), 2);
    let mut slots = [RawHeader::EMPTY; 64];
    let first = SipMessage::parse_datagram(&received[0], &mut slots, &Limits::DEFAULT).unwrap();
    let initial = first.header::<Authorization>().unwrap().unwrap();
    assert_eq!(initial.username(), Some("alice@ims.test"));
    assert_eq!(initial.realm(), Some("ims.test"));
    assert_eq!(initial.uri(), Some("sip:ims.test"));
    assert_eq!((initial.nonce(), initial.response()), (Some(""), Some("")));
    assert_eq!(first.raw(HeaderKind::SecurityClient), Some(&b"digest"[..]));
    assert_eq!(first.raw(HeaderKind::Require), Some(&b"sec-agree"[..]));
    assert_eq!(first.raw(HeaderKind::ProxyRequire), Some(&b"sec-agree"[..]));
    assert!(first.raw(HeaderKind::PAccessNetworkInfo).is_some());
    assert!(first.raw(HeaderKind::SecurityVerify).is_none());

    let mut slots = [RawHeader::EMPTY; 64];
    let second = SipMessage::parse_datagram(&received[1], &mut slots, &Limits::DEFAULT).unwrap();
    let verify: Vec<String> = second
        .header_values::<SecurityVerify>()
        .map(|v| v.unwrap().mechanism.to_owned())
        .collect();
    assert_eq!(
        verify,
        vec!["digest", "tls"],
        "Security-Server echoed as Security-Verify"
    );
    let answer = second.header::<Authorization>().unwrap().unwrap();
    assert_eq!(answer.username(), Some("alice@ims.test"));
    assert_eq!(answer.response().map(str::len), Some(32));
}

mod reg_event {
    use super::*;
    use ims_core::sim::NodeId;
    use ims_core::sip::typed::{CallId, Contact, From};
    use ims_core::sip::{HeaderName, MessageWriter, WriteOptions};
    use ims_core::ua::{AccountId, RegistrationError};

    struct Ims {
        network: SimNetwork,
        scscf: NodeId,
        phone: NodeId,
        alice: AccountId,
        notifies: u32,
    }

    fn setup(subscribe_status: u16) -> Ims {
        setup_with(subscribe_status, true)
    }

    /// Alice registered; `reg_event`: she subscribes once registered.
    fn setup_with(subscribe_status: u16, reg_event: bool) -> Ims {
        let mut network = SimNetwork::new(Instant::now(), 21);
        let scscf = network.add_peer(addr("127.0.0.1:5060"), Registrar::new("ims.test"));
        {
            let registrar = network.peer_mut::<Registrar>(scscf).unwrap();
            registrar.add_user("alice@ims.test", "secret");
            registrar.subscribe_status = subscribe_status;
            registrar.ok_headers = vec![
                (
                    "Service-Route".to_owned(),
                    "<sip:orig@scscf.ims.test;lr>".to_owned(),
                ),
                (
                    "P-Associated-URI".to_owned(),
                    "<sip:alice@ims.test>".to_owned(),
                ),
            ];
        }
        let phone = network.add_engine(&[(Transport::Udp, addr("127.0.0.1:5062"))]);
        let mut config = AccountConfig::new(
            "sip:alice@ims.test",
            "secret",
            addr("127.0.0.1:5060"),
            Transport::Udp,
        );
        config.auth_username = Some("alice@ims.test".to_owned());
        config.ims = Some(Box::new(ImsConfig {
            reg_event,
            ..ImsConfig::default()
        }));
        let alice = network.add_account_with(phone, config).unwrap();
        network
            .command(phone, Command::Register { account: alice })
            .unwrap();
        network.run_for(Duration::from_secs(1));
        Ims {
            network,
            scscf,
            phone,
            alice,
            notifies: 0,
        }
    }

    impl Ims {
        fn registrar(&mut self) -> &mut Registrar {
            self.network.peer_mut::<Registrar>(self.scscf).unwrap()
        }

        /// Call-ID, From tag and Contact URI of the last SUBSCRIBE the S-CSCF received: the
        /// dialog a NOTIFY goes in.
        fn subscribe_dialog(&mut self) -> (String, String, String) {
            let subscribe = self.registrar().subscribes.last().unwrap().clone();
            let mut slots = [RawHeader::EMPTY; 64];
            let message =
                SipMessage::parse_datagram(&subscribe, &mut slots, &Limits::DEFAULT).unwrap();
            let call_id = message.header::<CallId>().unwrap().unwrap().0.to_owned();
            let local_tag = message
                .header::<From>()
                .unwrap()
                .unwrap()
                .tag()
                .unwrap()
                .to_owned();
            let contact = message.header::<Contact>().unwrap().unwrap();
            let contact_uri = contact.address().unwrap().uri.as_str().to_owned();
            (call_id, local_tag, contact_uri)
        }

        /// Sends `notify` from the S-CSCF to the phone and runs the network.
        fn deliver_notify(&mut self, notify: String) {
            self.network.inject(
                addr("127.0.0.1:5060"),
                addr("127.0.0.1:5062"),
                Transport::Udp,
                notify.into_bytes(),
            );
            self.network.run_for(Duration::from_secs(1));
        }

        /// Sends a reg-event NOTIFY in the subscription's dialog and runs the network.
        fn notify(&mut self, version: u32, state: &str, contact_state: &str, event: &str) {
            let (call_id, local_tag, contact_uri) = self.subscribe_dialog();
            self.notifies += 1;
            let body = format!(
                "<?xml version=\"1.0\"?>\n<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"{version}\" state=\"{state}\">\n\
                 <registration aor=\"sip:alice@ims.test\" id=\"r1\" state=\"{}\">\n\
                 <contact id=\"c1\" state=\"{contact_state}\" event=\"{event}\" expires=\"600000\"><uri>{contact_uri}</uri></contact>\n\
                 </registration>\n</reginfo>\n",
                if contact_state == "active" {
                    "active"
                } else {
                    "terminated"
                }
            );
            let notify = format!(
                "NOTIFY {contact_uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnotify{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:alice@ims.test>;tag=reg1\r\nTo: <sip:alice@ims.test>;tag={local_tag}\r\n\
                 Call-ID: {call_id}\r\nCSeq: {n} NOTIFY\r\nContact: <sip:scscf@127.0.0.1:5060>\r\nEvent: reg\r\n\
                 Subscription-State: active;expires=600000\r\nContent-Type: application/reginfo+xml\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len(),
                n = self.notifies
            );
            self.deliver_notify(notify);
        }

        /// The notifier's last NOTIFY of the dialog: terminated, no body (RFC 6665
        /// §4.2.2).
        fn notify_terminated(&mut self, version: u32) {
            let (call_id, local_tag, _) = self.subscribe_dialog();
            self.notifies += 1;
            let notify = format!(
                "NOTIFY sip:alice@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKend{version}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:alice@ims.test>;tag=reg1\r\nTo: <sip:alice@ims.test>;tag={local_tag}\r\n\
                 Call-ID: {call_id}\r\nCSeq: {n} NOTIFY\r\nEvent: reg\r\n\
                 Subscription-State: terminated\r\nContent-Length: 0\r\n\r\n",
                n = self.notifies
            );
            self.deliver_notify(notify);
        }

        fn last_response_status(&mut self) -> u16 {
            let bytes = self.registrar().responses.last().unwrap().clone();
            let mut slots = [RawHeader::EMPTY; 32];
            SipMessage::parse_datagram(&bytes, &mut slots, &Limits::DEFAULT)
                .unwrap()
                .status()
                .unwrap()
        }

        fn take_events(&mut self) -> Vec<Event> {
            self.network.take_events(self.phone)
        }

        /// The events since the last look are exactly one unsubscription answered 200.
        fn expect_unsubscribed_with_200(&mut self) {
            let events = self.take_events();
            assert!(
                matches!(
                    &events[..],
                    [Event::RegEventUnsubscribed {
                        status: Some(200),
                        ..
                    }]
                ),
                "{events:#?}"
            );
        }
    }

    #[test]
    fn subscribes_after_registering_with_service_route_and_follows_notifies() {
        let mut ims = setup(200);
        let events = ims.take_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::RegEventSubscribed { expires: 600, .. })),
            "{events:#?}"
        );
        let subscribe = ims.registrar().subscribes[0].clone();
        let text = String::from_utf8(subscribe).unwrap();
        assert!(
            text.starts_with("SUBSCRIBE sip:alice@ims.test SIP/2.0\r\n"),
            "{text}"
        );
        for header in [
            "Route: <sip:orig@scscf.ims.test;lr>\r\n",
            "Event: reg\r\n",
            "Accept: application/reginfo+xml\r\n",
            "Expires: 600\r\n",
        ] {
            assert!(text.contains(header), "missing {header:?} in\n{text}");
        }

        // Full state: we are active.
        ims.notify(0, "full", "active", "registered");
        assert_eq!(ims.last_response_status(), 200);
        let events = ims.take_events();
        assert!(
            matches!(&events[..], [Event::RegInfo { .. }]),
            "{events:#?}"
        );

        // Partial: the network deactivated our contact -> initial registration again.
        let registers_before = ims.registrar().received.len();
        ims.notify(1, "partial", "terminated", "deactivated");
        let events = ims.take_events();
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::RegistrationFailed { reason: RegistrationError::NetworkDeregistered { event }, retry_in: Some(_), .. }
                    if event == "deactivated"
            )),
            "{events:#?}"
        );
        assert!(
            events.iter().any(|e| matches!(e, Event::Registered { .. })),
            "{events:#?}"
        );
        let received = ims.registrar().received.clone();
        assert_eq!(
            received.len(),
            registers_before + 2,
            "fresh REGISTER, then the challenge answer"
        );
        let fresh = String::from_utf8_lossy(&received[registers_before]).into_owned();
        assert!(
            fresh.contains("nonce=\"\", response=\"\""),
            "initial registration again:\n{fresh}"
        );

        // A replayed older version is ignored.
        ims.notify(1, "partial", "terminated", "rejected");
        let events = ims.take_events();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::RegistrationFailed { .. })),
            "{events:#?}"
        );

        // Rejected: stop and tell the user; nothing more is sent.
        ims.notify(2, "partial", "terminated", "rejected");
        let events = ims.take_events();
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::RegistrationFailed { reason: RegistrationError::NetworkDeregistered { event }, retry_in: None, .. }
                    if event == "rejected"
            )),
            "{events:#?}"
        );
        let state = ims
            .network
            .engine(ims.phone)
            .unwrap()
            .registration_state(ims.alice);
        assert_eq!(state, Some(ims_core::ua::RegistrationState::Failed));
        let before = ims.registrar().received.len();
        ims.network.run_for(Duration::from_secs(3600));
        assert_eq!(
            ims.registrar().received.len(),
            before,
            "no REGISTER after rejection"
        );
    }

    #[test]
    fn version_gap_asks_for_full_state() {
        let mut ims = setup(200);
        ims.notify(0, "full", "active", "registered");
        assert_eq!(ims.registrar().subscribes.len(), 1);
        ims.notify(5, "partial", "active", "refreshed");
        assert_eq!(
            ims.registrar().subscribes.len(),
            2,
            "a refresh SUBSCRIBE asks for full state"
        );
        let refresh = String::from_utf8(ims.registrar().subscribes[1].clone()).unwrap();
        assert!(
            refresh.contains("To: <sip:alice@ims.test>;tag=reg1\r\n"),
            "in-dialog refresh:\n{refresh}"
        );
        assert!(
            refresh.starts_with("SUBSCRIBE sip:scscf@127.0.0.1:5060 SIP/2.0"),
            "to the remote target:\n{refresh}"
        );
    }

    #[test]
    fn refused_subscription_is_reported_once_and_not_looped() {
        let mut ims = setup(403);
        let events = ims.take_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::RegEventFailed { status: 403, .. })),
            "{events:#?}"
        );
        // Through several registration refreshes, no new SUBSCRIBE.
        ims.network.run_for(Duration::from_secs(2000));
        assert!(
            ims.take_events()
                .iter()
                .filter(|e| matches!(e, Event::Registered { .. }))
                .count()
                >= 3
        );
        assert_eq!(ims.registrar().subscribes.len(), 1);
    }

    /// The subscription on demand (`Command::SubscribeRegEvent`) of an account that does
    /// not subscribe at registration, its end (`Command::UnsubscribeRegEvent`), and a new
    /// dialog for the next one.
    #[test]
    fn subscribes_and_unsubscribes_on_demand_each_time_in_a_new_dialog() {
        let mut ims = setup_with(200, false);
        assert!(
            ims.registrar().subscribes.is_empty(),
            "none at registration"
        );
        let alice = ims.alice;
        let text_of = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        let call_id_of = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("Call-ID: "))
                .unwrap()
                .to_owned()
        };

        // Ignored while a first one is active or on its way.
        for _ in 0..2 {
            ims.network
                .command(ims.phone, Command::SubscribeRegEvent { account: alice })
                .unwrap();
        }
        ims.network.run_for(Duration::from_secs(1));
        assert_eq!(ims.registrar().subscribes.len(), 1);
        let first = text_of(&ims.registrar().subscribes[0]);
        assert!(first.contains("Expires: 600\r\n"), "{first}");
        assert!(first.contains("To: <sip:alice@ims.test>\r\n"), "{first}");
        let events = ims.take_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::RegEventSubscribed { expires: 600, .. })),
            "{events:#?}"
        );
        ims.notify(0, "full", "active", "registered");
        assert_eq!(ims.last_response_status(), 200);
        assert!(matches!(&ims.take_events()[..], [Event::RegInfo { .. }]));

        // The end: Expires: 0 in the dialog, one event, then a terminated NOTIFY that
        // brings no new subscription, nor do registration refreshes.
        ims.network
            .command(ims.phone, Command::UnsubscribeRegEvent { account: alice })
            .unwrap();
        ims.network.run_for(Duration::from_secs(1));
        assert_eq!(ims.registrar().subscribes.len(), 2);
        let end = text_of(&ims.registrar().subscribes[1]);
        assert!(end.contains("Expires: 0\r\n"), "{end}");
        assert!(
            end.contains("To: <sip:alice@ims.test>;tag=reg1\r\n"),
            "in the dialog:\n{end}"
        );
        assert_eq!(call_id_of(&end), call_id_of(&first));
        ims.expect_unsubscribed_with_200();
        ims.notify_terminated(1);
        assert_eq!(ims.last_response_status(), 200);
        ims.network.run_for(Duration::from_secs(2000));
        let events = ims.take_events();
        assert!(
            events
                .iter()
                .filter(|e| matches!(e, Event::Registered { .. }))
                .count()
                >= 3,
            "{events:#?}"
        );
        assert_eq!(ims.registrar().subscribes.len(), 2, "no new subscription");
        // Unsubscribing again: nothing is active, nothing is sent, and the event says so.
        ims.network
            .command(ims.phone, Command::UnsubscribeRegEvent { account: alice })
            .unwrap();
        ims.network.run_for(Duration::from_secs(1));
        assert_eq!(ims.registrar().subscribes.len(), 2);
        let events = ims.take_events();
        assert!(
            matches!(
                &events[..],
                [Event::RegEventUnsubscribed { status: None, .. }]
            ),
            "{events:#?}"
        );

        // The next one is a new dialog: new Call-ID, no To tag.
        ims.network
            .command(ims.phone, Command::SubscribeRegEvent { account: alice })
            .unwrap();
        ims.network.run_for(Duration::from_secs(1));
        assert_eq!(ims.registrar().subscribes.len(), 3);
        let again = text_of(&ims.registrar().subscribes[2]);
        assert!(again.contains("To: <sip:alice@ims.test>\r\n"), "{again}");
        assert_ne!(call_id_of(&again), call_id_of(&first));
        assert!(
            ims.take_events()
                .iter()
                .any(|e| matches!(e, Event::RegEventSubscribed { .. }))
        );
    }

    /// The first NOTIFY overtakes the 200 to the SUBSCRIBE (RFC 6665 §4.1.2.4) and, sent
    /// inside the dialog, carries no Record-Route of the proxy the SUBSCRIBE went
    /// through; the 200 that follows brings it. The dialog's route set is the 200's: the
    /// unsubscription goes through that proxy (an IMS P-CSCF refuses an in-dialog
    /// request that does not route through it with 404).
    #[test]
    fn a_notify_before_the_200_leaves_the_route_set_to_the_200() {
        let mut ims = setup_with(200, false);
        let alice = ims.alice;
        ims.registrar().silent = true;
        ims.network
            .command(ims.phone, Command::SubscribeRegEvent { account: alice })
            .unwrap();
        ims.network.run_for(Duration::from_millis(100));
        assert_eq!(ims.registrar().subscribes.len(), 1);
        ims.notify(0, "full", "active", "registered");
        assert_eq!(ims.last_response_status(), 200);
        assert!(
            !ims.take_events()
                .iter()
                .any(|e| matches!(e, Event::RegEventSubscribed { .. })),
            "no 200 yet"
        );

        let subscribe = ims.registrar().subscribes.last().unwrap().clone();
        let mut slots = [RawHeader::EMPTY; 64];
        let request = SipMessage::parse_datagram(&subscribe, &mut slots, &Limits::DEFAULT).unwrap();
        let mut ok = Vec::new();
        let mut writer = MessageWriter::response_to(
            &mut ok,
            &request,
            200,
            "OK",
            Some("reg1"),
            WriteOptions::default(),
        );
        for (name, value) in [
            ("Record-Route", "<sip:pcscf.ims.test:5060;lr>"),
            ("Contact", "<sip:scscf@127.0.0.1:5060>"),
            ("Expires", "600"),
        ] {
            writer.header(HeaderName::from_wire(name), value.as_bytes());
        }
        writer.finish(b"");
        ims.network.inject(
            addr("127.0.0.1:5060"),
            addr("127.0.0.1:5062"),
            Transport::Udp,
            ok,
        );
        ims.network.run_for(Duration::from_millis(100));
        assert!(
            ims.take_events()
                .iter()
                .any(|e| matches!(e, Event::RegEventSubscribed { expires: 600, .. }))
        );

        ims.registrar().silent = false;
        ims.network
            .command(ims.phone, Command::UnsubscribeRegEvent { account: alice })
            .unwrap();
        ims.network.run_for(Duration::from_secs(1));
        let end = String::from_utf8(ims.registrar().subscribes.last().unwrap().clone()).unwrap();
        assert!(end.contains("Expires: 0\r\n"), "{end}");
        assert!(
            end.starts_with("SUBSCRIBE sip:scscf@127.0.0.1:5060 SIP/2.0\r\n"),
            "to the remote target:\n{end}"
        );
        assert!(
            end.contains("Route: <sip:pcscf.ims.test:5060;lr>\r\n"),
            "through the 200's Record-Route:\n{end}"
        );
        assert!(
            end.contains("To: <sip:alice@ims.test>;tag=reg1\r\n"),
            "in the dialog:\n{end}"
        );
        ims.expect_unsubscribed_with_200();
    }

    /// A refused subscription is not retried by itself, but an explicit command tries
    /// again; an account that is not registered does not subscribe.
    #[test]
    fn an_explicit_subscribe_retries_after_a_refusal_and_needs_a_registration() {
        let mut ims = setup(403);
        assert_eq!(ims.registrar().subscribes.len(), 1);
        ims.registrar().subscribe_status = 200;
        let alice = ims.alice;
        ims.network
            .command(ims.phone, Command::SubscribeRegEvent { account: alice })
            .unwrap();
        ims.network.run_for(Duration::from_secs(1));
        assert_eq!(ims.registrar().subscribes.len(), 2);
        assert!(
            ims.take_events()
                .iter()
                .any(|e| matches!(e, Event::RegEventSubscribed { .. }))
        );

        let mut idle = setup_with(200, false);
        let alice = idle.alice;
        idle.network
            .command(idle.phone, Command::Unregister { account: alice })
            .unwrap();
        idle.network.run_for(Duration::from_secs(1));
        idle.network
            .command(idle.phone, Command::SubscribeRegEvent { account: alice })
            .unwrap();
        idle.network.run_for(Duration::from_secs(1));
        assert!(idle.registrar().subscribes.is_empty());
    }

    #[test]
    fn notify_for_an_unknown_subscription_gets_481() {
        let mut ims = setup(200);
        let notify = "NOTIFY sip:alice@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n\
            Max-Forwards: 70\r\nFrom: <sip:alice@ims.test>;tag=x\r\nTo: <sip:alice@ims.test>;tag=y\r\n\
            Call-ID: unknown\r\nCSeq: 1 NOTIFY\r\nEvent: reg\r\nSubscription-State: active\r\nContent-Length: 0\r\n\r\n";
        ims.network.inject(
            addr("127.0.0.1:5060"),
            addr("127.0.0.1:5062"),
            Transport::Udp,
            notify.as_bytes().to_vec(),
        );
        ims.network.run_for(Duration::from_secs(1));
        assert_eq!(ims.last_response_status(), 481);
    }
}

mod aka {
    use super::*;
    use ims_core::auth::{AkaKeys, Algorithm, SqnState};
    use ims_core::sim::NodeId;
    use ims_core::ua::{AccountId, RegistrationError};

    // TS 35.208 test set 1.
    const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
    const OP: &str = "cdc202d5123e20f62b6d676ac72cb318";
    const AMF: &str = "b9b9";

    fn keys(k: &str) -> AkaKeys {
        AkaKeys::from_hex(k, Some(OP), None, AMF).unwrap()
    }

    struct Aka {
        network: SimNetwork,
        scscf: NodeId,
        phone: NodeId,
        alice: AccountId,
    }

    fn setup(algorithm: Algorithm, phone_k: &str, sqn: SqnState) -> Aka {
        let mut network = SimNetwork::new(Instant::now(), 31);
        let scscf = network.add_peer(addr("127.0.0.1:5060"), Registrar::new("ims.test"));
        {
            let registrar = network.peer_mut::<Registrar>(scscf).unwrap();
            registrar.algorithm = algorithm;
            registrar.aka = Some(keys(K));
            registrar.qop = None;
        }
        let phone = network.add_engine(&[(Transport::Udp, addr("127.0.0.1:5062"))]);
        let mut config = AccountConfig::new(
            "sip:alice@ims.test",
            "",
            addr("127.0.0.1:5060"),
            Transport::Udp,
        );
        config.auth_username = Some("alice@ims.test".to_owned());
        config.ims = Some(Box::new(ImsConfig {
            aka: Some(keys(phone_k)),
            sqn,
            ..ImsConfig::default()
        }));
        let alice = network.add_account_with(phone, config).unwrap();
        Aka {
            network,
            scscf,
            phone,
            alice,
        }
    }

    impl Aka {
        fn registrar(&mut self) -> &mut Registrar {
            self.network.peer_mut::<Registrar>(self.scscf).unwrap()
        }

        fn register(&mut self) -> Vec<Event> {
            self.network
                .command(
                    self.phone,
                    Command::Register {
                        account: self.alice,
                    },
                )
                .unwrap();
            self.network.run_for(Duration::from_secs(2));
            self.network.take_events(self.phone)
        }
    }

    fn registered(events: &[Event]) -> bool {
        events.iter().any(|e| matches!(e, Event::Registered { .. }))
    }

    #[test]
    fn akav1_registers_and_reports_the_accepted_sqn() {
        let mut aka = setup(Algorithm::AkaV1Md5, K, SqnState::default());
        let events = aka.register();
        assert!(registered(&events), "{events:#?}");
        let sqn = events
            .iter()
            .find_map(|e| match e {
                Event::SqnUpdated { state, .. } => Some(state.highest()),
                _ => None,
            })
            .expect("SqnUpdated");
        assert_eq!(sqn, 32, "the SQN of the challenge answered");
        let answer = String::from_utf8(aka.registrar().received[1].clone()).unwrap();
        assert!(answer.contains("algorithm=AKAv1-MD5"), "{answer}");
        assert_eq!(aka.registrar().rejected, 0);
    }

    #[test]
    fn akav2_registers() {
        let mut aka = setup(Algorithm::AkaV2Md5, K, SqnState::default());
        let events = aka.register();
        assert!(registered(&events), "{events:#?}");
        let answer = String::from_utf8(aka.registrar().received[1].clone()).unwrap();
        assert!(answer.contains("algorithm=AKAv2-MD5"), "{answer}");
    }

    #[test]
    fn stale_sqn_is_resynchronised_with_auts_then_registers() {
        // The phone has already accepted SQN 0x1000 (SEQ 128); the network starts at 32.
        let mut state = SqnState::default();
        state.accept(0x1000);
        let mut aka = setup(Algorithm::AkaV1Md5, K, state);
        let events = aka.register();
        assert!(registered(&events), "{events:#?}");
        assert_eq!(aka.registrar().resyncs, 1);
        let resync = String::from_utf8(aka.registrar().received[1].clone()).unwrap();
        assert!(
            resync.contains("auts=\""),
            "the answer to the stale challenge carries auts:\n{resync}"
        );
        let after = String::from_utf8(aka.registrar().received[2].clone()).unwrap();
        assert!(!after.contains("auts="), "auts is sent once:\n{after}");
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::RegistrationFailed { .. })),
            "{events:#?}"
        );
    }

    #[test]
    fn a_replayed_challenge_is_refused_with_a_resync() {
        let mut aka = setup(Algorithm::AkaV1Md5, K, SqnState::default());
        assert!(registered(&aka.register()));
        // De-register, then the network replays the old nonce.
        aka.network
            .command(aka.phone, Command::Unregister { account: aka.alice })
            .unwrap();
        aka.network.run_for(Duration::from_secs(2));
        aka.registrar().expire_nonces();
        aka.registrar().repeat_nonce = true;
        aka.network.take_events(aka.phone);
        let before = aka.registrar().resyncs;
        aka.network
            .command(aka.phone, Command::Register { account: aka.alice })
            .unwrap();
        aka.network.run_for(Duration::from_secs(2));
        assert!(
            aka.registrar().resyncs > before,
            "the replayed SQN was refused with auts"
        );
        let events = aka.network.take_events(aka.phone);
        assert!(registered(&events), "{events:#?}");
    }

    #[test]
    fn mac_failure_sends_one_invalid_answer_and_stops() {
        let wrong_k = "000102030405060708090a0b0c0d0e0f";
        let mut aka = setup(Algorithm::AkaV1Md5, wrong_k, SqnState::default());
        let events = aka.register();
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::RegistrationFailed {
                    reason: RegistrationError::NetworkAuthenticationFailed,
                    retry_in: None,
                    ..
                }
            )),
            "{events:#?}"
        );
        assert!(!events.iter().any(|e| matches!(e, Event::SqnUpdated { .. })));
        assert_eq!(
            aka.registrar().received.len(),
            2,
            "initial REGISTER, one answer without a valid response"
        );
        let answer = String::from_utf8(aka.registrar().received[1].clone()).unwrap();
        assert!(
            answer.contains("response=\"\""),
            "TS 24.229 §5.1.1.5.3: empty response\n{answer}"
        );
        assert!(!answer.contains("auts="), "{answer}");
        aka.network.run_for(Duration::from_secs(600));
        assert_eq!(aka.registrar().received.len(), 2, "never retried");
    }

    #[test]
    fn a_network_that_challenges_again_with_a_bad_autn_is_given_up_at_once() {
        // The network re-challenges after the empty answer (as Kamailio's S-CSCF does)
        // but its new AUTN fails the MAC check too: NetworkAuthenticationFailed after two
        // answers, not a loop of challenges ending in ChallengeLoop.
        let wrong_k = "000102030405060708090a0b0c0d0e0f";
        let mut aka = setup(Algorithm::AkaV1Md5, wrong_k, SqnState::default());
        aka.registrar().refuse_empty_response = false;
        let events = aka.register();
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::RegistrationFailed {
                    reason: RegistrationError::NetworkAuthenticationFailed,
                    retry_in: None,
                    ..
                }
            )),
            "{events:#?}"
        );
        assert_eq!(
            aka.registrar().received.len(),
            2,
            "initial REGISTER, one empty answer; the second bad challenge is not answered"
        );
        aka.network.run_for(Duration::from_secs(600));
        assert_eq!(aka.registrar().received.len(), 2, "never retried");
    }

    #[test]
    fn after_a_mac_failure_a_new_good_challenge_is_answered() {
        // TS 34.229-1 §9.1: a bad challenge, the empty answer, then a good challenge.
        let wrong_k = "000102030405060708090a0b0c0d0e0f";
        let mut aka = setup(Algorithm::AkaV1Md5, K, SqnState::default());
        {
            let registrar = aka.registrar();
            registrar.aka = Some(keys(wrong_k));
            registrar.refuse_empty_response = false;
            registrar.aka_after_failure = Some(keys(K));
        }
        let events = aka.register();
        assert!(registered(&events), "{events:#?}");
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::RegistrationFailed { .. })),
            "{events:#?}"
        );
        assert_eq!(
            aka.registrar().received.len(),
            3,
            "initial, empty answer, good answer"
        );
    }

    #[test]
    fn aka_challenge_without_keys_is_a_clear_error() {
        let mut network = SimNetwork::new(Instant::now(), 32);
        let scscf = network.add_peer(addr("127.0.0.1:5060"), Registrar::new("ims.test"));
        {
            let registrar = network.peer_mut::<Registrar>(scscf).unwrap();
            registrar.algorithm = Algorithm::AkaV1Md5;
            registrar.aka = Some(keys(K));
        }
        let phone = network.add_engine(&[(Transport::Udp, addr("127.0.0.1:5062"))]);
        let alice = network
            .add_account(
                phone,
                "sip:alice@ims.test",
                "pw",
                addr("127.0.0.1:5060"),
                Transport::Udp,
            )
            .unwrap();
        network
            .command(phone, Command::Register { account: alice })
            .unwrap();
        network.run_for(Duration::from_secs(1));
        let events = network.take_events(phone);
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::RegistrationFailed {
                    reason: RegistrationError::AkaNotConfigured,
                    retry_in: None,
                    ..
                }
            )),
            "{events:#?}"
        );
    }
}

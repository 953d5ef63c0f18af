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
    config.ims = Some(ImsConfig {
        access_network_info: Some(
            "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B".to_owned(),
        ),
        security_client: Some("digest".to_owned()),
        ..ImsConfig::default()
    });
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

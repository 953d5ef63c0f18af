//! P-CSCF discovery by DNS (RFC 3263 §4) against a real dnsmasq on loopback serving the
//! test's own NAPTR, SRV, A and AAAA records; and an account that registers at the second
//! discovered target when the first one is dead (real Kamailio).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ims_core::driver::dns::{Discovery, DnsError, Target};
use ims_core::engine::{EngineConfig, Event, RegistrationPolicy};
use ims_core::transaction::TimerConfig;
use ims_core::transport::Transport;
use ims_core::ua::AccountConfig;
use ims_tests::{Dnsmasq, DnsmasqBuilder, Kamailio, PHONE_AOR, Phone, free_port_block, registered};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const SEED: [u8; 32] = [3; 32];

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn target(address: &str, transport: Transport, host: &str) -> Target {
    Target {
        address: address.parse().unwrap(),
        transport,
        host: host.to_owned(),
    }
}

fn start(builder: DnsmasqBuilder) -> (Dnsmasq, Discovery) {
    let dnsmasq = builder.start().expect("start dnsmasq");
    let discovery = Discovery::with_nameserver(dnsmasq.addr())
        .expect("resolver")
        .with_seed(SEED);
    (dnsmasq, discovery)
}

/// `ims.test`: NAPTR prefers TCP (order 10) over UDP (order 20); each SRV name has two
/// targets of different priority, listed lowest priority first in the zone; pcscf3 has only
/// an IPv6 address.
fn ims_test_zone() -> DnsmasqBuilder {
    Dnsmasq::builder()
        .zone("ims.test")
        .naptr("ims.test", 20, 10, "SIP+D2U", "_sip._udp.ims.test")
        .naptr("ims.test", 10, 10, "SIP+D2T", "_sip._tcp.ims.test")
        .naptr("ims.test", 5, 10, "SIPS+D2T", "_sips._tcp.ims.test")
        .srv("_sip._tcp.ims.test", "pcscf2.ims.test", 5071, 20, 0)
        .srv("_sip._tcp.ims.test", "pcscf1.ims.test", 5070, 10, 0)
        .srv("_sip._udp.ims.test", "pcscf3.ims.test", 5062, 20, 0)
        .srv("_sip._udp.ims.test", "pcscf1.ims.test", 5060, 10, 0)
        .srv("_sips._tcp.ims.test", "pcscf1.ims.test", 5061, 0, 0)
        .host("pcscf1.ims.test", ip("127.0.0.1"))
        .host("pcscf2.ims.test", ip("127.0.0.3"))
        .host("pcscf3.ims.test", ip("::1"))
        .host("ims.test", ip("127.0.0.9"))
}

#[tokio::test]
async fn naptr_then_srv_then_addresses_in_order() {
    let (dnsmasq, discovery) = start(ims_test_zone());
    let targets = discovery.pcscf_targets("ims.test", None).await.unwrap();
    assert_eq!(
        targets,
        vec![
            // NAPTR order 10: TCP (SIPS+D2T at order 5 is skipped: no TLS yet).
            target("127.0.0.1:5070", Transport::Tcp, "pcscf1.ims.test"),
            target("127.0.0.3:5071", Transport::Tcp, "pcscf2.ims.test"),
            // NAPTR order 20: UDP.
            target("127.0.0.1:5060", Transport::Udp, "pcscf1.ims.test"),
            // An IPv6-only SRV target (AAAA ::1).
            target("[::1]:5062", Transport::Udp, "pcscf3.ims.test"),
        ],
        "dnsmasq log:\n{}",
        dnsmasq.log()
    );
    let log = dnsmasq.log();
    assert!(log.contains("query[NAPTR] ims.test"), "{log}");
    assert!(!log.contains("_sips._tcp"), "TLS SRV name asked: {log}");
}

#[tokio::test]
async fn explicit_transport_skips_naptr_and_asks_that_srv_name_only() {
    let (dnsmasq, discovery) = start(ims_test_zone());
    let udp = discovery
        .pcscf_targets("ims.test", Some(Transport::Udp))
        .await
        .unwrap();
    assert_eq!(
        udp,
        vec![
            target("127.0.0.1:5060", Transport::Udp, "pcscf1.ims.test"),
            target("[::1]:5062", Transport::Udp, "pcscf3.ims.test"),
        ]
    );
    let tcp = discovery
        .pcscf_targets("ims.test", Some(Transport::Tcp))
        .await
        .unwrap();
    assert!(
        tcp.iter().all(|t| t.transport == Transport::Tcp) && tcp.len() == 2,
        "{tcp:?}"
    );
    let log = dnsmasq.log();
    assert!(!log.contains("query[NAPTR]"), "{log}");
}

#[tokio::test]
async fn srv_only_domain_tries_udp_then_tcp() {
    let (_dnsmasq, discovery) = start(
        Dnsmasq::builder()
            .zone("srv.test")
            .srv("_sip._tcp.srv.test", "b.srv.test", 6001, 1, 0)
            .srv("_sip._udp.srv.test", "b.srv.test", 6000, 5, 0)
            .srv("_sip._udp.srv.test", "a.srv.test", 5999, 1, 0)
            .host("a.srv.test", ip("127.0.0.10"))
            .host("b.srv.test", ip("127.0.0.11")),
    );
    let targets = discovery.pcscf_targets("srv.test", None).await.unwrap();
    assert_eq!(
        targets,
        vec![
            target("127.0.0.10:5999", Transport::Udp, "a.srv.test"),
            target("127.0.0.11:6000", Transport::Udp, "b.srv.test"),
            target("127.0.0.11:6001", Transport::Tcp, "b.srv.test"),
        ]
    );
}

#[tokio::test]
async fn a_only_domain_is_port_5060_over_udp() {
    let (_dnsmasq, discovery) = start(
        Dnsmasq::builder()
            .zone("plain.test")
            .host("plain.test", ip("127.0.0.20"))
            .host("plain.test", ip("::1")),
    );
    let targets = discovery.pcscf_targets("plain.test", None).await.unwrap();
    assert_eq!(
        targets,
        vec![
            target("127.0.0.20:5060", Transport::Udp, "plain.test"),
            target("[::1]:5060", Transport::Udp, "plain.test"),
        ]
    );
    // A transport asked for explicitly: no SRV, so port 5060 over that transport.
    let tcp = discovery
        .pcscf_targets("plain.test", Some(Transport::Tcp))
        .await
        .unwrap();
    assert_eq!(
        tcp[0],
        target("127.0.0.20:5060", Transport::Tcp, "plain.test")
    );
}

#[tokio::test]
async fn explicit_port_or_ip_literal_skips_naptr_and_srv() {
    let (dnsmasq, discovery) = start(ims_test_zone());
    let targets = discovery
        .pcscf_targets("ims.test:5080", None)
        .await
        .unwrap();
    assert_eq!(
        targets,
        vec![target("127.0.0.9:5080", Transport::Udp, "ims.test")]
    );
    let literal = discovery
        .pcscf_targets("[::1]:5090", Some(Transport::Tcp))
        .await
        .unwrap();
    assert_eq!(literal, vec![target("[::1]:5090", Transport::Tcp, "::1")]);
    let log = dnsmasq.log();
    assert!(
        !log.contains("query[NAPTR]") && !log.contains("query[SRV]"),
        "{log}"
    );
}

#[tokio::test]
async fn aaaa_only_srv_target() {
    let (_dnsmasq, discovery) = start(
        Dnsmasq::builder()
            .zone("v6.test")
            .srv("_sip._udp.v6.test", "pcscf.v6.test", 5060, 0, 0)
            .host("pcscf.v6.test", IpAddr::V6(Ipv6Addr::LOCALHOST)),
    );
    let targets = discovery.pcscf_targets("v6.test", None).await.unwrap();
    assert_eq!(
        targets,
        vec![target("[::1]:5060", Transport::Udp, "pcscf.v6.test")]
    );
}

#[tokio::test]
async fn a_domain_without_records_is_no_targets() {
    let (_dnsmasq, discovery) = start(Dnsmasq::builder().zone("empty.test"));
    let error = discovery
        .pcscf_targets("empty.test", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DnsError::NoTargets { domain } if domain == "empty.test"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_refusing_name_server_is_a_resolver_error() {
    // dnsmasq refuses names outside its zones: every lookup fails, none says "no record".
    let (_dnsmasq, discovery) = start(Dnsmasq::builder().zone("ims.test"));
    let error = discovery
        .pcscf_targets("elsewhere.example", None)
        .await
        .unwrap_err();
    assert!(matches!(error, DnsError::Resolver { .. }), "{error:?}");
}

#[tokio::test]
async fn a_malformed_domain_is_refused_before_any_lookup() {
    let (dnsmasq, discovery) = start(Dnsmasq::builder().zone("ims.test"));
    for bad in ["", "ims test", "ims.test:port", "sip:ims.test"] {
        let error = discovery.pcscf_targets(bad, None).await.unwrap_err();
        assert!(
            matches!(error, DnsError::InvalidName { .. }),
            "{bad:?}: {error:?}"
        );
    }
    let log = dnsmasq.log();
    let asked = |line: &&str| line.contains("query[") && !line.contains("ready.ims-tests");
    assert!(!log.lines().any(|line| asked(&line)), "{log}");
}

/// The AOR's domain has SRV targets dead.ims.test (priority 10, nothing listens) and
/// live.ims.test (priority 20, Kamailio): the account is configured with the first as its
/// proxy and the rest as failover, and registers at Kamailio.
fn registers_at_the_second_target_when_the_first_is_dead(transport: Transport) {
    const PASSWORD: &str = "alice-secret";
    let kamailio = Kamailio::builder()
        .user("alice", PASSWORD)
        .start()
        .expect("start Kamailio");
    let dead_port = free_port_block(1).unwrap();
    let service = match transport {
        Transport::Udp => "_sip._udp.ims.test",
        Transport::Tcp => "_sip._tcp.ims.test",
    };
    let dnsmasq = Dnsmasq::builder()
        .zone("ims.test")
        .srv(service, "dead.ims.test", dead_port, 10, 0)
        .srv(service, "live.ims.test", kamailio.addr().port(), 20, 0)
        .host("dead.ims.test", LOCALHOST)
        .host("live.ims.test", LOCALHOST)
        .start()
        .expect("start dnsmasq");
    let domain = PHONE_AOR.split_once('@').unwrap().1;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let targets = runtime
        .block_on(async {
            Discovery::with_nameserver(dnsmasq.addr())?
                .with_seed(SEED)
                .pcscf_targets(domain, None)
                .await
        })
        .unwrap();
    assert_eq!(
        targets,
        vec![
            target(
                &format!("127.0.0.1:{dead_port}"),
                transport,
                "dead.ims.test"
            ),
            target(&kamailio.addr().to_string(), transport, "live.ims.test"),
        ]
    );

    let config = EngineConfig {
        // Short timers: a dead UDP target times out (Timer F = 64*T1) in 6.4 s.
        timers: TimerConfig {
            t1: Duration::from_millis(100),
            ..TimerConfig::default()
        },
        registration: RegistrationPolicy {
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(2),
            ..RegistrationPolicy::default()
        },
        ..EngineConfig::default()
    };
    let first = &targets[0];
    let mut account = AccountConfig::new(PHONE_AOR, PASSWORD, first.address, first.transport);
    account.failover = targets[1..]
        .iter()
        .map(|t| (t.address, t.transport))
        .collect();
    let mut phone = Phone::start_with(config, account);
    phone.register();
    phone.wait_for("registration", Duration::from_secs(20), registered);
    kamailio
        .wait_registered("alice", Duration::from_secs(5))
        .unwrap();
    let failed_at_dead = phone.seen().iter().any(|seen| {
        matches!(&seen.event, Event::RegistrationFailed { reason, .. }
            if reason.to_string().contains(&dead_port.to_string()))
    });
    assert!(
        failed_at_dead,
        "no failure reported at the dead target: {:#?}",
        phone.seen()
    );
}

#[test]
fn registers_at_the_second_srv_target_when_the_first_times_out_over_udp() {
    registers_at_the_second_target_when_the_first_is_dead(Transport::Udp);
}

#[test]
fn registers_at_the_second_srv_target_when_the_first_refuses_tcp() {
    registers_at_the_second_target_when_the_first_is_dead(Transport::Tcp);
}

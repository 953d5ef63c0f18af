//! P-CSCF discovery by DNS: NAPTR, then SRV, then A/AAAA (RFC 3263 §4).
//!
//! [`Discovery::pcscf_targets`] turns a domain (the AOR's, when no outbound proxy is
//! configured) into an ordered list of [`Target`]s: the first is where the account sends its
//! REGISTER, the rest are the failover targets to move to on a transport failure or timeout.
//!
//! - NAPTR services `SIP+D2U` (UDP) and `SIP+D2T` (TCP) are used, in order then preference.
//!   `SIPS+D2T` is skipped because TLS is not supported yet, and so is `SIP+D2S` (SCTP).
//!   When the domain has no NAPTR record that we can use, the SRV names `_sip._udp` and
//!   `_sip._tcp` of the domain are tried, in that order.
//! - SRV records are tried in ascending priority; records of equal priority are ordered by
//!   the weighted random selection of RFC 2782. The randomness comes from a seeded RNG
//!   ([`Discovery::with_seed`]), so a test with a fixed seed always gets the same order.
//! - Each SRV target gives its IPv4 addresses, then its IPv6 addresses.
//! - With no SRV record, the domain's own A/AAAA records are used with port 5060 over UDP.
//! - A name with an explicit port (`pcscf.ims.test:5070`) is looked up by A/AAAA only, and
//!   an IP literal is used as it is (RFC 3263 §4.2). An explicit transport skips NAPTR and
//!   asks for that transport's SRV name only (RFC 3263 §4.1).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ims_core::driver::dns::DnsError> {
//! use ims_core::driver::dns::Discovery;
//!
//! let discovery = Discovery::system()?;
//! for target in discovery.pcscf_targets("ims.test", None).await? {
//!     println!("{} over {} ({})", target.address, target.transport, target.host);
//! }
//! # Ok(()) }
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::rdata::{NAPTR, SRV};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tracing::{Instrument, debug, warn};

use crate::transport::Transport;

/// The SIP port used when DNS gives none (RFC 3261 §19.1.2).
pub const SIP_PORT: u16 = 5060;

/// One place to send SIP requests to, found by [`Discovery::pcscf_targets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The IP address and port.
    pub address: SocketAddr,
    /// The transport to use.
    pub transport: Transport,
    /// The host name the address came from (the SRV target, or the domain itself), without
    /// the trailing dot; the IP literal when one was given.
    pub host: String,
}

/// What stops discovery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// DNS answered, but gave no usable SIP server for the domain.
    #[error("no SIP server found for {domain} in DNS (no usable NAPTR, SRV, A or AAAA record)")]
    NoTargets {
        /// The domain looked up.
        domain: String,
    },
    /// The domain is not a host name, `host:port` or IP address.
    #[error("{domain:?} is not a domain name, host:port or IP address")]
    InvalidName {
        /// What was given.
        domain: String,
    },
    /// A lookup failed (timeout, refused, unreachable name server) and no target was found.
    #[error("DNS {record} lookup of {name} failed: {source}")]
    Resolver {
        /// The name asked for.
        name: String,
        /// The record type asked for.
        record: RecordType,
        /// What the resolver reported.
        source: NetError,
    },
    /// The system resolver configuration (`/etc/resolv.conf`) could not be read.
    #[error("cannot use the system DNS configuration: {0}")]
    SystemConfig(NetError),
    /// The operating system gave no randomness for the SRV weight selection.
    #[error("no randomness from the OS (os error {os_error:?})")]
    Random {
        /// The OS error code, when there is one.
        os_error: Option<i32>,
    },
}

/// A DNS resolver that finds P-CSCFs (or any SIP server) by RFC 3263.
///
/// Lookups are cached by the resolver for their TTL. The RNG that orders SRV records of
/// equal priority is seeded from the OS unless [`with_seed`](Self::with_seed) is used.
pub struct Discovery {
    resolver: TokioResolver,
    rng: Mutex<StdRng>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery").finish_non_exhaustive()
    }
}

impl Discovery {
    /// The system resolver (`/etc/resolv.conf`, and `/etc/hosts` for A/AAAA).
    pub fn system() -> Result<Discovery, DnsError> {
        let resolver = TokioResolver::builder_tokio()
            .and_then(|builder| builder.build())
            .map_err(DnsError::SystemConfig)?;
        Discovery::new(resolver)
    }

    /// A resolver asking only `nameserver`, over UDP and (for truncated answers) TCP, and
    /// never `/etc/hosts`; tests point it at a local DNS server.
    pub fn with_nameserver(nameserver: SocketAddr) -> Result<Discovery, DnsError> {
        let mut server = NameServerConfig::udp_and_tcp(nameserver.ip());
        for connection in &mut server.connections {
            connection.port = nameserver.port();
        }
        let config = ResolverConfig::from_name_servers(vec![server]);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        builder.options_mut().use_hosts_file = ResolveHosts::Never;
        let resolver = builder.build().map_err(DnsError::SystemConfig)?;
        Discovery::new(resolver)
    }

    fn new(resolver: TokioResolver) -> Result<Discovery, DnsError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| DnsError::Random {
            os_error: error.raw_os_error(),
        })?;
        Ok(Discovery {
            resolver,
            rng: Mutex::new(StdRng::from_seed(seed)),
        })
    }

    /// Seeds the RNG that orders SRV records of equal priority by weight (RFC 2782), so the
    /// same seed and the same DNS data always give the same order.
    pub fn with_seed(self, seed: [u8; 32]) -> Discovery {
        Discovery {
            rng: Mutex::new(StdRng::from_seed(seed)),
            ..self
        }
    }

    /// The SIP servers for `domain`, most preferred first, by RFC 3263 §4 (see the
    /// [module docs](self)): NAPTR (`SIP+D2U`, `SIP+D2T`; `SIPS+D2T` skipped, as TLS is not
    /// supported yet) → SRV → A/AAAA; without NAPTR the SRV names `_sip._udp` and
    /// `_sip._tcp`; without SRV the domain's A/AAAA records on port 5060 over UDP.
    ///
    /// `domain` may also be `host:port`, `[v6]:port` or an IP literal, which skip NAPTR and
    /// SRV (RFC 3263 §4.2). `transport` restricts the result to that transport: NAPTR is
    /// skipped and only that transport's SRV name is asked. A lookup that fails is logged
    /// and skipped while others still give targets; [`DnsError::Resolver`] comes back only
    /// when nothing was found and a lookup failed, [`DnsError::NoTargets`] when DNS answered
    /// but had nothing.
    pub async fn pcscf_targets(
        &self,
        domain: &str,
        transport: Option<Transport>,
    ) -> Result<Vec<Target>, DnsError> {
        let span =
            tracing::debug_span!("pcscf_discovery", domain = %domain, transport = ?transport);
        self.targets(domain, transport).instrument(span).await
    }

    async fn targets(
        &self,
        domain: &str,
        transport: Option<Transport>,
    ) -> Result<Vec<Target>, DnsError> {
        let invalid = || DnsError::InvalidName {
            domain: domain.to_owned(),
        };
        let mut search = Search::default();
        match parse_destination(domain).ok_or_else(invalid)? {
            Destination::Address(address) => search.push(Target {
                address,
                transport: transport.unwrap_or(Transport::Udp),
                host: address.ip().to_string(),
            }),
            Destination::Host { name, port } => {
                let name = fully_qualified(name).ok_or_else(invalid)?;
                match port {
                    Some(port) => {
                        self.add_addresses(
                            &mut search,
                            &name,
                            port,
                            transport.unwrap_or(Transport::Udp),
                        )
                        .await;
                    }
                    None => self.add_by_service(&mut search, &name, transport).await?,
                }
            }
        }
        if search.targets.is_empty() {
            return Err(search.error.unwrap_or_else(|| DnsError::NoTargets {
                domain: domain.to_owned(),
            }));
        }
        debug!(targets = ?search.targets, "P-CSCF targets");
        Ok(search.targets)
    }

    /// NAPTR (unless `transport` is given) → SRV → A/AAAA, falling back to the domain's own
    /// A/AAAA records on port 5060 when no SRV record exists.
    async fn add_by_service(
        &self,
        search: &mut Search,
        domain: &Name,
        transport: Option<Transport>,
    ) -> Result<(), DnsError> {
        let services = match transport {
            Some(transport) => vec![(transport, service_name(transport, domain)?)],
            None => {
                let records = self.lookup(search, domain, RecordType::NAPTR).await;
                let services = sip_services(records.iter().filter_map(|data| match data {
                    RData::NAPTR(naptr) => Some(naptr),
                    _ => None,
                }));
                if services.is_empty() {
                    debug!("no usable NAPTR record; trying the SRV names of each transport");
                    vec![
                        (Transport::Udp, service_name(Transport::Udp, domain)?),
                        (Transport::Tcp, service_name(Transport::Tcp, domain)?),
                    ]
                } else {
                    services
                }
            }
        };
        let mut any_srv = false;
        for (service_transport, service) in services {
            let records: Vec<SRV> = self
                .lookup(search, &service, RecordType::SRV)
                .await
                .into_iter()
                .filter_map(|data| match data {
                    RData::SRV(srv) => Some(srv),
                    _ => None,
                })
                .collect();
            any_srv |= !records.is_empty();
            let ordered = {
                let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
                order_by_priority_and_weight(records, &mut *rng)
            };
            debug!(service = %service, records = ?ordered, "SRV");
            for srv in ordered {
                // A target of "." means the service is not offered (RFC 2782).
                if !srv.target.is_root() {
                    self.add_addresses(search, &srv.target, srv.port, service_transport)
                        .await;
                }
            }
        }
        if !any_srv {
            debug!("no SRV record; using the domain's A/AAAA records on port {SIP_PORT}");
            let transport = transport.unwrap_or(Transport::Udp);
            self.add_addresses(search, domain, SIP_PORT, transport)
                .await;
        }
        Ok(())
    }

    /// The A then AAAA records of `host`, each as a target on `port` over `transport`.
    async fn add_addresses(
        &self,
        search: &mut Search,
        host: &Name,
        port: u16,
        transport: Transport,
    ) {
        let mut records = self.lookup(search, host, RecordType::A).await;
        records.extend(self.lookup(search, host, RecordType::AAAA).await);
        let host_text = display_name(host);
        for data in records {
            let ip = match data {
                RData::A(a) => IpAddr::V4(a.0),
                RData::AAAA(aaaa) => IpAddr::V6(aaaa.0),
                _ => continue,
            };
            search.push(Target {
                address: SocketAddr::new(ip, port),
                transport,
                host: host_text.clone(),
            });
        }
    }

    /// The answers of one lookup; none when the name or record does not exist. Other
    /// failures are logged and kept in `search` (the first one) for when nothing is found.
    async fn lookup(&self, search: &mut Search, name: &Name, record: RecordType) -> Vec<RData> {
        match self.resolver.lookup(name.clone(), record).await {
            Ok(lookup) => lookup
                .answers()
                .iter()
                .filter(|answer| answer.record_type() == record)
                .map(|answer| answer.data.clone())
                .collect(),
            Err(error) if error.is_no_records_found() => Vec::new(),
            Err(error) => {
                warn!(name = %name, record = %record, %error, "DNS lookup failed");
                search.error.get_or_insert(DnsError::Resolver {
                    name: display_name(name),
                    record,
                    source: error,
                });
                Vec::new()
            }
        }
    }
}

/// Targets found so far, without duplicates, and the first lookup failure.
#[derive(Default)]
struct Search {
    targets: Vec<Target>,
    error: Option<DnsError>,
}

impl Search {
    fn push(&mut self, target: Target) {
        let known = self
            .targets
            .iter()
            .any(|t| t.address == target.address && t.transport == target.transport);
        if !known {
            self.targets.push(target);
        }
    }
}

/// What the caller gave: an address to use as it is, or a host name (with a port or not).
#[derive(Debug, PartialEq, Eq)]
enum Destination<'a> {
    Address(SocketAddr),
    Host { name: &'a str, port: Option<u16> },
}

/// Reads `host`, `host:port`, `ip`, `[v6]` or `[v6]:port`; `None` when malformed.
fn parse_destination(text: &str) -> Option<Destination<'_>> {
    let text = text.trim();
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Some(Destination::Address(address));
    }
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Some(Destination::Address(SocketAddr::new(ip, SIP_PORT)));
    }
    let (name, port) = match text.rsplit_once(':') {
        Some((name, port)) => (name, Some(port.parse::<u16>().ok()?)),
        None => (text, None),
    };
    let well_formed = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    well_formed.then_some(Destination::Host { name, port })
}

/// `name` as an absolute DNS name (no search domains appended).
fn fully_qualified(name: &str) -> Option<Name> {
    let mut name = Name::from_ascii(name).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// `_sip._udp.<domain>` or `_sip._tcp.<domain>` (RFC 3263 §4.1).
fn service_name(transport: Transport, domain: &Name) -> Result<Name, DnsError> {
    let prefix = match transport {
        Transport::Udp => "_sip._udp",
        Transport::Tcp => "_sip._tcp",
    };
    Name::from_ascii(prefix)
        .and_then(|prefix| prefix.append_domain(domain))
        .map_err(|_| DnsError::InvalidName {
            domain: display_name(domain),
        })
}

/// The host name without its trailing dot.
fn display_name(name: &Name) -> String {
    let text = name.to_ascii();
    text.strip_suffix('.').unwrap_or(&text).to_owned()
}

/// The SRV names of the NAPTR records we can use, in order, then preference: flag `S`,
/// services `SIP+D2U` or `SIP+D2T` (RFC 3263 §4.1). `SIPS+D2T` (TLS) and `SIP+D2S` (SCTP)
/// are not supported yet and are skipped.
fn sip_services<'a>(records: impl Iterator<Item = &'a NAPTR>) -> Vec<(Transport, Name)> {
    let mut usable: Vec<&NAPTR> = records
        .filter(|naptr| naptr.flags.eq_ignore_ascii_case(b"s") && !naptr.replacement.is_root())
        .filter(|naptr| service_transport(&naptr.services).is_some())
        .collect();
    usable.sort_by_key(|naptr| (naptr.order, naptr.preference));
    usable
        .into_iter()
        .filter_map(|naptr| {
            service_transport(&naptr.services).map(|t| (t, naptr.replacement.clone()))
        })
        .collect()
}

/// The transport of a NAPTR service field we support.
fn service_transport(services: &[u8]) -> Option<Transport> {
    if services.eq_ignore_ascii_case(b"SIP+D2U") {
        Some(Transport::Udp)
    } else if services.eq_ignore_ascii_case(b"SIP+D2T") {
        Some(Transport::Tcp)
    } else {
        None
    }
}

/// SRV records in the order to try them (RFC 2782, "Usage rules"): ascending priority;
/// within one priority, repeatedly pick a record at random with a chance proportional to
/// its weight (weight-0 records first in the running sum, so they keep a small chance).
fn order_by_priority_and_weight(mut records: Vec<SRV>, rng: &mut impl Rng) -> Vec<SRV> {
    records.sort_by_key(|srv| srv.priority);
    let mut ordered = Vec::with_capacity(records.len());
    for same_priority in records.chunk_by(|a, b| a.priority == b.priority) {
        let mut left: Vec<&SRV> = same_priority.iter().collect();
        left.sort_by_key(|srv| srv.weight != 0);
        while !left.is_empty() {
            let total: u64 = left.iter().map(|srv| u64::from(srv.weight)).sum();
            let pick = rng.random_range(0..=total);
            let mut running = 0u64;
            let index = left
                .iter()
                .position(|srv| {
                    running += u64::from(srv.weight);
                    running >= pick
                })
                .unwrap_or(0);
            ordered.push(left.remove(index).clone());
        }
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn naptr(order: u16, preference: u16, flags: &str, services: &str, to: &str) -> NAPTR {
        NAPTR::new(
            order,
            preference,
            flags.as_bytes().into(),
            services.as_bytes().into(),
            Box::default(),
            name(to),
        )
    }

    fn srv(priority: u16, weight: u16, target: &str) -> SRV {
        SRV::new(priority, weight, 5060, name(target))
    }

    #[test]
    fn destinations() {
        let host = |name, port| Some(Destination::Host { name, port });
        let address = |text: &str| Some(Destination::Address(text.parse().unwrap()));
        assert_eq!(parse_destination("ims.test"), host("ims.test", None));
        assert_eq!(parse_destination(" ims.test. "), host("ims.test.", None));
        assert_eq!(
            parse_destination("pcscf.ims.test:5070"),
            host("pcscf.ims.test", Some(5070))
        );
        assert_eq!(parse_destination("10.0.0.1"), address("10.0.0.1:5060"));
        assert_eq!(parse_destination("10.0.0.1:5070"), address("10.0.0.1:5070"));
        assert_eq!(parse_destination("::1"), address("[::1]:5060"));
        assert_eq!(parse_destination("[::1]"), address("[::1]:5060"));
        assert_eq!(parse_destination("[::1]:5080"), address("[::1]:5080"));
        for bad in [
            "",
            "ims.test:",
            "ims.test:99999",
            "a b",
            "sip:ims.test",
            "[::1",
        ] {
            assert_eq!(parse_destination(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn naptr_keeps_sip_udp_and_tcp_in_order_then_preference() {
        let records = [
            naptr(20, 10, "S", "SIP+D2U", "_sip._udp.ims.test."),
            naptr(10, 20, "s", "sip+d2t", "_sip._tcp.ims.test."),
            naptr(10, 5, "S", "SIPS+D2T", "_sips._tcp.ims.test."),
            naptr(10, 30, "S", "SIP+D2S", "_sip._sctp.ims.test."),
            naptr(5, 1, "A", "SIP+D2U", "pcscf.ims.test."),
            naptr(10, 25, "S", "SIP+D2U", "_sip._udp.other.test."),
        ];
        let services = sip_services(records.iter());
        assert_eq!(
            services,
            vec![
                (Transport::Tcp, name("_sip._tcp.ims.test.")),
                (Transport::Udp, name("_sip._udp.other.test.")),
                (Transport::Udp, name("_sip._udp.ims.test.")),
            ]
        );
    }

    #[test]
    fn srv_priority_first_then_weight() {
        let records = vec![
            srv(20, 0, "backup.ims.test."),
            srv(10, 50, "a.ims.test."),
            srv(10, 50, "b.ims.test."),
        ];
        let mut rng = StdRng::from_seed([7; 32]);
        for _ in 0..100 {
            let ordered = order_by_priority_and_weight(records.clone(), &mut rng);
            assert_eq!(ordered.len(), 3);
            assert_eq!(ordered[2].target, name("backup.ims.test."));
            assert_ne!(ordered[0].target, ordered[1].target);
        }
    }

    #[test]
    fn srv_weight_sets_the_chance_of_coming_first() {
        // RFC 2782: weights 10 and 90 of one priority put the heavier first ~90% of the time.
        let records = vec![srv(1, 10, "light.ims.test."), srv(1, 90, "heavy.ims.test.")];
        let mut rng = StdRng::from_seed([42; 32]);
        let heavy_first = (0..10_000)
            .filter(|_| {
                order_by_priority_and_weight(records.clone(), &mut rng)[0].target
                    == name("heavy.ims.test.")
            })
            .count();
        assert!((8_700..=9_300).contains(&heavy_first), "{heavy_first}");
        // A weight-0 record among weighted ones is rarely first, but never dropped.
        let records = vec![srv(1, 0, "zero.ims.test."), srv(1, 100, "full.ims.test.")];
        let zero_first = (0..10_000)
            .filter(|_| {
                let ordered = order_by_priority_and_weight(records.clone(), &mut rng);
                assert_eq!(ordered.len(), 2);
                ordered[0].target == name("zero.ims.test.")
            })
            .count();
        assert!(zero_first < 300, "{zero_first}");
    }

    #[test]
    fn the_same_seed_gives_the_same_order() {
        let records: Vec<SRV> = (0..8)
            .map(|i| srv(1, 10, &format!("p{i}.ims.test.")))
            .collect();
        let run = |seed| {
            let mut rng = StdRng::from_seed([seed; 32]);
            order_by_priority_and_weight(records.clone(), &mut rng)
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn service_names_and_display() {
        let domain = name("ims.test.");
        assert_eq!(
            service_name(Transport::Tcp, &domain).unwrap(),
            name("_sip._tcp.ims.test.")
        );
        assert_eq!(display_name(&domain), "ims.test");
    }
}

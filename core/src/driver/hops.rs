//! Where an account's requests go first: the configured proxy, or the P-CSCFs found in
//! DNS from the AOR's domain (RFC 3263). Shared by every program on the driver.

use std::net::SocketAddr;

use crate::config::{AccountSettings, ConfigFileError, ProxyAddress};
use crate::transport::Transport;

use super::dns::{Discovery, DnsError, Target};

/// Why no next hop was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NextHopError {
    /// The configured proxy is not a usable address.
    #[error(transparent)]
    Proxy(#[from] ConfigFileError),
    /// The configured proxy's name did not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// `host:port` looked up.
        host: String,
        /// What the system resolver said.
        source: std::io::Error,
    },
    /// The configured proxy's name resolved to nothing.
    #[error("{host} resolves to no address")]
    NoAddress {
        /// `host:port` looked up.
        host: String,
    },
    /// No proxy is configured and the AOR has no domain to look up.
    #[error("no proxy is configured, and {aor} has no domain to look up")]
    NoDomain {
        /// The AOR.
        aor: String,
    },
    /// DNS discovery failed.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

/// The account's next hops, most preferred first: its `proxy` resolved (one target), or,
/// without one, the P-CSCFs found in DNS from the AOR's domain with the system resolver
/// or `dns_server`. The targets after the first are the account's failover hops.
pub async fn next_hops(
    settings: &AccountSettings,
    dns_server: Option<SocketAddr>,
) -> Result<Vec<Target>, NextHopError> {
    if let Some(proxy) = &settings.proxy {
        let proxy = ProxyAddress::parse(proxy)?;
        let host = proxy.host_port();
        let address = tokio::net::lookup_host(&host)
            .await
            .map_err(|source| NextHopError::Resolve {
                host: host.clone(),
                source,
            })?
            .next()
            .ok_or_else(|| NextHopError::NoAddress { host: host.clone() })?;
        return Ok(vec![Target {
            address,
            transport: settings.transport(),
            host,
        }]);
    }
    let domain = settings.domain().ok_or_else(|| NextHopError::NoDomain {
        aor: settings.aor.clone(),
    })?;
    let discovery = match dns_server {
        Some(server) => Discovery::with_nameserver(server),
        None => Discovery::system(),
    }?;
    Ok(discovery
        .pcscf_targets(domain, settings.transport_preference())
        .await?)
}

/// A next hop as an account takes it.
pub type Hop = (SocketAddr, Transport);

/// The first hop and the failover list as an account wants them.
pub fn split_targets(targets: &[Target]) -> Option<(Hop, Vec<Hop>)> {
    let (first, rest) = targets.split_first()?;
    Some((
        (first.address, first.transport),
        rest.iter().map(|t| (t.address, t.transport)).collect(),
    ))
}

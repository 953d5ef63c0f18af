//! Free ports on 127.0.0.1 for peers started in parallel.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{HarnessError, Result};

/// Ports are handed out from 10000..32000, below Linux's ephemeral range (32768..), so
/// sockets bound to port 0 by anyone on the machine do not take them.
const LOW: u32 = 10_000;
const HIGH: u32 = 32_000;

/// Returns the first port of `count` consecutive ports that are free for UDP and TCP on
/// 127.0.0.1 right now.
///
/// Each test process walks its own stride of the range (seeded by its pid), and never hands a
/// port out twice, so tests of one process do not race each other; a port taken by another
/// process between this check and the peer's bind makes the peer fail to start, and the
/// peer guards retry with a new block.
pub fn free_port_block(count: u16) -> Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let count32 = u32::from(count.max(1));
    let span = HIGH - LOW;
    let seed = (std::process::id() % 220) * 100;
    for _ in 0..(span / count32) {
        let offset = NEXT.fetch_add(count32, Ordering::Relaxed);
        let first = LOW + (seed + offset) % (span - count32);
        let all_free = (first..first + count32).all(|port| {
            u16::try_from(port).is_ok_and(|port| {
                UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
                    && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
            })
        });
        if all_free && let Ok(first) = u16::try_from(first) {
            return Ok(first);
        }
    }
    Err(HarnessError::NoFreePort { count })
}

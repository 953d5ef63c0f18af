//! The TCP server: one task per peer connection, framing messages from the stream and
//! handing each to the shared [`Hss`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

use crate::hss::{Counters, Hss, Outcome};
use crate::message::frame;

/// The most peer connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 256;

/// Locks the HSS; a panic elsewhere while holding the lock leaves plain data behind, so a
/// poisoned lock is used as it is.
fn lock(hss: &Mutex<Hss>) -> MutexGuard<'_, Hss> {
    hss.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Accepts connections until the listener fails.
pub async fn serve(listener: TcpListener, hss: Arc<Mutex<Hss>>) -> std::io::Result<()> {
    let open = Arc::new(());
    loop {
        let (stream, peer) = listener.accept().await?;
        // Each connection task holds one clone of `open`.
        if Arc::strong_count(&open) > MAX_CONNECTIONS {
            warn!(%peer, "too many connections, closing the new one");
            drop(stream);
            continue;
        }
        let hss = Arc::clone(&hss);
        let guard = Arc::clone(&open);
        tokio::spawn(async move {
            info!(%peer, "peer connected");
            match connection(stream, &hss).await {
                Ok(()) => info!(%peer, "peer disconnected"),
                Err(error) => warn!(%peer, %error, "peer connection failed"),
            }
            drop(guard);
        });
    }
}

/// Serves one connection until the peer closes it, sends DPR, or breaks the framing.
pub async fn connection(mut stream: TcpStream, hss: &Mutex<Hss>) -> std::io::Result<()> {
    let max = lock(hss).config.max_message;
    let mut buffer: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let outcome = match frame(&buffer, max) {
            Ok(Some(length)) if buffer.len() >= length => {
                let outcome = lock(hss).handle(buffer.get(..length).unwrap_or_default());
                buffer.drain(..length);
                outcome
            }
            Ok(_) => {
                if stream.read_buf(&mut buffer).await? == 0 {
                    if !buffer.is_empty() {
                        debug!(octets = buffer.len(), "connection closed inside a message");
                    }
                    return Ok(());
                }
                continue;
            }
            Err(error) => {
                warn!(%error, "cannot frame the stream");
                let outcome = lock(hss).handle_frame_error(&buffer, error);
                match outcome {
                    Outcome::Reply(bytes) | Outcome::ReplyAndClose(bytes) => {
                        stream.write_all(&bytes).await?;
                    }
                    Outcome::Ignore | Outcome::Close => {}
                }
                return Ok(());
            }
        };
        match outcome {
            Outcome::Reply(bytes) => stream.write_all(&bytes).await?,
            Outcome::ReplyAndClose(bytes) => {
                stream.write_all(&bytes).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Outcome::Ignore => {}
            Outcome::Close => return Ok(()),
        }
    }
}

/// Logs the counters at info every `period` when they changed.
pub async fn report_counts(hss: Arc<Mutex<Hss>>, period: Duration) {
    let mut last = Counters::default();
    let mut interval = tokio::time::interval(period);
    loop {
        interval.tick().await;
        let now = lock(&hss).counters;
        if now != last {
            info!(
                uar = now.uar,
                mar = now.mar,
                sar = now.sar,
                lir = now.lir,
                base = now.base,
                failures = now.failures,
                vectors = now.vectors,
                resyncs = now.resyncs,
                "Cx counts"
            );
            last = now;
        }
    }
}

/// The address a listener is bound to, for the log line.
pub fn describe(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}

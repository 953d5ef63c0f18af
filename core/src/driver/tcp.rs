//! TCP connections: one reader and one writer task per connection, reporting to the
//! driver loop over a channel.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// What connection tasks tell the driver loop.
#[derive(Debug)]
pub(super) enum Input {
    /// Bytes read from `remote`.
    Bytes { remote: SocketAddr, bytes: Vec<u8> },
    /// The connection with `remote` closed (EOF or error).
    Closed { remote: SocketAddr },
    /// Connecting to `remote` failed.
    ConnectFailed { remote: SocketAddr },
    /// A peer connected to our listener.
    Accepted {
        remote: SocketAddr,
        stream: TcpStream,
    },
}

/// Largest single read handed to the engine.
const READ_CHUNK: usize = 16 * 1024;

/// Starts reader and writer tasks for an established stream; returns the writer's sender.
pub(super) fn start(
    stream: TcpStream,
    remote: SocketAddr,
    input: mpsc::UnboundedSender<Input>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    tokio::spawn(read_loop(read, remote, input));
    tokio::spawn(write_loop(write, receiver));
    sender
}

/// Connects to `remote`, then runs like [`start`]; bytes sent before the connection is up
/// wait in the channel.
pub(super) fn connect(
    remote: SocketAddr,
    input: mpsc::UnboundedSender<Input>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        match TcpStream::connect(remote).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let (read, write) = stream.into_split();
                tokio::spawn(read_loop(read, remote, input));
                write_loop(write, receiver).await;
            }
            Err(error) => {
                tracing::info!(%remote, %error, "TCP connect failed");
                let _ = input.send(Input::ConnectFailed { remote });
            }
        }
    });
    sender
}

async fn read_loop(
    mut read: tokio::net::tcp::OwnedReadHalf,
    remote: SocketAddr,
    input: mpsc::UnboundedSender<Input>,
) {
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        match read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let bytes = buffer.get(..n).unwrap_or_default().to_vec();
                if input.send(Input::Bytes { remote, bytes }).is_err() {
                    return;
                }
            }
        }
    }
    let _ = input.send(Input::Closed { remote });
}

async fn write_loop(
    mut write: tokio::net::tcp::OwnedWriteHalf,
    mut receiver: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(bytes) = receiver.recv().await {
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = write.shutdown().await;
}

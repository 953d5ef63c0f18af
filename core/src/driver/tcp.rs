//! TCP connections: one reader and one writer task per connection, reporting to the
//! driver loop over a channel.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// What connection tasks tell the driver loop. `id` names the connection (the driver
/// numbers them), so news from one it has already replaced or dropped is recognised.
#[derive(Debug)]
pub(super) enum Input {
    /// Bytes read from `remote`.
    Bytes {
        remote: SocketAddr,
        id: u64,
        bytes: Vec<u8>,
    },
    /// The connection with `remote` closed (EOF or error).
    Closed { remote: SocketAddr, id: u64 },
    /// Connecting to `remote` failed.
    ConnectFailed { remote: SocketAddr, id: u64 },
    /// A peer connected to our listener.
    Accepted {
        remote: SocketAddr,
        stream: TcpStream,
    },
}

/// The driver's handle on one connection: dropping it closes the connection (the writer
/// shuts down, the reader stops).
#[derive(Debug, Clone)]
pub(super) struct Connection {
    pub(super) id: u64,
    pub(super) sender: mpsc::UnboundedSender<Vec<u8>>,
}

/// Largest single read handed to the engine.
const READ_CHUNK: usize = 16 * 1024;

/// Starts reader and writer tasks for an established stream.
pub(super) fn start(
    stream: TcpStream,
    remote: SocketAddr,
    id: u64,
    input: mpsc::UnboundedSender<Input>,
) -> Connection {
    let (sender, receiver) = mpsc::unbounded_channel();
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let (stop_sender, stop) = oneshot::channel();
    tokio::spawn(read_loop(read, remote, id, input, stop));
    tokio::spawn(write_loop(write, receiver, stop_sender));
    Connection { id, sender }
}

/// Connects to `remote`, then runs like [`start`]; bytes sent before the connection is up
/// wait in the channel.
pub(super) fn connect(
    remote: SocketAddr,
    id: u64,
    input: mpsc::UnboundedSender<Input>,
) -> Connection {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        match TcpStream::connect(remote).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let (read, write) = stream.into_split();
                let (stop_sender, stop) = oneshot::channel();
                tokio::spawn(read_loop(read, remote, id, input, stop));
                write_loop(write, receiver, stop_sender).await;
            }
            Err(error) => {
                tracing::info!(%remote, %error, "TCP connect failed");
                let _ = input.send(Input::ConnectFailed { remote, id });
            }
        }
    });
    Connection { id, sender }
}

/// Reads until EOF, an error, or the writer's end (`stop`: the driver dropped the
/// connection).
async fn read_loop(
    mut read: tokio::net::tcp::OwnedReadHalf,
    remote: SocketAddr,
    id: u64,
    input: mpsc::UnboundedSender<Input>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        let read = tokio::select! {
            read = read.read(&mut buffer) => read,
            _ = &mut stop => break,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let bytes = buffer.get(..n).unwrap_or_default().to_vec();
                if input.send(Input::Bytes { remote, id, bytes }).is_err() {
                    return;
                }
            }
        }
    }
    let _ = input.send(Input::Closed { remote, id });
}

/// Writes what the driver sends until it drops the connection; then shuts the write side
/// down and (by dropping `stop`) ends the reader.
async fn write_loop(
    mut write: tokio::net::tcp::OwnedWriteHalf,
    mut receiver: mpsc::UnboundedReceiver<Vec<u8>>,
    stop: oneshot::Sender<()>,
) {
    while let Some(bytes) = receiver.recv().await {
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = write.shutdown().await;
    drop(stop);
}

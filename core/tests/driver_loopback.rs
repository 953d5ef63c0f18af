//! The tokio driver on real loopback sockets (IPv4 and IPv6, UDP and TCP) against the
//! scripted registrar of `ims_core::sim` served from a plain socket.
#![allow(clippy::disallowed_methods)] // the registrar side reads the clock like a driver

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ims_core::driver::Driver;
use ims_core::engine::{Command, EngineConfig, Event};
use ims_core::sim::{Registrar, SimPeer};
use ims_core::sip::{Frame, Limits, frame_stream};
use ims_core::transport::Transport;
use ims_core::ua::AccountConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

fn registrar() -> Registrar {
    let mut registrar = Registrar::new("ims.test");
    registrar.add_user("alice", "secret");
    registrar
}

/// Serves `registrar` on a UDP socket until the task is dropped.
async fn serve_udp(socket: UdpSocket, mut registrar: Registrar) {
    let mut buffer = vec![0u8; 65_536];
    while let Ok((n, from)) = socket.recv_from(&mut buffer).await {
        for reply in registrar.on_message(Instant::now(), from, Transport::Udp, &buffer[..n]) {
            let _ = socket.send_to(&reply, from).await;
        }
    }
}

/// Serves `registrar` on one accepted TCP connection, framing by Content-Length.
async fn serve_tcp(listener: TcpListener, mut registrar: Registrar) {
    let Ok((mut stream, from)) = listener.accept().await else {
        return;
    };
    let mut pending = Vec::new();
    let mut buffer = vec![0u8; 16_384];
    while let Ok(n) = stream.read(&mut buffer).await {
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buffer[..n]);
        while let Ok(Frame::Message { length }) = frame_stream(&pending, &Limits::DEFAULT) {
            let message: Vec<u8> = pending.drain(..length).collect();
            for reply in registrar.on_message(Instant::now(), from, Transport::Tcp, &message) {
                let _ = stream.write_all(&reply).await;
            }
        }
    }
}

async fn register_through(
    listen: SocketAddr,
    proxy: SocketAddr,
    transport: Transport,
) -> Vec<Event> {
    let (mut driver, mut handle) = Driver::bind(EngineConfig::default(), listen)
        .await
        .expect("bind");
    let account = driver
        .engine_mut()
        .add_account(AccountConfig::new(
            "sip:alice@ims.test",
            "secret",
            proxy,
            transport,
        ))
        .expect("account");
    let contact = driver.engine_mut().contact(account).unwrap().to_owned();
    assert!(
        contact.contains(&format!(":{}", driver.local_address().port())),
        "{contact}"
    );
    tokio::spawn(driver.run());
    handle.command(Command::Register { account }).unwrap();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, handle.next_event()).await {
        let done = matches!(
            event,
            Event::Registered { .. } | Event::RegistrationFailed { .. }
        );
        events.push(event);
        if done {
            break;
        }
    }
    handle.command(Command::Shutdown).unwrap();
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, handle.next_event()).await {
        let done = matches!(event, Event::ShutdownComplete);
        events.push(event);
        if done {
            break;
        }
    }
    events
}

fn assert_registered_then_shut_down(events: &[Event]) {
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Registered { expires: 600, .. })),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Unregistered { .. })),
        "{events:#?}"
    );
    assert!(
        matches!(events.last(), Some(Event::ShutdownComplete)),
        "{events:#?}"
    );
}

#[tokio::test]
async fn registers_over_udp_on_ipv4() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let proxy = socket.local_addr().unwrap();
    let server = tokio::spawn(serve_udp(socket, registrar()));
    let events = register_through("127.0.0.1:0".parse().unwrap(), proxy, Transport::Udp).await;
    server.abort();
    assert_registered_then_shut_down(&events);
}

#[tokio::test]
async fn registers_over_udp_on_ipv6() {
    let Ok(socket) = UdpSocket::bind("[::1]:0").await else {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    };
    let proxy = socket.local_addr().unwrap();
    let server = tokio::spawn(serve_udp(socket, registrar()));
    let events = register_through("[::1]:0".parse().unwrap(), proxy, Transport::Udp).await;
    server.abort();
    assert_registered_then_shut_down(&events);
}

#[tokio::test]
async fn registers_over_tcp_on_ipv4_reusing_one_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    // One accepted connection only: the challenge answer and the de-registration must
    // reuse it, or they go unanswered and the test fails.
    let server = tokio::spawn(serve_tcp(listener, registrar()));
    let events = register_through("127.0.0.1:0".parse().unwrap(), proxy, Transport::Tcp).await;
    server.abort();
    assert_registered_then_shut_down(&events);
}

#[tokio::test]
async fn connection_refused_is_a_transport_failure_with_retry() {
    // Bind then drop a listener: nothing listens on that port now.
    let proxy = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let events = register_through("127.0.0.1:0".parse().unwrap(), proxy, Transport::Tcp).await;
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::RegistrationFailed {
                reason: ims_core::ua::RegistrationError::Transport { .. },
                retry_in: Some(_),
                ..
            }
        )),
        "{events:#?}"
    );
}

//! imshss over TCP on loopback: framing across reads, several messages in one write,
//! DPR closing the connection, and a broken stream answered then closed.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ims_hss::message::frame;
use ims_hss::server;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start() -> (std::net::SocketAddr, Arc<Mutex<ims_hss::Hss>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let hss = Arc::new(Mutex::new(hss()));
    tokio::spawn(server::serve(listener, Arc::clone(&hss)));
    (address, hss)
}

/// Reads one answer, or `None` at end of stream.
async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Answer> {
    loop {
        if let Ok(Some(length)) = frame(buffer, 1 << 20)
            && buffer.len() >= length
        {
            let bytes: Vec<u8> = buffer.drain(..length).collect();
            return Some(Answer::new(bytes));
        }
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_buf(buffer))
            .await
            .expect("answer within 10 s")
            .unwrap();
        if read == 0 {
            return None;
        }
    }
}

#[tokio::test]
async fn peer_session_over_tcp() {
    let (address, hss) = start().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut buffer = Vec::new();
    let cer = message(
        0x80,
        257,
        0,
        &[
            base(264, b"icscf"),
            base(296, b"ims.test"),
            base(257, &[0, 1, 127, 0, 0, 1]),
            base(266, &0u32.to_be_bytes()),
            avp(269, 0, None, b"cdp"),
            base(258, &16_777_216u32.to_be_bytes()),
        ],
    );
    stream.write_all(&cer).await.unwrap();
    let cea = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!((cea.header.command, cea.result_code()), (257, Some(2001)));
    // A UAR written in two pieces, split inside the header.
    let uar = cx_request(
        300,
        &[base(1, b"alice@ims.test"), tgpp(601, b"sip:alice@ims.test")],
    );
    stream.write_all(&uar[..7]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::task::yield_now().await;
    stream.write_all(&uar[7..]).await.unwrap();
    let uaa = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(uaa.experimental_code(), Some(2001));
    assert_eq!((uaa.header.hop_by_hop, uaa.header.end_to_end), (HOP, END));
    // DWR and LIR in one write: two answers in order.
    let dwr = message(0x80, 280, 0, &[base(264, b"icscf"), base(296, b"ims.test")]);
    let lir = cx_request(302, &[tgpp(601, b"sip:alice@ims.test")]);
    stream.write_all(&[dwr, lir].concat()).await.unwrap();
    let dwa = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!((dwa.header.command, dwa.result_code()), (280, Some(2001)));
    let lia = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(lia.experimental_code(), Some(2003));
    // DPR: DPA, then the HSS closes.
    let dpr = message(0x80, 282, 0, &[base(264, b"icscf"), base(296, b"ims.test")]);
    stream.write_all(&dpr).await.unwrap();
    let dpa = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!((dpa.header.command, dpa.result_code()), (282, Some(2001)));
    assert!(read_answer(&mut stream, &mut buffer).await.is_none());
    let counters = hss.lock().unwrap().counters;
    assert_eq!((counters.uar, counters.lir, counters.base), (1, 1, 3));
}

#[tokio::test]
async fn broken_streams_are_answered_then_closed() {
    let (address, _hss) = start().await;
    // Wrong version: 5011, then closed.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut buffer = Vec::new();
    let mut request = message(0x80, 280, 0, &[base(264, b"icscf")]);
    request[0] = 2;
    stream.write_all(&request).await.unwrap();
    let answer = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(answer.result_code(), Some(5011));
    assert!(read_answer(&mut stream, &mut buffer).await.is_none());
    // Longer than the cap (4096 in the test HSS): 5015, then closed, without reading it.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut buffer = Vec::new();
    let mut request = message(0x80, 280, 0, &[base(264, b"icscf")]);
    request[1] = 0x01;
    stream.write_all(&request).await.unwrap();
    let answer = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(answer.result_code(), Some(5015));
    assert!(read_answer(&mut stream, &mut buffer).await.is_none());
    // A peer that leaves inside a message: the server just closes; it still serves others.
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(&[1, 0, 0]).await.unwrap();
    drop(stream);
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut buffer = Vec::new();
    let dwr = message(0x80, 280, 0, &[base(264, b"icscf"), base(296, b"ims.test")]);
    stream.write_all(&dwr).await.unwrap();
    let dwa = read_answer(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(dwa.result_code(), Some(2001));
}

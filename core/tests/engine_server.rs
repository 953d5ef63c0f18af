//! Server transactions on an engine fed directly: OPTIONS, retransmissions, INVITE's
//! 100 Trying, CANCEL, requests handed to the application, and 400 for bad requests.
#![allow(clippy::disallowed_methods)] // one Instant::now() per test as the virtual epoch

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ims_core::engine::{Command, Engine, EngineConfig, Event};
use ims_core::sip::typed::{To, Via};
use ims_core::sip::{Limits, RawHeader, SipMessage};
use ims_core::transport::{Transmit, Transport};

const LOCAL: &str = "127.0.0.1:5062";
const PEER: &str = "127.0.0.1:40000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn engine() -> Engine {
    let mut engine = Engine::new(EngineConfig {
        rng_seed: Some([3; 32]),
        ..EngineConfig::default()
    })
    .unwrap();
    engine.add_local(Transport::Udp, addr(LOCAL));
    engine
}

fn request(method: &str, branch: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} sip:alice@127.0.0.1:5062 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.9.9.9:5070;rport;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:bob@ims.test>;tag=b1\r\n\
         To: <sip:alice@ims.test>\r\n\
         Call-ID: call-{branch}\r\n\
         CSeq: 7 {method}\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn drain(engine: &mut Engine) -> Vec<Transmit> {
    std::iter::from_fn(|| engine.poll_transmit()).collect()
}

fn status(bytes: &[u8]) -> u16 {
    let mut slots = [RawHeader::EMPTY; 32];
    SipMessage::parse_datagram(bytes, &mut slots, &Limits::DEFAULT)
        .unwrap()
        .status()
        .unwrap()
}

#[test]
fn options_is_answered_with_received_rport_and_a_to_tag_and_retransmissions_get_the_same_bytes() {
    let now = Instant::now();
    let mut engine = engine();
    let options = request("OPTIONS", "z9hG4bKopt1", "");
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &options);
    let sent = drain(&mut engine);
    assert_eq!(sent.len(), 1);
    // rport asked for: back to the source address and port (RFC 3581).
    assert_eq!(sent[0].remote, addr(PEER));
    let mut slots = [RawHeader::EMPTY; 32];
    let response =
        SipMessage::parse_datagram(&sent[0].bytes, &mut slots, &Limits::DEFAULT).unwrap();
    assert_eq!(response.status(), Some(200));
    let via = response.header::<Via>().unwrap().unwrap();
    assert_eq!(via.received(), Some("127.0.0.1"));
    assert_eq!(via.rport(), Some(Some(40000)));
    assert!(response.header::<To>().unwrap().unwrap().tag().is_some());
    assert!(response.raw_named("Allow").next().is_some());
    // The retransmitted OPTIONS gets the very same response, no new transaction.
    engine.handle_datagram(
        now + Duration::from_millis(500),
        addr(PEER),
        addr(LOCAL),
        &options,
    );
    let again = drain(&mut engine);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bytes, sent[0].bytes);
    assert_eq!(engine.stats().server_transactions, 1);
    // Timer J (64*T1) ends the transaction; after it the same request is new.
    engine.handle_timeout(now + Duration::from_secs(33));
    assert_eq!(engine.transaction_count(), 0);
}

#[test]
fn message_goes_to_the_application_which_answers_on_its_transaction() {
    let now = Instant::now();
    let mut engine = engine();
    let message = request("MESSAGE", "z9hG4bKmsg1", "Content-Type: text/plain\r\n");
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &message);
    assert!(
        drain(&mut engine).is_empty(),
        "no 100 Trying for non-INVITE (RFC 4320)"
    );
    let Some(Event::MessageReceived(incoming)) = engine.poll_event() else {
        panic!("expected the MESSAGE to be handed up")
    };
    assert_eq!(incoming.from, "sip:bob@ims.test");
    assert_eq!(incoming.to, "sip:alice@ims.test");
    assert_eq!(incoming.call_id, "call-z9hG4bKmsg1");
    assert_eq!(incoming.cseq, 7);
    assert_eq!(incoming.content_type, "text/plain");
    // A retransmission before the answer is absorbed, not handed up again.
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &message);
    assert!(engine.poll_event().is_none());
    assert!(drain(&mut engine).is_empty());
    engine
        .command(
            now,
            Command::Respond {
                transaction: incoming.transaction,
                status: 200,
                reason: None,
                headers: vec![("X-Test".to_owned(), "yes".to_owned())],
                body: Vec::new(),
            },
        )
        .unwrap();
    let sent = drain(&mut engine);
    assert_eq!(status(&sent[0].bytes), 200);
    assert!(sent[0].bytes.windows(13).any(|w| w == b"X-Test: yes\r\n"));
    // A second final response is refused.
    let again = engine.command(
        now,
        Command::Respond {
            transaction: incoming.transaction,
            status: 500,
            reason: None,
            headers: Vec::new(),
            body: Vec::new(),
        },
    );
    assert!(again.is_err());
}

#[test]
fn oversized_message_body_gets_413_and_is_not_handed_up() {
    let now = Instant::now();
    let mut engine = engine();
    let big = "x".repeat(EngineConfig::default().max_message_body + 1);
    let message = String::from_utf8(request(
        "MESSAGE",
        "z9hG4bKbig",
        "Content-Type: text/plain\r\n",
    ))
    .unwrap()
    .replace(
        "Content-Length: 0\r\n\r\n",
        &format!("Content-Length: {}\r\n\r\n{big}", big.len()),
    );
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), message.as_bytes());
    assert_eq!(status(&drain(&mut engine)[0].bytes), 413);
    assert!(engine.poll_event().is_none());
}

#[test]
fn unanswered_request_times_out_for_the_application() {
    let now = Instant::now();
    let mut engine = engine();
    engine.handle_datagram(
        now,
        addr(PEER),
        addr(LOCAL),
        &request("MESSAGE", "z9hG4bKmsg2", ""),
    );
    let Some(Event::MessageReceived(incoming)) = engine.poll_event() else {
        panic!()
    };
    engine.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(
        engine.poll_event(),
        Some(Event::RequestTimedOut {
            transaction: incoming.transaction
        })
    );
    assert_eq!(engine.transaction_count(), 0);
}

#[test]
fn invite_gets_100_trying_at_once_and_cancel_ends_it_with_487_then_ack_is_absorbed() {
    let now = Instant::now();
    let mut engine = engine();
    let invite = request("INVITE", "z9hG4bKinv1", "");
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &invite);
    let sent = drain(&mut engine);
    assert_eq!(sent.len(), 1);
    assert_eq!(status(&sent[0].bytes), 100);
    assert!(matches!(
        engine.poll_event(),
        Some(Event::IncomingRequest(_))
    ));
    // A retransmitted INVITE gets the 100 again.
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &invite);
    assert_eq!(status(&drain(&mut engine)[0].bytes), 100);
    // CANCEL with the INVITE's branch: 200 for the CANCEL, 487 for the INVITE.
    let cancel = String::from_utf8(request("CANCEL", "z9hG4bKinv1", "")).unwrap();
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), cancel.as_bytes());
    let sent = drain(&mut engine);
    let statuses: Vec<u16> = sent.iter().map(|t| status(&t.bytes)).collect();
    assert_eq!(statuses, vec![200, 487]);
    // Timer G retransmits the 487 until the ACK.
    engine.handle_timeout(now + Duration::from_millis(500));
    assert_eq!(status(&drain(&mut engine)[0].bytes), 487);
    let ack = request("ACK", "z9hG4bKinv1", "");
    engine.handle_datagram(
        now + Duration::from_millis(600),
        addr(PEER),
        addr(LOCAL),
        &ack,
    );
    engine.handle_timeout(now + Duration::from_millis(1600));
    assert!(
        drain(&mut engine).is_empty(),
        "no retransmission after the ACK"
    );
    // Timer I (T4) ends the INVITE transaction; Timer J (64*T1) the CANCEL's.
    engine.handle_timeout(now + Duration::from_secs(6));
    assert_eq!(engine.transaction_count(), 1);
    engine.handle_timeout(now + Duration::from_secs(33));
    assert_eq!(engine.transaction_count(), 0);
}

#[test]
fn cancel_for_an_unknown_transaction_gets_481() {
    let now = Instant::now();
    let mut engine = engine();
    engine.handle_datagram(
        now,
        addr(PEER),
        addr(LOCAL),
        &request("CANCEL", "z9hG4bKnone", ""),
    );
    assert_eq!(status(&drain(&mut engine)[0].bytes), 481);
}

#[test]
fn rfc2543_request_without_magic_cookie_still_matches_its_retransmission() {
    let now = Instant::now();
    let mut engine = engine();
    let old = request("OPTIONS", "oldstyle1", "");
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &old);
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), &old);
    let sent = drain(&mut engine);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].bytes, sent[1].bytes);
    assert_eq!(engine.stats().server_transactions, 1);
}

#[test]
fn request_missing_call_id_gets_400_with_a_warning() {
    let now = Instant::now();
    let mut engine = engine();
    let bad = String::from_utf8(request("OPTIONS", "z9hG4bKbad", ""))
        .unwrap()
        .replace("Call-ID: call-z9hG4bKbad\r\n", "");
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), bad.as_bytes());
    let sent = drain(&mut engine);
    assert_eq!(status(&sent[0].bytes), 400);
    assert!(sent[0].bytes.windows(8).any(|w| w == b"Warning:"));
    assert_eq!(engine.stats().malformed, 1);
}

/// `message` with its `Content-Length: 0` and empty body replaced.
fn with_body(message: Vec<u8>, content_length: usize, body: &str) -> String {
    String::from_utf8(message).unwrap().replace(
        "Content-Length: 0\r\n\r\n",
        &format!("Content-Length: {content_length}\r\n\r\n{body}"),
    )
}

#[test]
fn udp_request_shorter_than_its_content_length_gets_400_and_is_not_handed_up() {
    // RFC 3261 §18.3: over UDP, a Content-Length larger than the bytes received is
    // answered 400 Bad Request.
    let now = Instant::now();
    let mut engine = engine();
    let short = with_body(
        request("MESSAGE", "z9hG4bKshort", "Content-Type: text/plain\r\n"),
        50,
        "twenty bytes of text",
    );
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), short.as_bytes());
    let sent = drain(&mut engine);
    assert_eq!(sent.len(), 1);
    assert_eq!(status(&sent[0].bytes), 400);
    assert_eq!(sent[0].transport, Transport::Udp);
    assert_eq!(sent[0].remote, addr(PEER), "rport: back to the source");
    let text = String::from_utf8_lossy(&sent[0].bytes);
    assert!(text.starts_with("SIP/2.0 400 Bad Request\r\n"), "{text}");
    for echoed in [
        "Via: SIP/2.0/UDP 10.9.9.9:5070;rport;branch=z9hG4bKshort",
        "From: <sip:bob@ims.test>;tag=b1\r\n",
        "Call-ID: call-z9hG4bKshort\r\n",
        "CSeq: 7 MESSAGE\r\n",
    ] {
        assert!(text.contains(echoed), "{echoed} missing in {text}");
    }
    assert!(
        text.contains(
            "Warning: 399 ims-rs \"Content-Length 50 exceeds the 20 body bytes received\""
        ),
        "{text}"
    );
    let mut slots = [RawHeader::EMPTY; 32];
    let answer = SipMessage::parse_datagram(&sent[0].bytes, &mut slots, &Limits::DEFAULT).unwrap();
    let to = answer.header::<To>().unwrap().unwrap();
    assert!(to.tag().is_some(), "the 400 carries a To tag");
    assert!(answer.body().is_empty());
    assert!(
        engine.poll_event().is_none(),
        "nothing reaches the application"
    );
    assert_eq!(engine.stats().malformed, 1);
    assert_eq!(engine.stats().server_transactions, 0);
    assert_eq!(engine.transaction_count(), 0);

    // A retransmission gets the same answer again (no transaction absorbs it).
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), short.as_bytes());
    assert_eq!(status(&drain(&mut engine)[0].bytes), 400);

    // The same request whole is a good one.
    let whole = with_body(
        request("MESSAGE", "z9hG4bKshort", "Content-Type: text/plain\r\n"),
        20,
        "twenty bytes of text",
    );
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), whole.as_bytes());
    assert!(drain(&mut engine).is_empty());
    assert!(matches!(
        engine.poll_event(),
        Some(Event::MessageReceived(m)) if m.body == b"twenty bytes of text"
    ));
}

#[test]
fn short_ack_and_short_response_over_udp_are_dropped_without_an_answer() {
    let now = Instant::now();
    let mut engine = engine();
    let ack = with_body(request("ACK", "z9hG4bKshortack", ""), 10, "abc");
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), ack.as_bytes());
    let response = "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKnotours\r\n\
         From: <sip:alice@ims.test>;tag=a1\r\n\
         To: <sip:bob@ims.test>;tag=b1\r\n\
         Call-ID: c1\r\n\
         CSeq: 1 MESSAGE\r\n\
         Content-Length: 10\r\n\r\nabc";
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), response.as_bytes());
    assert!(drain(&mut engine).is_empty());
    assert!(engine.poll_event().is_none());
    assert_eq!(engine.stats().malformed, 2);
    // A short request whose Via is unusable cannot be answered either.
    let no_via = with_body(request("MESSAGE", "z9hG4bKnovia", ""), 10, "abc").replace(
        "Via: SIP/2.0/UDP 10.9.9.9:5070;rport;branch=z9hG4bKnovia",
        "Via: nonsense",
    );
    engine.handle_datagram(now, addr(PEER), addr(LOCAL), no_via.as_bytes());
    assert!(drain(&mut engine).is_empty());
    assert_eq!(engine.stats().malformed, 3);
}

#[test]
fn tcp_request_shorter_than_its_content_length_waits_for_the_rest() {
    let now = Instant::now();
    let mut engine = engine();
    engine.add_local(Transport::Tcp, addr(LOCAL));
    let whole = with_body(
        request("MESSAGE", "z9hG4bKtcpbody", "Content-Type: text/plain\r\n").replace_via_tcp(),
        20,
        "twenty bytes of text",
    );
    let (head, tail) = whole.as_bytes().split_at(whole.len() - 12);
    engine.handle_stream_bytes(now, addr(PEER), addr(LOCAL), head);
    assert!(
        drain(&mut engine).is_empty(),
        "no 400 on a stream: more may come"
    );
    assert!(engine.poll_event().is_none());
    engine.handle_stream_bytes(now, addr(PEER), addr(LOCAL), tail);
    assert!(matches!(
        engine.poll_event(),
        Some(Event::MessageReceived(m)) if m.body == b"twenty bytes of text"
    ));
    assert_eq!(engine.stats().malformed, 0);
}

#[test]
fn garbage_and_truncated_input_never_panics_and_is_counted() {
    let now = Instant::now();
    let mut engine = engine();
    let good = with_body(request("MESSAGE", "z9hG4bKcut", ""), 5, "hello").into_bytes();
    for cut in 0..good.len() {
        engine.handle_datagram(now, addr(PEER), addr(LOCAL), &good[..cut]);
        engine.handle_stream_bytes(now, addr(PEER), addr(LOCAL), &good[..cut]);
        engine.handle_connection_closed(now, addr(PEER));
    }
    let mut flipped = good.clone();
    for i in 0..flipped.len() {
        flipped[i] ^= 0x55;
        engine.handle_datagram(now, addr(PEER), addr(LOCAL), &flipped);
        flipped[i] ^= 0x55;
    }
    assert!(engine.stats().malformed > 0);
}

#[test]
fn tcp_stream_in_pieces_with_ping_gets_pong_and_message() {
    let now = Instant::now();
    let mut engine = engine();
    engine.add_local(Transport::Tcp, addr(LOCAL));
    let mut stream = b"\r\n\r\n".to_vec();
    stream.extend_from_slice(&request("OPTIONS", "z9hG4bKtcp1", "").replace_via_tcp());
    for chunk in stream.chunks(7) {
        engine.handle_stream_bytes(now, addr(PEER), addr(LOCAL), chunk);
    }
    let sent = drain(&mut engine);
    assert_eq!(sent[0].bytes, b"\r\n");
    assert_eq!(sent[1].transport, Transport::Tcp);
    assert_eq!(sent[1].remote, addr(PEER));
    assert_eq!(status(&sent[1].bytes), 200);
}

trait ReplaceVia {
    fn replace_via_tcp(self) -> Vec<u8>;
}

impl ReplaceVia for Vec<u8> {
    fn replace_via_tcp(self) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replace("SIP/2.0/UDP", "SIP/2.0/TCP")
            .into_bytes()
    }
}

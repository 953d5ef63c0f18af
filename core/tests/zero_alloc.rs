//! Proves that parsing allocates nothing: a counting global allocator around the parse of
//! every valid RFC 4475 vector and of the typed views that are zero-copy.
//!
//! Views that may allocate, by design, are not counted here: `DisplayName::unescaped`,
//! `Uri::user_unescaped` and `typed::unquote` return `Cow::Owned` only when the text has an
//! escape to undo, since the unescaped bytes exist nowhere in the buffer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ims_core::sip::typed::{CSeq, CallId, Contact, From, MaxForwards, Route, To, Via};
use ims_core::sip::{Limits, RawHeader, SipMessage, Uri, frame_stream};

struct Counting;

// Per thread, so that the test harness and other tests running beside do not count.
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

fn touch_views(message: &SipMessage<'_>) -> usize {
    let mut seen = 0usize;
    for via in message.header_values::<Via>().flatten() {
        seen += via.branch().map_or(0, str::len) + usize::from(via.rport().is_some());
    }
    if let Some(Ok(from)) = message.header::<From>() {
        seen += from.tag().map_or(0, str::len) + from.uri.user().map_or(0, str::len);
    }
    if let Some(Ok(to)) = message.header::<To>() {
        seen += to.uri.host_str().len();
    }
    if let Some(Ok(cseq)) = message.header::<CSeq>() {
        seen += cseq.seq as usize;
    }
    if let Some(Ok(call_id)) = message.header::<CallId>() {
        seen += call_id.0.len();
    }
    if let Some(Ok(max_forwards)) = message.header::<MaxForwards>() {
        seen += max_forwards.0 as usize;
    }
    for contact in message.header_values::<Contact>().flatten() {
        seen += contact.expires().unwrap_or(0) as usize + usize::from(contact.q().is_some());
    }
    for route in message.header_values::<Route>().flatten() {
        seen += route.uri.params_str().len();
    }
    if let Some(uri) = message.request_uri().and_then(|u| Uri::parse(u).ok()) {
        seen += uri.params().count();
    }
    seen
}

#[test]
fn parsing_valid_vectors_allocates_nothing() {
    let directory =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc4475/valid");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 26);
    let mut slots = [RawHeader::EMPTY; 128];
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let mut result = None;
        let count = allocations(|| {
            let message = SipMessage::parse_datagram(&bytes, &mut slots, &Limits::DEFAULT);
            result = Some(
                message
                    .map(|m| (m.header_count(), touch_views(&m)))
                    .map_err(|e| e.kind),
            );
        });
        let (headers, seen) = result
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(headers > 0 && seen > 0, "{}", file.display());
        assert_eq!(count, 0, "{}: {count} allocations", file.display());
    }
}

#[test]
fn stream_framing_allocates_nothing() {
    let message = b"MESSAGE sip:bob@ims.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1\r\nl: 5\r\n\r\nhello";
    let mut stream = b"\r\n\r\n".to_vec();
    stream.extend_from_slice(message);
    let count = allocations(|| {
        let limits = Limits::DEFAULT;
        assert!(matches!(
            frame_stream(&stream, &limits),
            Ok(ims_core::sip::Frame::KeepAlive { length: 4 })
        ));
        assert!(
            matches!(frame_stream(&stream[4..], &limits), Ok(ims_core::sip::Frame::Message { length }) if length == message.len())
        );
    });
    assert_eq!(count, 0);
}

#[test]
fn the_counter_sees_allocations() {
    let count = allocations(|| drop(std::hint::black_box(vec![1u8; 10])));
    assert_eq!(count, 1);
}

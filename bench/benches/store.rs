//! Store benchmarks (issue #7): what the SQLite store costs per message.
//!
//! - `store/outgoing_sent/*`: `insert_outgoing` (queued) then `set_state(Sent)`, what the
//!   engine writes for one sent message. `per_message`: each write its own transaction
//!   (two commits per message); `batch_100`: 100 messages, both writes each, in one
//!   `Store::batch` (one commit).
//! - `store/incoming/*`: `insert_incoming` of a new message (duplicate check, insert,
//!   unknown-sender contact check), each its own transaction or 100 in one batch.
//!
//! Each runs with `synchronous=FULL` (`Durability::PowerLoss`, the default: one WAL
//! fsync per commit) and `synchronous=NORMAL` (`Durability::ProcessCrash`). The file lives
//! in cargo's target tmp directory (the build disk, not a tmpfs), so FULL pays a real
//! fsync; they are timed by the wall clock, since the fsync wait is part of the cost.
//! `memory_cpu` is an in-memory store timed by the thread's CPU clock (through
//! `iter_custom`, as in the aka and engine benches): the statements alone, without the
//! time the thread spends preempted by other builds on the shared machine.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use ims_bench::cpu::thread_cpu_time;
use ims_core::store::{
    Aor, ConversationId, Durability, MessageState, NewIncoming, NewOutgoing, Store, StoreOptions,
};

const BATCH: u64 = 100;
const BODY: &[u8] = b"Hello Bob, this is a pager-mode message of a typical chat length.";
const CONTENT_TYPE: &str = "text/plain;charset=UTF-8";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    conversation: ConversationId,
    bob: Aor,
    next_cseq: u32,
}

/// A store on disk with `durability`, or in memory for `None`.
fn fixture(durability: Option<Durability>) -> Fixture {
    let dir =
        tempfile::tempdir_in(Path::new(env!("CARGO_TARGET_TMPDIR"))).expect("temporary directory");
    let mut store = match durability {
        Some(durability) => Store::open_with(
            &dir.path().join("ims.sqlite"),
            &StoreOptions {
                durability,
                ..StoreOptions::default()
            },
        ),
        None => Store::open_in_memory(),
    }
    .expect("open store");
    let alice = store
        .upsert_account(&Aor::parse("sip:alice@ims.test").expect("aor"), None)
        .expect("account");
    let bob = Aor::parse("sip:bob@ims.test").expect("aor");
    let conversation = store
        .conversation_with_peer(alice, &bob)
        .expect("conversation");
    Fixture {
        _dir: dir,
        store,
        conversation,
        bob,
        next_cseq: 1,
    }
}

fn outgoing(conversation: ConversationId) -> NewOutgoing<'static> {
    NewOutgoing {
        conversation,
        body: BODY,
        content_type: CONTENT_TYPE,
        imdn_message_id: None,
        created_at: now(),
    }
}

/// An incoming message: same Call-ID, a new CSeq each time, so never a duplicate.
fn incoming_message(conversation: ConversationId, sender: &Aor, cseq: u32) -> NewIncoming<'_> {
    NewIncoming {
        conversation,
        sender,
        sender_display_name: None,
        body: BODY,
        content_type: CONTENT_TYPE,
        sip_call_id: Some("a84b4c76e66710@pc33.ims.test"),
        sip_cseq: Some(cseq),
        imdn_message_id: None,
        received_at: now(),
    }
}

fn modes() -> [(&'static str, Option<Durability>); 3] {
    [
        ("full", Some(Durability::PowerLoss)),
        ("normal", Some(Durability::ProcessCrash)),
        ("memory_cpu", None),
    ]
}

/// Times `body`: wall clock for a store on disk (the fsync wait is the cost), the
/// thread's CPU time for the in-memory one (the statements alone, preemption by other
/// builds on the shared machine not counted).
fn run(b: &mut Bencher<'_>, durability: Option<Durability>, mut body: impl FnMut()) {
    match durability {
        Some(_) => b.iter(&mut body),
        None => b.iter_custom(|iterations| {
            let start = thread_cpu_time();
            for _ in 0..iterations {
                body();
            }
            thread_cpu_time().saturating_sub(start)
        }),
    }
}

fn outgoing_sent(c: &mut Criterion) {
    let mut group = c.benchmark_group("store/outgoing_sent");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for (name, durability) in modes() {
        let mut f = fixture(durability);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("per_message/{name}"), |b| {
            run(b, durability, || {
                let id = f
                    .store
                    .insert_outgoing(&outgoing(f.conversation))
                    .expect("insert");
                f.store
                    .set_state(id, MessageState::Sent, None, now())
                    .expect("sent");
            })
        });
        group.throughput(Throughput::Elements(BATCH));
        group.bench_function(format!("batch_{BATCH}/{name}"), |b| {
            run(b, durability, || {
                let conversation = f.conversation;
                f.store
                    .batch(|batch| {
                        for _ in 0..BATCH {
                            let id = batch.insert_outgoing(&outgoing(conversation))?;
                            batch.set_state(id, MessageState::Sent, None, now())?;
                        }
                        Ok(())
                    })
                    .expect("batch");
            })
        });
    }
    group.finish();
}

fn incoming(c: &mut Criterion) {
    let mut group = c.benchmark_group("store/incoming");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for (name, durability) in modes() {
        let mut f = fixture(durability);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("per_message/{name}"), |b| {
            run(b, durability, || {
                f.next_cseq += 1;
                let message = incoming_message(f.conversation, &f.bob, f.next_cseq);
                let id = f.store.insert_incoming(&message).expect("insert");
                assert!(id.is_some(), "not a duplicate");
            })
        });
        group.throughput(Throughput::Elements(BATCH));
        group.bench_function(format!("batch_{BATCH}/{name}"), |b| {
            run(b, durability, || {
                let (conversation, bob, first) = (f.conversation, &f.bob, f.next_cseq);
                f.store
                    .batch(|batch| {
                        for n in 1..=BATCH as u32 {
                            let message = incoming_message(conversation, bob, first + n);
                            assert!(batch.insert_incoming(&message)?.is_some());
                        }
                        Ok(())
                    })
                    .expect("batch");
                f.next_cseq += BATCH as u32;
            })
        });
    }
    group.finish();
}

criterion_group!(benches, outgoing_sent, incoming);
criterion_main!(benches);

//! Engine benchmark (issue #5, "Performance"): one engine with 10,000 accounts
//! (`sip:u00000@ims.test` ..) registering over UDP against a scripted Digest registrar.
//!
//! # What is timed
//!
//! `register`: every account sends REGISTER, gets a 401 with a Digest challenge, answers it,
//! gets a 200 OK; then virtual time moves past Timer K so every transaction has ended. That
//! is 20,000 client transactions (10,000 challenged + 10,000 answered) = 10,000 full
//! registrations per iteration.
//! `refresh`: the 10,000 registered accounts hit their refresh timer, each sends one
//! REGISTER with the cached credentials (nc=00000002), gets a 200 OK, and the transactions
//! end: 10,000 transactions per iteration.
//!
//! The clock is the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`), not the wall clock,
//! so time the thread spent preempted by other work on this shared machine is not counted.
//!
//! # How the registrar's CPU is kept out
//!
//! The bench drives the engine itself (no `SimNetwork` in the timed benches). Before any
//! timing it runs the whole scenario once against the real `ims_core::sim::Registrar`,
//! which checks every Digest response for real, and records each of its answers. The
//! engine is deterministic (fixed RNG seed, same inputs and times give the same bytes),
//! so an engine built the same way sends the same REGISTERs again and the recorded
//! answers fit them; a verification pass checks that, byte for byte, before timing. The
//! timed region then only hands the recorded byte buffers to `handle_datagram` and drains
//! `poll_transmit`/`poll_event`: everything in it is engine work (parsing responses, Digest
//! computation, writing requests, timers) plus dropping what the engine returned. The
//! registrar's parsing, Digest checking and response writing happen outside the timed
//! region. A third bench, `simnetwork`, times the same registration through `SimNetwork`
//! with the live registrar, to show what the engine-only figure leaves out.
//!
//! # Memory
//!
//! Before criterion runs, a counting global allocator measures the live heap bytes the
//! engine gains between "engine created, no accounts" and "10,000 registered, idle (no
//! transactions open)". The registrar runs with counting paused, and everything the
//! engine hands out (transmits, events) is dropped while counting is on, so the net figure
//! is what the engine holds. `IMS_ENGINE_BENCH_ONCE=1` prints that report plus one timed
//! pass of each case and exits (for callgrind: the timed regions are the functions
//! `timed_register` and `timed_refresh`).
#![allow(unsafe_code)] // the counting global allocator
#![allow(clippy::disallowed_methods)] // one Instant::now() as the virtual epoch

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use ims_bench::cpu::thread_cpu_time;
use ims_core::engine::{Command, Engine, EngineConfig, Event};
use ims_core::sim::{Registrar, SimNetwork, SimPeer};
use ims_core::transport::{Transmit, Transport};
use ims_core::ua::{AccountConfig, AccountId, RegistrationState};

const ACCOUNTS: usize = 10_000;
const SEED: [u8; 32] = [7; 32];
const REGISTRAR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5060));
const PHONE: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5062));

// Virtual times, as offsets from the epoch. Accounts ask for 600 s; the engine refreshes
// 30 s before expiry, so 570 s after the 200 OK.
const CHALLENGE_AT: Duration = Duration::from_millis(1);
const OK_AT: Duration = Duration::from_millis(2);
/// Past Timer K (T4 = 5 s) of every transaction and past the Timer E entries (T1) left
/// on the heap by answered requests, so every transaction has ended and every timer
/// entry it pushed has been popped.
const IDLE_AT: Duration = Duration::from_secs(40);
/// Between registration waves in the memory measurement: past Timer K (T4 = 5 s).
const WAVE_GAP: Duration = Duration::from_secs(6);
const REFRESH_AT: Duration = Duration::from_secs(571);
const REFRESH_OK_AT: Duration = Duration::from_millis(571_001);
const REFRESH_IDLE_AT: Duration = Duration::from_secs(611);

// ---------------------------------------------------------------------------------------
// Counting allocator (net live bytes while counting is on)

struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn count_alloc(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATED.fetch_add(size, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

fn count_free(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        FREED.fetch_add(size, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are relaxed atomics and never touch the memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: the caller's guarantees for `layout` are passed on as they are.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_free(layout.size());
        count_alloc(new_size);
        // SAFETY: `ptr` came from this allocator, which is `System` underneath.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_free(layout.size());
        // SAFETY: `ptr` came from this allocator, which is `System` underneath.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Net bytes allocated while counting was on (may be negative: frees of older memory).
fn net_bytes() -> i64 {
    ALLOCATED.load(Ordering::Relaxed) as i64 - FREED.load(Ordering::Relaxed) as i64
}

/// Runs `f` with counting paused (for the registrar's own work).
fn paused<R>(f: impl FnOnce() -> R) -> R {
    let was = COUNTING.swap(false, Ordering::Relaxed);
    let result = f();
    COUNTING.store(was, Ordering::Relaxed);
    result
}

// ---------------------------------------------------------------------------------------
// CPU clock

// ---------------------------------------------------------------------------------------
// The scenario

fn user(i: usize) -> String {
    format!("u{i:05}")
}

fn password(i: usize) -> String {
    format!("pw-{i:05}-secret")
}

fn new_engine() -> Engine {
    let mut engine = Engine::new(EngineConfig {
        rng_seed: Some(SEED),
        ..EngineConfig::default()
    })
    .expect("engine config");
    engine.add_local(Transport::Udp, PHONE);
    engine
}

fn add_accounts(engine: &mut Engine, ids: &mut Vec<AccountId>) {
    for i in 0..ACCOUNTS {
        let aor = format!("sip:{}@ims.test", user(i));
        let config = AccountConfig::new(&aor, &password(i), REGISTRAR, Transport::Udp);
        ids.push(engine.add_account(config).expect("account"));
    }
}

fn new_registrar() -> Registrar {
    let mut registrar = Registrar::new("ims.test");
    for i in 0..ACCOUNTS {
        registrar.add_user(&user(i), &password(i));
    }
    registrar
}

/// Takes everything the engine has queued: transmits go to `out`, events are dropped;
/// returns how many `Registered` events there were.
fn drain(engine: &mut Engine, out: &mut impl FnMut(Transmit)) -> usize {
    while let Some(transmit) = engine.poll_transmit() {
        out(transmit);
    }
    let mut registered = 0;
    while let Some(event) = engine.poll_event() {
        registered += usize::from(matches!(event, Event::Registered { .. }));
    }
    registered
}

/// `Command::Register` for each account, draining after each as a driver would.
fn send_registers(
    engine: &mut Engine,
    ids: &[AccountId],
    now: Instant,
    out: &mut impl FnMut(Transmit),
) {
    for &account in ids {
        engine
            .command(now, Command::Register { account })
            .expect("register command");
        drain(engine, out);
    }
}

/// Each response arrives as a datagram from the registrar; returns `Registered` events.
fn deliver(
    engine: &mut Engine,
    responses: &[Vec<u8>],
    now: Instant,
    out: &mut impl FnMut(Transmit),
) -> usize {
    let mut registered = 0;
    for response in responses {
        engine.handle_datagram(now, REGISTRAR, PHONE, response);
        registered += drain(engine, out);
    }
    registered
}

/// Runs the engine's timers due at `now`.
fn timeout(engine: &mut Engine, now: Instant, out: &mut impl FnMut(Transmit)) -> usize {
    engine.handle_timeout(now);
    drain(engine, out)
}

/// The registrar's answers, recorded once, and every request the engine sent.
struct Script {
    challenges: Vec<Vec<u8>>,
    oks: Vec<Vec<u8>>,
    refresh_oks: Vec<Vec<u8>>,
    /// REGISTERs in the order sent: first, answered, refresh.
    requests: Vec<Vec<u8>>,
}

/// Runs the scenario once against the live registrar and records its answers.
fn record(epoch: Instant) -> Script {
    let mut registrar = new_registrar();
    let mut answer = |requests: &[Vec<u8>], now: Instant| -> Vec<Vec<u8>> {
        requests
            .iter()
            .map(|request| {
                let mut replies = registrar.on_message(now, PHONE, Transport::Udp, request);
                assert_eq!(replies.len(), 1, "the registrar answers each REGISTER");
                replies.pop().unwrap_or_default()
            })
            .collect()
    };
    let mut engine = new_engine();
    let mut ids = Vec::with_capacity(ACCOUNTS);
    add_accounts(&mut engine, &mut ids);
    let sent = RefCell::new(Vec::new());
    let mut out = |t: Transmit| sent.borrow_mut().push(t.bytes);

    send_registers(&mut engine, &ids, epoch, &mut out);
    let first: Vec<Vec<u8>> = sent.take();
    let challenges = answer(&first, epoch + CHALLENGE_AT);
    assert!(deliver(&mut engine, &challenges, epoch + CHALLENGE_AT, &mut out) == 0);
    let answered: Vec<Vec<u8>> = sent.take();
    let oks = answer(&answered, epoch + OK_AT);
    let registered = deliver(&mut engine, &oks, epoch + OK_AT, &mut out);
    assert_eq!(registered, ACCOUNTS);
    assert_eq!(timeout(&mut engine, epoch + IDLE_AT, &mut out), 0);
    assert_eq!(engine.transaction_count(), 0);
    assert!(sent.borrow().is_empty());

    timeout(&mut engine, epoch + REFRESH_AT, &mut out);
    let refreshes: Vec<Vec<u8>> = sent.take();
    assert_eq!(refreshes.len(), ACCOUNTS);
    assert!(
        refreshes.iter().all(|r| contains(r, b"nc=00000002")),
        "refreshes reuse the cached challenge with nc=2"
    );
    let refresh_oks = answer(&refreshes, epoch + REFRESH_OK_AT);
    let registered = deliver(&mut engine, &refresh_oks, epoch + REFRESH_OK_AT, &mut out);
    assert_eq!(registered, ACCOUNTS);
    timeout(&mut engine, epoch + REFRESH_IDLE_AT, &mut out);
    assert_eq!(engine.transaction_count(), 0);

    assert_eq!(registrar.challenges, ACCOUNTS as u64);
    assert_eq!(registrar.accepted, 2 * ACCOUNTS as u64);
    assert_eq!(registrar.rejected, 0, "every Digest response checked out");

    let requests = first.into_iter().chain(answered).chain(refreshes).collect();
    Script {
        challenges,
        oks,
        refresh_oks,
        requests,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A fresh engine with the accounts added (not timed).
fn prepared() -> (Engine, Vec<AccountId>) {
    let mut engine = new_engine();
    let mut ids = Vec::with_capacity(ACCOUNTS);
    add_accounts(&mut engine, &mut ids);
    (engine, ids)
}

/// The timed region of `register`: 20,000 transactions, through to their end.
#[inline(never)]
fn timed_register(
    engine: &mut Engine,
    ids: &[AccountId],
    script: &Script,
    epoch: Instant,
    out: &mut impl FnMut(Transmit),
) -> usize {
    send_registers(engine, ids, epoch, out);
    deliver(engine, &script.challenges, epoch + CHALLENGE_AT, out);
    let registered = deliver(engine, &script.oks, epoch + OK_AT, out);
    timeout(engine, epoch + IDLE_AT, out);
    registered
}

/// The timed region of `refresh`: 10,000 transactions, through to their end.
#[inline(never)]
fn timed_refresh(
    engine: &mut Engine,
    script: &Script,
    epoch: Instant,
    out: &mut impl FnMut(Transmit),
) -> usize {
    timeout(engine, epoch + REFRESH_AT, out);
    let registered = deliver(engine, &script.refresh_oks, epoch + REFRESH_OK_AT, out);
    timeout(engine, epoch + REFRESH_IDLE_AT, out);
    registered
}

fn discard(transmit: Transmit) {
    black_box(&transmit);
}

/// Checks the outcome of a timed pass (outside the timed region).
fn check_registered(engine: &Engine, ids: &[AccountId], registered: usize) {
    assert_eq!(registered, ACCOUNTS);
    assert_eq!(engine.transaction_count(), 0);
    assert_eq!(engine.stats().stray_responses, 0);
    assert_eq!(engine.stats().retransmissions, 0);
    assert!(ids.iter().all(|&id| matches!(
        engine.registration_state(id),
        Some(RegistrationState::Registered { expires: 600 })
    )));
}

/// Replays the script once, untimed, and checks the engine sent the recorded bytes.
fn verify_replay(script: &Script, epoch: Instant) {
    let (mut engine, ids) = prepared();
    let mut sent = Vec::new();
    let mut out = |t: Transmit| sent.push(t.bytes);
    let registered = timed_register(&mut engine, &ids, script, epoch, &mut out);
    check_registered(&engine, &ids, registered);
    let registered = timed_refresh(&mut engine, script, epoch, &mut out);
    check_registered(&engine, &ids, registered);
    assert!(
        sent == script.requests,
        "the replayed engine must send exactly the recorded REGISTERs"
    );
}

/// An engine whose accounts are registered and idle (not timed), for `refresh`.
fn registered_engine(script: &Script, epoch: Instant) -> Engine {
    let (mut engine, ids) = prepared();
    let registered = timed_register(&mut engine, &ids, script, epoch, &mut discard);
    check_registered(&engine, &ids, registered);
    engine
}

// ---------------------------------------------------------------------------------------
// Memory

/// Live heap the engine gains; the registrar's work is paused out.
struct MemoryFigures {
    accounts_only: i64,
    registered_idle: i64,
    largest_allocation: usize,
}

/// Registers every account against the live registrar, `wave` accounts at a time, and
/// measures net live bytes from "engine with no accounts" to "all registered and idle".
fn measure_memory(wave: usize, epoch: Instant) -> (MemoryFigures, Engine, Vec<AccountId>) {
    let mut registrar = new_registrar();
    let mut engine = new_engine();
    let mut ids = Vec::with_capacity(ACCOUNTS);
    // The bench's own buffers exist before counting starts and never grow.
    let mut requests: Vec<Vec<u8>> = Vec::with_capacity(ACCOUNTS);
    let mut replies: Vec<Vec<u8>> = Vec::with_capacity(ACCOUNTS);

    let start_bytes = net_bytes();
    LARGEST.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    add_accounts(&mut engine, &mut ids);
    let accounts_only = net_bytes() - start_bytes;
    let largest_allocation = LARGEST.load(Ordering::Relaxed);

    let mut registered = 0;
    let mut now = epoch;
    for chunk in ids.chunks(wave) {
        let mut out = |t: Transmit| requests.push(t.bytes);
        send_registers(&mut engine, chunk, now, &mut out);
        for round in 0..2 {
            let at = now + if round == 0 { CHALLENGE_AT } else { OK_AT };
            paused(|| {
                for request in &requests {
                    replies.extend(registrar.on_message(at, PHONE, Transport::Udp, request));
                }
            });
            requests.clear(); // the engine's REGISTER buffers, freed while counting
            let mut out = |t: Transmit| requests.push(t.bytes);
            registered += deliver(&mut engine, &replies, at, &mut out);
            paused(|| replies.clear()); // the registrar's buffers
        }
        assert!(requests.is_empty());
        // Let this wave's transactions end (Timer K, stale Timer E entries); 50 waves of
        // 6 s stay well before the first refresh at 570 s.
        now += WAVE_GAP;
        registered += timeout(&mut engine, now, &mut |_| unreachable!("nothing to send"));
    }
    let registered_idle = net_bytes() - start_bytes;
    COUNTING.store(false, Ordering::Relaxed);
    assert_eq!(registered, ACCOUNTS);
    assert_eq!(engine.transaction_count(), 0);
    assert_eq!(registrar.bound(now), ACCOUNTS);
    (
        MemoryFigures {
            accounts_only,
            registered_idle,
            largest_allocation,
        },
        engine,
        ids,
    )
}

/// Allocations the engine makes in the timed regions (counted in a separate pass).
fn count_allocations(script: &Script, epoch: Instant) -> (u64, u64) {
    let (mut engine, ids) = prepared();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let registered = timed_register(&mut engine, &ids, script, epoch, &mut discard);
    let middle = ALLOCATIONS.load(Ordering::Relaxed);
    let refreshed = timed_refresh(&mut engine, script, epoch, &mut discard);
    COUNTING.store(false, Ordering::Relaxed);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!((registered, refreshed), (ACCOUNTS, ACCOUNTS));
    (middle - before, after - middle)
}

fn memory_report(script: &Script, epoch: Instant) {
    let per = |bytes: i64| bytes as f64 / ACCOUNTS as f64;
    println!("engine memory, {ACCOUNTS} accounts registered over UDP, idle:");
    for wave in [ACCOUNTS, 200] {
        // No overlap of waves: the last one's transactions end before the next starts.
        let (figures, engine, ids) = measure_memory(wave, epoch);
        let own: usize = ids
            .iter()
            .map(|&id| engine.account_heap_bytes(id).unwrap_or(0))
            .sum();
        println!(
            "  {wave:>5} at a time: {:.0} B/account live heap (allocator, net); accounts \
             before registering: {:.0} B/account; account_heap_bytes: {:.0} B/account",
            per(figures.registered_idle),
            per(figures.accounts_only),
            own as f64 / ACCOUNTS as f64,
        );
        if wave == ACCOUNTS {
            // Accounts are boxed; the largest block is the engine's user index.
            println!(
                "  largest single allocation while adding accounts: {} B",
                figures.largest_allocation
            );
        }
        drop(engine);
    }
    let (register, refresh) = count_allocations(script, epoch);
    println!(
        "  allocations: {:.1} per REGISTER transaction (register case), {:.1} per refresh",
        register as f64 / (2 * ACCOUNTS) as f64,
        refresh as f64 / ACCOUNTS as f64,
    );
}

// ---------------------------------------------------------------------------------------
// CPU

/// Minor page faults of this thread so far (the kernel's time for them is thread CPU).
fn thread_minor_faults() -> i64 {
    // SAFETY: an all-zero rusage is a valid value for the call to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage for the call to fill in.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_THREAD) failed");
    usage.ru_minflt
}

fn one_pass(script: &Script, epoch: Instant) {
    let (mut engine, ids) = prepared();
    let (start, faults) = (thread_cpu_time(), thread_minor_faults());
    let registered = timed_register(&mut engine, &ids, script, epoch, &mut discard);
    let register = thread_cpu_time() - start;
    let register_faults = thread_minor_faults() - faults;
    check_registered(&engine, &ids, registered);
    let (start, faults) = (thread_cpu_time(), thread_minor_faults());
    let refreshed = timed_refresh(&mut engine, script, epoch, &mut discard);
    let refresh = thread_cpu_time() - start;
    let refresh_faults = thread_minor_faults() - faults;
    check_registered(&engine, &ids, refreshed);
    let ns = |d: Duration, n: usize| d.as_nanos() as f64 / n as f64;
    println!(
        "one pass, thread CPU: {:.0} ns/transaction, {:.0} ns/registration, {:.0} ns/refresh \
         (minor page faults: {register_faults} registering, {refresh_faults} refreshing)",
        ns(register, 2 * ACCOUNTS),
        ns(register, ACCOUNTS),
        ns(refresh, ACCOUNTS),
    );
}

fn criterion_benches(c: &mut Criterion, script: &Script, epoch: Instant) {
    let mut group = c.benchmark_group("engine_10k_accounts");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));

    // Elements = REGISTER transactions; time per iteration / 20,000 = ns per transaction,
    // / 10,000 = ns per full registration (challenged + answered).
    group.throughput(Throughput::Elements(2 * ACCOUNTS as u64));
    group.bench_function("register_challenge_and_answer", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (mut engine, ids) = prepared();
                let start = thread_cpu_time();
                let registered = timed_register(&mut engine, &ids, script, epoch, &mut discard);
                total += thread_cpu_time() - start;
                check_registered(&engine, &ids, registered);
            }
            total
        })
    });

    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.bench_function("refresh_cached_credentials", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let mut engine = registered_engine(script, epoch);
                let start = thread_cpu_time();
                let refreshed = timed_refresh(&mut engine, script, epoch, &mut discard);
                total += thread_cpu_time() - start;
                assert_eq!(refreshed, ACCOUNTS);
                assert_eq!(engine.transaction_count(), 0);
            }
            total
        })
    });

    // For contrast only: engine + live registrar (Digest check, response writing) +
    // simulated network, all on the clock. 20,000 transactions per iteration.
    group.throughput(Throughput::Elements(2 * ACCOUNTS as u64));
    group.bench_function("simnetwork_engine_plus_registrar", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let mut network = SimNetwork::new(epoch, 7);
                let node = network.add_peer(REGISTRAR, new_registrar());
                let phone = network.add_engine_with(
                    EngineConfig {
                        rng_seed: Some(SEED),
                        ..EngineConfig::default()
                    },
                    &[(Transport::Udp, PHONE)],
                );
                let ids: Vec<AccountId> = (0..ACCOUNTS)
                    .map(|i| {
                        let aor = format!("sip:{}@ims.test", user(i));
                        network
                            .add_account(phone, &aor, &password(i), REGISTRAR, Transport::Udp)
                            .expect("account")
                    })
                    .collect();
                let start = thread_cpu_time();
                for &account in &ids {
                    network
                        .command(phone, Command::Register { account })
                        .expect("register");
                }
                network.run_for(IDLE_AT);
                total += thread_cpu_time() - start;
                let registrar = network.peer_mut::<Registrar>(node).expect("registrar");
                assert_eq!(registrar.accepted, ACCOUNTS as u64);
                let engine = network.engine(phone).expect("engine");
                assert_eq!(engine.transaction_count(), 0);
                check_registered(engine, &ids, ACCOUNTS);
            }
            total
        })
    });
    group.finish();
}

fn main() {
    let epoch = Instant::now();
    let script = record(epoch);
    verify_replay(&script, epoch);
    memory_report(&script, epoch);
    if std::env::var_os("IMS_ENGINE_BENCH_ONCE").is_some() {
        one_pass(&script, epoch);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &script, epoch);
    criterion.final_summary();
}

//! What the imsload integration tests share: the built binary, its report and exit, and
//! the statistics of a Kamailio instance through kamcmd on its control socket.
#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

/// The imsload binary of this build.
pub fn imsload() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imsload"))
}

/// The `summary.json` of a `--report` directory.
pub fn summary(report: &Path) -> Value {
    let text = std::fs::read_to_string(report.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// A count of the report.
pub fn u(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

/// Exit status, stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts the run exited 0.
#[track_caller]
pub fn check_output(output: &Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", describe(output));
}

/// Asserts exit status 2 with `needle` on stderr and nothing on stdout (bad input).
#[track_caller]
pub fn assert_exit_2(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout: {:?}",
        output.stdout
    );
}

/// What `kamcmd -s unix:SOCKET ARGS...` prints; the command must succeed.
#[track_caller]
pub fn kamcmd(socket: &Path, args: &[&str]) -> String {
    let output = Command::new("kamcmd")
        .arg("-s")
        .arg(format!("unix:{}", socket.display()))
        .args(args)
        .output()
        .expect("run kamcmd (scripts/test installs it)");
    assert!(
        output.status.success(),
        "kamcmd {args:?} on {}: {}",
        socket.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One statistic of the Kamailio behind `socket` (`stats.get_statistics NAME`, printed as
/// `group:NAME = VALUE`), e.g. `location_contacts`.
#[track_caller]
pub fn statistic(socket: &Path, name: &str) -> u64 {
    let text = kamcmd(socket, &["stats.get_statistics", name]);
    text.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(" = ")?;
            key.trim()
                .ends_with(&format!(":{name}"))
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no {name} from kamcmd on {}: {text}", socket.display()))
}

/// The control socket of a harness Kamailio (in its instance directory).
pub fn kamailio_socket(kamailio: &ims_tests::Kamailio) -> std::path::PathBuf {
    kamailio
        .db()
        .parent()
        .expect("the database lives in the instance's directory")
        .join("kamailio_ctl")
}

/// Network-mode groups in a harness Kamailio's database: group g
/// (`sip:group{g}@ims.test`) has users `vu{g*size}` .. `vu{g*size+size-1}`, as imsload's
/// --group-size `size` forms them.
pub fn provision_groups(db: &Path, users: usize, size: usize) {
    use std::io::Write as _;
    let mut sql = String::from("BEGIN;\n");
    for user in 0..users {
        sql.push_str(&format!(
            "INSERT INTO groups VALUES ('sip:group{}@ims.test', 'sip:vu{user}@ims.test');\n",
            user / size
        ));
    }
    sql.push_str("COMMIT;\n");
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run sqlite3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write SQL");
    assert!(child.wait().expect("sqlite3").success());
}

/// Asserts `expected` transactions of `kind` in a scenario run's summary, each ended by a
/// 200 and nothing else, with latencies recorded.
#[track_caller]
pub fn assert_all_200(summary: &Value, kind: &str, expected: u64) {
    let t = &summary["transactions"][kind];
    assert_eq!(t["started"], expected, "{kind} started: {t:#}");
    assert_eq!(t["succeeded"], expected, "{kind} succeeded: {t:#}");
    assert_eq!(t["failed"], 0, "{kind} failed: {t:#}");
    assert_eq!(t["timeouts"], 0, "{kind} timeouts: {t:#}");
    assert_eq!(
        t["by_code"],
        serde_json::json!({ "200": expected }),
        "{kind}: every final answer a 200: {t:#}"
    );
    let p50 = t["latency_ms"]["p50"].as_f64().unwrap_or(0.0);
    let p99 = t["latency_ms"]["p99"].as_f64().unwrap_or(0.0);
    assert!(p50 > 0.0 && p99 >= p50, "{kind}: {t:#}");
}

/// The IMPUs in the S-CSCF's usrloc (`Records` of `ulscscf.status`, read with kamcmd). A
/// de-registered contact goes with its record once the usrloc timer has run (every 2 s in
/// scripts/peers/ims/scscf.cfg).
pub fn scscf_records(core: &ims_tests::ImsCore) -> u64 {
    let text = kamcmd(&core.control_socket("scscf"), &["ulscscf.status"]);
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("Records:"))
        .map(|n| n.trim().parse::<u64>().expect("Records: a number"))
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| panic!("no Records in ulscscf.status: {text}"))
}

/// What `read` gives once it has reached 0, or after `within` (a Kamailio timer removes
/// de-registered contacts a little later).
#[allow(clippy::disallowed_methods)] // a test driver waits on real processes
pub fn zero_within(within: std::time::Duration, mut read: impl FnMut() -> u64) -> u64 {
    let deadline = std::time::Instant::now() + within;
    let mut left = read();
    while left > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(250));
        left = read();
    }
    left
}

/// One local IMS core at a time in a test binary: two at once on a 2-core machine slow
/// both runs down.
pub fn one_ims_core_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

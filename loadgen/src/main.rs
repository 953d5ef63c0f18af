//! imsload: runs many virtual IMS users from one process against an IMS core.
//!
//! The load generator is not built yet (it depends on the engine, IMS registration and
//! messaging). Until then the binary says so and exits with status 2.

use std::process::ExitCode;

const HELP: &str = "\
imsload - virtual IMS users against an IMS core, with latency histograms (ims-rs)

STATUS: not built yet. The load generator lands once the SIP engine, IMS
registration and messaging are in place; this binary does nothing else and exits
with status 2. Until then, SIPp (sip-tester) is the load tool: see README.md.

USAGE:
    imsload [--help] [--version]
";

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version" | "-V") => {
            println!("imsload {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{HELP}");
            ExitCode::from(2)
        }
    }
}

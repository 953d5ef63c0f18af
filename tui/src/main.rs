//! imsphone: the keyboard-driven terminal IMS softphone.
//!
//! The softphone is not built yet (it depends on the engine, IMS registration and
//! messaging). Until then the binary says so and exits with status 2, so no script
//! mistakes it for a working phone.

use std::process::ExitCode;

const HELP: &str = "\
imsphone - keyboard-driven terminal IMS softphone (ims-rs)

STATUS: not built yet. The softphone lands once the SIP engine, IMS registration
and messaging are in place; this binary does nothing else and exits with status 2.

USAGE:
    imsphone [--help] [--version]

To try ims-rs today: scripts/demo starts a local Kamailio with demo users.
";

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version" | "-V") => {
            println!("imsphone {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{HELP}");
            ExitCode::from(2)
        }
    }
}

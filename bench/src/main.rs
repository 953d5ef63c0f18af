//! imsbench: parser, codec and jitter-buffer throughput on the user's own data.

use std::process::ExitCode;

const HELP: &str = "\
imsbench - ims-rs throughput on your own data

STATUS: no subcommand is built yet; this binary exits with status 2.

USAGE:
    imsbench [--help] [--version]
";

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version" | "-V") => {
            println!("imsbench {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{HELP}");
            ExitCode::from(2)
        }
    }
}

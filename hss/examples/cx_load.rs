//! Drives a running imshss over TCP with the Cx traffic of AKA registrations and measures
//! answers per second: each connection sends CER, then for pattern users vu<i> the
//! sequence UAR, MAR (1 vector), SAR, LIR, pipelined `--window` requests deep.
//!
//! ```text
//! imshss --pattern 'vu{0..9999}@ims.test' --listen 127.0.0.1:13868 &
//! cargo run --release -p ims-hss --example cx_load -- --address 127.0.0.1:13868 \
//!     --connections 2 --registrations 50000 --pid $!
//! ```
//! With `--pid`, the HSS process's CPU time (user + system, from /proc) is reported too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use clap::Parser;
use ims_hss::avp::{self, AvpIter, FLAG_MANDATORY};
use ims_hss::message::{FLAG_PROXIABLE, FLAG_REQUEST, Header, Message, MessageWriter, frame};

const V: u32 = 10415;

#[derive(Debug, Parser)]
struct Args {
    /// imshss address.
    #[arg(long, default_value = "127.0.0.1:3868")]
    address: SocketAddr,
    /// Parallel connections (the CSCFs open one each).
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Registrations (4 Cx requests each) per connection.
    #[arg(long, default_value_t = 20_000)]
    registrations: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Users vu0..vu<users - 1> are cycled through.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// The imshss pid, to report its CPU time.
    #[arg(long)]
    pid: Option<u32>,
}

fn request(command: u32, application: u32, id: u32, build: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut writer = MessageWriter::new(&Header {
        length: 0,
        flags: FLAG_REQUEST | FLAG_PROXIABLE,
        command,
        application,
        hop_by_hop: id,
        end_to_end: id,
    });
    build(&mut writer.buffer);
    writer.finish()
}

fn cx(command: u32, id: u32, impi: &str) -> Vec<u8> {
    request(command, 16_777_216, id, |out| {
        avp::write(out, 263, FLAG_MANDATORY, 0, format!("load;{id}").as_bytes());
        avp::write(out, 264, FLAG_MANDATORY, 0, b"load.ims.test");
        avp::write(out, 296, FLAG_MANDATORY, 0, b"ims.test");
        avp::write(out, 283, FLAG_MANDATORY, 0, b"ims.test");
        avp::write_u32(out, 277, FLAG_MANDATORY, 0, 1);
        if command != 302 {
            avp::write(out, 1, FLAG_MANDATORY, 0, impi.as_bytes());
        }
        avp::write(
            out,
            601,
            FLAG_MANDATORY,
            V,
            format!("sip:{impi}").as_bytes(),
        );
        match command {
            300 => avp::write_u32(out, 623, FLAG_MANDATORY, V, 0),
            303 => {
                avp::write_u32(out, 607, FLAG_MANDATORY, V, 1);
                let start = avp::begin(out, 612, FLAG_MANDATORY, V);
                avp::write(out, 608, FLAG_MANDATORY, V, b"Digest-AKAv1-MD5");
                avp::end(out, start);
                avp::write(out, 602, FLAG_MANDATORY, V, b"sip:scscf.ims.test:16060");
            }
            301 => {
                avp::write(out, 602, FLAG_MANDATORY, V, b"sip:scscf.ims.test:16060");
                avp::write_u32(out, 614, FLAG_MANDATORY, V, 1);
                avp::write_u32(out, 624, FLAG_MANDATORY, V, 0);
            }
            _ => {}
        }
    })
}

/// Whether an answer carries Result-Code 2001 or an Experimental-Result-Code 2xxx.
fn succeeded(bytes: &[u8]) -> bool {
    let Ok(message) = Message::parse(bytes) else {
        return false;
    };
    message.avps().flatten().any(|a| match a.code {
        268 => a.u32().is_some_and(|c| (2000..3000).contains(&c)),
        297 => AvpIter::new(a.data)
            .flatten()
            .any(|e| e.code == 298 && e.u32().is_some_and(|c| (2000..3000).contains(&c))),
        _ => false,
    })
}

struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    fn read_answer(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            if let Ok(Some(length)) = frame(&self.buffer, 1 << 20)
                && self.buffer.len() >= length
            {
                return Ok(self.buffer.drain(..length).collect());
            }
            let mut chunk = [0u8; 16384];
            let read = self.stream.read(&mut chunk)?;
            if read == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

fn run_connection(args: &Args, index: usize) -> std::io::Result<(u64, u64)> {
    let stream = TcpStream::connect(args.address)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut connection = Connection {
        stream,
        buffer: Vec::new(),
    };
    let cer = request(257, 0, 0, |out| {
        avp::write(out, 264, FLAG_MANDATORY, 0, b"load.ims.test");
        avp::write(out, 296, FLAG_MANDATORY, 0, b"ims.test");
        avp::write(out, 257, FLAG_MANDATORY, 0, &[0, 1, 127, 0, 0, 1]);
        avp::write_u32(out, 266, FLAG_MANDATORY, 0, 0);
        avp::write(out, 269, 0, 0, b"cx_load");
        avp::write_u32(out, 258, FLAG_MANDATORY, 0, 16_777_216);
    });
    connection.stream.write_all(&cer)?;
    if !succeeded(&connection.read_answer()?) {
        return Err(std::io::Error::other("CER refused"));
    }
    let total = args.registrations * 4;
    let (mut sent, mut answered, mut failed) = (0usize, 0u64, 0u64);
    let mut batch = Vec::new();
    while (answered as usize) < total {
        batch.clear();
        while sent < total && sent - (answered as usize) < args.window {
            let registration = sent / 4;
            let user = (index * args.registrations + registration) % args.users.max(1);
            let impi = format!("vu{user}@ims.test");
            let command = [300, 303, 301, 302][sent % 4];
            batch.extend(cx(command, sent as u32, &impi));
            sent += 1;
        }
        connection.stream.write_all(&batch)?;
        let answer = connection.read_answer()?;
        answered += 1;
        if !succeeded(&answer) {
            failed += 1;
        }
    }
    Ok((answered, failed))
}

/// utime + stime of a process, in clock ticks (100 per second on Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

// A measuring tool: reading the clock is its job.
#[allow(clippy::disallowed_methods)]
fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let before = args.pid.and_then(cpu_ticks);
    let start = Instant::now();
    let results: Vec<std::io::Result<(u64, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.connections)
            .map(|index| {
                let args = &args;
                scope.spawn(move || run_connection(args, index))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let (mut answered, mut failed) = (0, 0);
    for result in results {
        let (a, f) = result?;
        answered += a;
        failed += f;
    }
    let rate = answered as f64 / elapsed.as_secs_f64();
    println!(
        "{answered} Cx answers ({failed} not 2xxx) over {} connections in {:.3} s: {rate:.0} answers/s",
        args.connections,
        elapsed.as_secs_f64()
    );
    if let (Some(pid), Some(before)) = (args.pid, before)
        && let Some(after) = cpu_ticks(pid)
    {
        let cpu = (after - before) as f64 / 100.0;
        println!(
            "imshss CPU: {cpu:.2} s ({:.0} % of one core over the run, {:.1} us per answer)",
            100.0 * cpu / elapsed.as_secs_f64(),
            1e6 * cpu / answered as f64
        );
    }
    Ok(())
}

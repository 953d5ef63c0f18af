//! What `imsbench parse` prints: one line per message (text or JSON), and the `--bench`
//! table and summary.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bench::{Measured, PeerOutcome, Summary};
use crate::messages::{Found, Kind};

/// One `--json` line of `imsbench parse`.
#[derive(Serialize)]
pub struct ParseLine<'a> {
    file: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl<'a> ParseLine<'a> {
    /// A message that parsed.
    pub fn ok(file: &'a str, message: &'a Found) -> Self {
        let (kind, method, status) = match &message.kind {
            Kind::Request(method) => ("request", Some(method.as_str()), None),
            Kind::Response(status) => ("response", None, Some(*status)),
        };
        ParseLine {
            file,
            ok: true,
            kind: Some(kind),
            method,
            status,
            headers: Some(message.headers),
            error: None,
        }
    }

    /// A file or message that did not parse.
    pub fn error(file: &'a str, error: String) -> Self {
        ParseLine {
            file,
            ok: false,
            kind: None,
            method: None,
            status: None,
            headers: None,
            error: Some(error),
        }
    }

    /// The line as text: `name: ok request INVITE, 14 headers, 926 bytes` or
    /// `name: error: ...`.
    pub fn text(&self, name: &str, bytes: Option<usize>) -> String {
        if let Some(error) = &self.error {
            return format!("{name}: error: {error}");
        }
        let what = match (self.method, self.status) {
            (Some(method), _) => format!("request {method}"),
            (None, Some(status)) => format!("response {status}"),
            (None, None) => String::new(),
        };
        let size = bytes.map(|b| format!(", {b} bytes")).unwrap_or_default();
        format!(
            "{name}: ok {what}, {} headers{size}",
            self.headers.unwrap_or(0)
        )
    }

    /// The line as JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One `--bench --json` line per message.
#[derive(Serialize)]
struct BenchLine<'a> {
    message: &'a str,
    bytes: usize,
    ns_per_msg: f64,
    mb_per_s: f64,
    allocs_per_msg: f64,
    typed_ns_per_msg: f64,
    #[serde(flatten)]
    peers: BTreeMap<String, serde_json::Value>,
}

/// The last `--bench --json` line, with the keys issue 4 names.
#[derive(Serialize)]
struct BenchSummaryLine {
    messages: usize,
    ns_per_msg: f64,
    mb_per_s: f64,
    allocs_per_msg: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rsip_ns_per_msg: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speedup_vs_rsip: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rsipstack_ns_per_msg: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speedup_vs_rsipstack: Option<Option<f64>>,
    rejected_by: BTreeMap<&'static str, Vec<String>>,
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn mb_per_s(bytes: usize, ns: f64) -> f64 {
    if ns > 0.0 {
        bytes as f64 / ns * 1e3
    } else {
        0.0
    }
}

/// The `--bench --json` lines: one per message, then the summary object.
pub fn bench_json(measured: &[Measured], summary: &Summary) -> Vec<String> {
    let mut lines: Vec<String> = measured
        .iter()
        .map(|m| {
            let mut peers = BTreeMap::new();
            for (peer, outcome) in &m.peers {
                let name = peer.name();
                match outcome {
                    PeerOutcome::Parsed(speed) => {
                        peers.insert(format!("{name}_ns_per_msg"), round(speed.ns, 1).into());
                        peers.insert(
                            format!("{name}_allocs_per_msg"),
                            round(speed.allocs, 2).into(),
                        );
                        peers.insert(
                            format!("speedup_vs_{name}"),
                            round(speed.ns / m.ours.ns, 2).into(),
                        );
                    }
                    PeerOutcome::Rejected(error) => {
                        peers.insert(format!("{name}_error"), error.clone().into());
                    }
                }
            }
            let line = BenchLine {
                message: &m.name,
                bytes: m.bytes,
                ns_per_msg: round(m.ours.ns, 1),
                mb_per_s: round(mb_per_s(m.bytes, m.ours.ns), 1),
                allocs_per_msg: round(m.ours.allocs, 2),
                typed_ns_per_msg: round(m.ours_typed.ns, 1),
                peers,
            };
            serde_json::to_string(&line).unwrap_or_default()
        })
        .collect();
    let mut last = BenchSummaryLine {
        messages: summary.messages,
        ns_per_msg: round(summary.ns_per_msg, 1),
        mb_per_s: round(summary.mb_per_s, 1),
        allocs_per_msg: round(summary.allocs_per_msg, 2),
        rsip_ns_per_msg: None,
        speedup_vs_rsip: None,
        rsipstack_ns_per_msg: None,
        speedup_vs_rsipstack: None,
        rejected_by: BTreeMap::new(),
    };
    for (peer, peer_summary) in &summary.peers {
        let ns = Some(peer_summary.ns_per_msg.map(|v| round(v, 1)));
        let speedup = Some(peer_summary.speedup.map(|v| round(v, 2)));
        match peer {
            crate::peers::Peer::Rsip => {
                (last.rsip_ns_per_msg, last.speedup_vs_rsip) = (ns, speedup)
            }
            crate::peers::Peer::Rsipstack => {
                (last.rsipstack_ns_per_msg, last.speedup_vs_rsipstack) = (ns, speedup);
            }
        }
        last.rejected_by
            .insert(peer.name(), peer_summary.rejected.clone());
    }
    lines.push(serde_json::to_string(&last).unwrap_or_default());
    lines
}

/// The `--bench` report as text: a table per message, then the totals and ratios.
pub fn bench_text(measured: &[Measured], summary: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    let width = measured
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut header = format!(
        "{:<width$} {:>6} {:>10} {:>9} {:>7} {:>12}",
        "message", "bytes", "ns/msg", "MB/s", "allocs", "+Via+CSeq ns"
    );
    if let Some(first) = measured.first() {
        for (peer, _) in &first.peers {
            let name = peer.name();
            header.push_str(&format!(
                " | {:>14} {:>7} {:>8}",
                format!("{name} ns/msg"),
                "allocs",
                "speedup"
            ));
        }
    }
    lines.push(header);
    for m in measured {
        let mut line = format!(
            "{:<width$} {:>6} {:>10.1} {:>9.1} {:>7.2} {:>12.1}",
            m.name,
            m.bytes,
            m.ours.ns,
            mb_per_s(m.bytes, m.ours.ns),
            m.ours.allocs,
            m.ours_typed.ns
        );
        for (_, outcome) in &m.peers {
            match outcome {
                PeerOutcome::Parsed(speed) => line.push_str(&format!(
                    " | {:>14.1} {:>7.2} {:>7.2}x",
                    speed.ns,
                    speed.allocs,
                    speed.ns / m.ours.ns
                )),
                PeerOutcome::Rejected(_) => line.push_str(&format!(" | {:>31}", "rejected")),
            }
        }
        lines.push(line);
    }
    lines.push(format!(
        "ims-core: {} messages, {:.1} ns/msg, {:.1} MB/s, {:.2} allocations/msg ({:.1} ns/msg with the top Via and CSeq read)",
        summary.messages, summary.ns_per_msg, summary.mb_per_s, summary.allocs_per_msg, summary.typed_ns_per_msg
    ));
    for (peer, peer_summary) in &summary.peers {
        let name = peer.name();
        let accepted = summary.messages - peer_summary.rejected.len();
        match (peer_summary.ns_per_msg, peer_summary.allocs_per_msg, peer_summary.speedup) {
            (Some(ns), Some(allocs), Some(speedup)) => lines.push(format!(
                "{name}: {ns:.1} ns/msg, {allocs:.2} allocations/msg over the {accepted} messages it parsed; ims-core is {speedup:.2}x as fast on those"
            )),
            _ => lines.push(format!("{name}: parsed none of the messages")),
        }
        for m in measured {
            for (p, outcome) in &m.peers {
                if let (true, PeerOutcome::Rejected(error)) = (p == peer, outcome) {
                    lines.push(format!(
                        "  {name} rejected {} (left out of its ratio): {error}",
                        m.name
                    ));
                }
            }
        }
    }
    lines
}

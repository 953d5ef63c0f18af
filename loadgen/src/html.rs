//! `report.html`: a self-contained page (inline CSS and SVG, nothing fetched) with the
//! summary table, throughput and mean latency per second, and each type's latency by
//! percentile (the HdrHistogram percentile plot).

use std::fmt::Write as _;

use crate::metrics::{Kind, Metrics};
use crate::report::Summary;

const COLORS: [&str; 5] = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e"];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 44.0;

/// One line of a chart.
struct Series<'a> {
    name: &'a str,
    color: &'a str,
    points: Vec<(f64, f64)>,
}

/// Escapes text for HTML and SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart; `x_label_of` writes an x tick's label.
fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    x_label_of: &dyn Fn(f64) -> String,
) -> String {
    let points = series.iter().flat_map(|s| s.points.iter());
    let (mut x_max, mut y_max) = (0.0f64, 0.0f64);
    for (x, y) in points {
        x_max = x_max.max(*x);
        y_max = y_max.max(*y);
    }
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let sx = |x: f64| LEFT + x / x_max * plot_width;
    let sy = |y: f64| TOP + plot_height - y / y_max * plot_height;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">\n\
         <text x=\"{LEFT}\" y=\"18\" class=\"title\">{}</text>\n",
        escape(title)
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_width}\" height=\"{plot_height}\" class=\"plot\"/>"
    );
    for i in 0..=4 {
        let y = y_max * f64::from(i) / 4.0;
        let at = sy(y);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{at:.1}\" y2=\"{at:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            LEFT + plot_width,
            LEFT - 6.0,
            at + 4.0,
            short(y)
        );
        let x = x_max * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            sx(x),
            TOP + plot_height + 16.0,
            escape(&x_label_of(x))
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">{}</text>\
         <text x=\"14\" y=\"{:.1}\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
        LEFT + plot_width / 2.0,
        HEIGHT - 6.0,
        escape(x_label),
        TOP + plot_height / 2.0,
        TOP + plot_height / 2.0,
        escape(y_label)
    );
    for (n, line) in series.iter().enumerate() {
        let path: Vec<String> = line
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"/>",
            path.join(" "),
            line.color
        );
        let legend_y = TOP + 14.0 + 18.0 * n as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{}</text>",
            WIDTH - RIGHT + 14.0,
            legend_y - 4.0,
            line.color,
            WIDTH - RIGHT + 32.0,
            legend_y,
            escape(line.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A tick value in few characters.
fn short(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The kinds with something measured, with their colours.
fn kinds(metrics: &Metrics) -> Vec<(Kind, &'static str)> {
    Kind::ALL
        .iter()
        .zip(COLORS)
        .filter(|(kind, _)| metrics.kind(**kind).started > 0)
        .map(|(kind, color)| (*kind, color))
        .collect()
}

/// The whole page.
pub fn render(summary: &Summary, metrics: &Metrics) -> String {
    let mut page = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>imsload report</title>\n<style>\
         body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
         td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}\
         .title{font-size:14px;font-weight:bold}.tick{font-size:11px;fill:#444}.label{font-size:12px;fill:#222}\
         .plot{fill:#fafafa;stroke:#999}.grid{stroke:#e4e4e4}svg{display:block;margin:1.5em 0}\
         </style></head><body>\n",
    );
    let _ = writeln!(
        page,
        "<h1>imsload {}: {} users against {}</h1>\n<p>{} workers, {}, {:.1} s, ending: {:?}; failures: {}; retransmissions: {}; received {} messages and {} group copies.</p>",
        escape(summary.scenario),
        summary.users,
        escape(&summary.target),
        summary.workers,
        escape(&summary.transport),
        summary.elapsed_s,
        summary.ending,
        summary.failures,
        summary.engine.retransmissions,
        summary.received.messages,
        summary.received.group_messages,
    );
    page.push_str("<table><tr><th>type</th><th>started</th><th>ok</th><th>failed</th><th>timeouts</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>rate/s</th><th>asked/s</th><th>codes</th></tr>\n");
    for kind in Kind::ALL {
        let Some(t) = summary.transactions.get(kind.name()) else {
            continue;
        };
        let rate = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}"));
        let codes: Vec<String> = t.by_code.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            kind.name(),
            t.started,
            t.succeeded,
            t.failed,
            t.timeouts,
            t.latency_ms.p50,
            t.latency_ms.p90,
            t.latency_ms.p99,
            t.latency_ms.p99_9,
            t.latency_ms.max,
            rate(t.achieved_rate),
            rate(t.requested_rate),
            escape(&codes.join(", ")),
        );
    }
    page.push_str("</table>\n");
    if let Some(scenarios) = &summary.scenarios {
        page.push_str("<table><tr><th>scenario</th><th>weight</th><th>started</th><th>share %</th><th>ok</th><th>failed</th><th>timeouts</th></tr>\n");
        for (name, s) in scenarios {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(name),
                s.weight,
                s.started,
                s.share_percent,
                s.succeeded,
                s.failed,
                s.timeouts
            );
        }
        page.push_str("</table>\n");
    }
    let shown = kinds(metrics);
    let per_second = |value: &dyn Fn(usize, &crate::metrics::Second) -> Option<f64>,
                      index: usize| {
        metrics
            .seconds
            .iter()
            .enumerate()
            .filter_map(|(second, row)| value(index, row).map(|v| (second as f64, v)))
            .collect::<Vec<_>>()
    };
    let index_of = |kind: Kind| Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    let throughput: Vec<Series<'_>> = shown
        .iter()
        .map(|(kind, color)| Series {
            name: kind.name(),
            color,
            points: per_second(&|i, row| Some(row.succeeded[i] as f64), index_of(*kind)),
        })
        .collect();
    page.push_str(&chart(
        "Successful transactions per second",
        "seconds since start",
        "per second",
        &throughput,
        &|x| format!("{x:.0}"),
    ));
    let latency: Vec<Series<'_>> = shown
        .iter()
        .map(|(kind, color)| Series {
            name: kind.name(),
            color,
            points: per_second(
                &|i, row| {
                    (row.succeeded[i] > 0)
                        .then(|| row.latency_sum[i] as f64 / row.succeeded[i] as f64 / 1000.0)
                },
                index_of(*kind),
            ),
        })
        .collect();
    page.push_str(&chart(
        "Mean latency per second",
        "seconds since start",
        "ms",
        &latency,
        &|x| format!("{x:.0}"),
    ));
    // Percentile plot: x = log10(1 / (1 - q)), so 1 = 90 %, 2 = 99 %, 3 = 99.9 %.
    const QUANTILES: [f64; 12] = [
        0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999,
    ];
    let percentiles: Vec<Series<'_>> = shown
        .iter()
        .filter(|(kind, _)| metrics.kind(*kind).succeeded > 0)
        .map(|(kind, color)| Series {
            name: kind.name(),
            color,
            points: QUANTILES
                .iter()
                .map(|q| {
                    (
                        (1.0 / (1.0 - q)).log10(),
                        metrics.kind(*kind).quantile_ms(*q),
                    )
                })
                .collect(),
        })
        .collect();
    page.push_str(&chart(
        "Latency by percentile (successful transactions)",
        "percentile",
        "ms",
        &percentiles,
        &|x| format!("{:.3}%", 100.0 * (1.0 - 10f64.powf(-x))),
    ));
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser as _;

    use super::*;
    use crate::metrics::Outcome;

    #[test]
    fn the_page_is_self_contained_with_three_charts() {
        let mut metrics = Metrics::default();
        for n in 0..100u64 {
            let at = Duration::from_millis(n * 30);
            metrics.started(Kind::Message, at);
            metrics.ended(
                Kind::Message,
                Outcome::Status(200),
                Duration::from_micros(500 + n * 10),
                at,
            );
        }
        metrics.started(Kind::Message, Duration::from_secs(3));
        metrics.ended(
            Kind::Message,
            Outcome::Status(480),
            Duration::from_millis(2),
            Duration::from_secs(3),
        );
        let argv = [
            "imsload",
            "message",
            "-t",
            "127.0.0.1:5060",
            "--users",
            "u{0..1}@ims.test",
            "--password",
            "p",
        ];
        let mut plan =
            crate::cli::Plan::from_args(crate::cli::Args::try_parse_from(argv).unwrap()).unwrap();
        plan.target_text = "127.0.0.1:5060 <x>".to_owned();
        let summary = crate::report::summary(
            &plan,
            &metrics,
            crate::report::Ending::Completed,
            Duration::from_secs(4),
        );
        let page = render(&summary, &metrics);
        assert_eq!(page.matches("<svg").count(), 3, "{page}");
        assert!(
            page.contains("<td>message</td><td>101</td><td>100</td><td>1</td>"),
            "{page}"
        );
        assert!(page.contains("480: 1"), "{page}");
        assert!(page.contains("127.0.0.1:5060 &lt;x&gt;"), "escaped: {page}");
        assert!(
            !page.contains("http://") || page.matches("http://").count() == 3,
            "only the SVG namespace"
        );
        assert!(!page.contains("<script"), "no script");
        assert!(!page.contains("NaN") && !page.contains("inf"), "{page}");
    }
}

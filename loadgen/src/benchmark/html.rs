//! The benchmark's `report.html`: self-contained (inline CSS and SVG, nothing fetched),
//! the DOC line as its heading, then the settings, a table per step and scenario type, and
//! charts of SAPS, IHS % and p99 latency per step.

use std::fmt::Write as _;

use super::profile::ScenarioType;
use super::report::{Step, Summary, rate, short};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [&str; 4] = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728"];

/// A chart over the steps: one polyline (with dots) per series; an optional dashed
/// horizontal line (the IHS limit).
fn step_chart(
    title: &str,
    y_label: &str,
    steps: usize,
    series: &[(&str, &str, Vec<f64>)],
    limit: Option<f64>,
) -> String {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 280.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 150.0;
    const TOP: f64 = 30.0;
    const BOTTOM: f64 = 40.0;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y_max = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied())
        .chain(limit)
        .fold(0.0f64, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
    let n = steps.max(1) as f64;
    let sx = |i: usize| LEFT + (i as f64 + 0.5) / n * plot_width;
    let sy = |y: f64| TOP + plot_height - y / y_max * plot_height;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">\n\
         <text x=\"{LEFT}\" y=\"18\" class=\"title\">{}</text>\n\
         <rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_width}\" height=\"{plot_height}\" class=\"plot\"/>\n",
        escape(title)
    );
    for i in 0..=4 {
        let y = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{at:.1}\" y2=\"{at:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            LEFT + plot_width,
            LEFT - 6.0,
            sy(y) + 4.0,
            if y >= 10.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            },
            at = sy(y),
        );
    }
    for i in 0..steps {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            sx(i),
            TOP + plot_height + 16.0,
            i + 1
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">step</text>\
         <text x=\"14\" y=\"{mid:.1}\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 14 {mid:.1})\">{}</text>",
        LEFT + plot_width / 2.0,
        HEIGHT - 6.0,
        escape(y_label),
        mid = TOP + plot_height / 2.0,
    );
    if let Some(limit) = limit {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/><text x=\"{}\" y=\"{:.1}\" class=\"tick\">limit {limit} %</text>",
            LEFT + plot_width,
            WIDTH - RIGHT + 14.0,
            sy(limit) + 4.0,
            y = sy(limit),
        );
    }
    for (n, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", sx(i), sy(*v)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\"/>",
            points.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                sx(i),
                sy(*v)
            );
        }
        let legend_y = TOP + 14.0 + 18.0 * n as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{legend_y:.1}\" class=\"tick\">{}</text>",
            WIDTH - RIGHT + 14.0,
            legend_y - 4.0,
            WIDTH - RIGHT + 32.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// report.html: the DOC line first, the settings, a table per step and scenario type,
/// and charts of SAPS, IHS % and p99 latency per step.
pub fn render(summary: &Summary) -> String {
    let mut page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n<style>\
         body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}}th:first-child,td:first-child,td.l{{text-align:left}}\
         tr.step td{{font-weight:bold;border-top:2px solid #bbb}}.over{{color:#b00}}\
         .title{{font-size:14px;font-weight:bold}}.tick{{font-size:11px;fill:#444}}.label{{font-size:12px;fill:#222}}\
         .plot{{fill:#fafafa;stroke:#999}}.grid{{stroke:#e4e4e4}}svg{{display:block;margin:1.5em 0}}\
         </style></head><body>\n<h1>{}</h1>\n",
        escape(&summary.headline),
        escape(&summary.headline)
    );
    let traffic: Vec<String> = summary
        .traffic
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .map(|(name, w)| format!("{name} {w}"))
        .collect();
    let thresholds: Vec<String> = summary
        .thresholds_ms
        .iter()
        .map(|(name, ms)| format!("{name} {ms} ms"))
        .collect();
    let _ = writeln!(
        page,
        "<p>imsload benchmark (ETSI TS 186 008 method) against {}: {} users, {} registered by the preamble ({} failed), {} workers; \
         steps of {:.1} s from {} SAPS, +{} per step, at most {}; IHS limit {} %; traffic set: {}; thresholds: {}; \
         ending: {}, {:.1} s; {} de-registered at the end, {} left registered.</p>",
        escape(&summary.target),
        summary.users,
        summary.preamble.registered,
        summary.preamble.failed,
        summary.workers,
        summary.profile.step_duration.as_secs_f64(),
        short(summary.profile.base_saps),
        short(summary.profile.step_saps),
        summary.profile.max_steps,
        summary.ihs_limit_percent,
        escape(&traffic.join(", ")),
        escape(&thresholds.join(", ")),
        summary.ending,
        summary.elapsed_s,
        summary.final_deregistration.deregistered,
        summary.final_deregistration.left_registered,
    );
    page.push_str(
        "<table><tr><th>step</th><th>scenario</th><th>SAPS asked</th><th>achieved</th><th>attempts</th><th>failed</th>\
         <th>over threshold</th><th>inadequate</th><th>IHS %</th><th>threshold ms</th><th>p50 ms</th><th>p90 ms</th>\
         <th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>codes</th></tr>\n",
    );
    for step in &summary.steps {
        let result = match (step.evaluated, step.passed) {
            (true, Some(true)) => "within the limit",
            (true, _) => "over the limit",
            _ => "not evaluated",
        };
        let _ = writeln!(
            page,
            "<tr class=\"step\"><td>{}</td><td class=\"l\">all ({result})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{:.2}</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>",
            step.step,
            short(step.saps),
            rate(step.achieved_saps),
            step.attempts,
            step.scenarios.values().map(|s| s.failed).sum::<u64>(),
            step.scenarios
                .values()
                .map(|s| s.over_threshold)
                .sum::<u64>(),
            step.inadequate,
            if step.passed == Some(false) {
                " class=\"over\""
            } else {
                ""
            },
            step.ihs_percent,
        );
        for (name, s) in &step.scenarios {
            let codes: Vec<String> = s.by_code.iter().map(|(c, n)| format!("{c}: {n}")).collect();
            let _ = writeln!(
                page,
                "<tr><td></td><td class=\"l\">{name}</td><td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.0}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td class=\"l\">{}</td></tr>",
                rate(s.saps),
                s.attempts,
                s.failed,
                s.over_threshold,
                s.inadequate,
                s.ihs_percent,
                s.threshold_ms,
                s.latency_ms.p50,
                s.latency_ms.p90,
                s.latency_ms.p99,
                s.latency_ms.p99_9,
                s.latency_ms.max,
                escape(&codes.join(", ")),
            );
        }
    }
    page.push_str("</table>\n");
    // The charts show the evaluated steps (a step cut short is too brief to plot).
    let charted: Vec<&Step> = summary.steps.iter().filter(|s| s.evaluated).collect();
    let steps = charted.len();
    page.push_str(&step_chart(
        "SAPS per step",
        "scenario attempts / s",
        steps,
        &[
            ("asked", COLORS[0], charted.iter().map(|s| s.saps).collect()),
            (
                "achieved",
                COLORS[1],
                charted
                    .iter()
                    .map(|s| s.achieved_saps.unwrap_or(0.0))
                    .collect(),
            ),
        ],
        None,
    ));
    page.push_str(&step_chart(
        "IHS % per step",
        "IHS %",
        steps,
        &[(
            "IHS %",
            COLORS[3],
            charted.iter().map(|s| s.ihs_percent).collect(),
        )],
        Some(summary.ihs_limit_percent),
    ));
    let latency: Vec<(&str, &str, Vec<f64>)> = ScenarioType::ALL
        .into_iter()
        .zip(COLORS)
        .filter(|(s, _)| {
            charted
                .iter()
                .any(|step| step.scenarios.contains_key(s.name()))
        })
        .map(|(s, color)| {
            (
                s.name(),
                color,
                charted
                    .iter()
                    .map(|step| {
                        step.scenarios
                            .get(s.name())
                            .map_or(0.0, |x| x.latency_ms.p99)
                    })
                    .collect(),
            )
        })
        .collect();
    page.push_str(&step_chart(
        "p99 latency per step and scenario",
        "ms",
        steps,
        &latency,
        None,
    ));
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser as _;

    use super::*;
    use crate::benchmark::config::{Args, Config};
    use crate::benchmark::metrics::{BenchMetrics, End};
    use crate::benchmark::report::{StepRun, summary, table};

    #[test]
    fn the_page_and_the_table_open_with_the_doc_and_skip_the_cut_short_step() {
        let argv = [
            "b",
            "-t",
            "127.0.0.1:5060",
            "--users",
            "u{0..9}@ims.test",
            "--password",
            "p",
            "--traffic",
            "message=1,register=1",
        ];
        let config = Config::from_args(Args::try_parse_from(argv).unwrap()).unwrap();
        let mut metrics = BenchMetrics::default();
        let threshold = Duration::from_millis(500);
        for step in 0..3 {
            for n in 0..100u64 {
                let scenario = if n % 2 == 0 {
                    ScenarioType::Message
                } else {
                    ScenarioType::Register
                };
                metrics.started(step, scenario);
                // Step 2 (index 1) answers one message in 600 ms: IHS 1 %.
                let latency = if step == 1 && n == 0 {
                    Duration::from_millis(600)
                } else {
                    Duration::from_micros(800 + n * 10)
                };
                metrics.ended(step, scenario, End::Status(200), latency, threshold, false);
            }
        }
        let run = |evaluated, completed| StepRun {
            began_s: 0.0,
            duration_s: if completed { 10.0 } else { 0.02 },
            completed,
            evaluated,
        };
        let runs = [run(true, true), run(true, true), run(false, false)];
        let summary = summary(&config, &metrics, &runs, 8, 1.0, 0, "completed", 30.0);
        assert_eq!(
            summary.headline,
            "DOC: 10 SAPS (step 1 of 10; IHS 0.00 % <= 0.10 %; step 2 at 20 SAPS exceeded it with IHS 1.00 %)"
        );
        let text = table(&summary);
        assert_eq!(text.lines().next(), Some(summary.headline.as_str()));
        assert!(text.contains("cut short, not evaluated"), "{text}");
        let page = render(&summary);
        assert!(
            page.contains("<h1>DOC: 10 SAPS (step 1 of 10; IHS 0.00 % &lt;= 0.10 %;"),
            "{page}"
        );
        assert_eq!(page.matches("<svg").count(), 3);
        // The charts plot the two evaluated steps only: x ticks 1 and 2.
        assert!(
            page.contains(">2</text>") && !page.contains(">3</text>"),
            "{page}"
        );
        assert!(
            page.contains(
                "<td>3</td><td class=\"l\">all (not evaluated)</td><td>30</td><td>-</td>"
            ),
            "{page}"
        );
        assert!(!page.contains("NaN") && !page.contains("inf") && !page.contains("<script"));
    }
}

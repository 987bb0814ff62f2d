//! A drill's report as people read it: the SVG timeline on its page and the
//! Markdown export. The figures and the verdict are the drill's own
//! (`drill::report`); this is only how they are drawn and written.

use std::fmt::Write as _;

use crate::drill::report::{Figures, Stats};
use crate::drill::{Loaded, MarkKind, PhaseKind, Settings, Timeline};
use crate::i18n;
use crate::store::{DrillRow, ProbeRow};

/// The drill's timeline, drawn up to its end (or now, while it runs).
pub fn timeline_svg(d: &Loaded) -> String {
    let now = d.row.finished_at.unwrap_or_else(crate::clock::now_ms);
    svg(&d.settings, &d.timeline, &d.probes, now)
}

/// The whole report as Markdown.
pub fn report_markdown(d: &Loaded) -> String {
    markdown(&d.row, &d.settings, &d.figures, d.restored)
}

/// A phase's kind in the reader's language.
pub fn phase_kind(kind: PhaseKind) -> String {
    i18n::text(&format!("drills-phase-{}", kind.as_str()))
}

/// A phase's name as stored (`baseline`, `detect ha-web-left`) in the
/// reader's language: its kind translated, the node names as they are.
pub fn phase_name(kind: PhaseKind, name: &str) -> String {
    match name.strip_prefix(kind.as_str()) {
        Some("") => phase_kind(kind),
        Some(rest) if rest.starts_with(' ') => format!("{}{rest}", phase_kind(kind)),
        _ => name.to_owned(),
    }
}

/// A timeline mark (`fault`, `detected`, …) in the reader's language.
pub fn mark_name(kind: MarkKind) -> String {
    i18n::text(&format!("drills-mark-{}", kind.as_str()))
}

/// A drill status or verdict as stored, in the reader's language.
fn state(prefix: &str, value: &str) -> String {
    i18n::text(&format!("{prefix}{value}"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Probes drawn at most; above it every n-th is drawn (the figures still count all).
const MAX_DRAWN: usize = 4000;

/// The timeline as server-rendered SVG: phase bands, one lane per web
/// server and one for errors, fault/detection/restore/recovery marks.
/// Colours come from classes in app.css (no inline style under the CSP).
pub fn svg(settings: &Settings, timeline: &Timeline, probes: &[ProbeRow], now: i64) -> String {
    const W: f64 = 960.0;
    const X0: f64 = 96.0;
    const X1: f64 = 950.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 104.0;
    let t0 = timeline.phases.first().map(|p| p.start).or(probes.first().map(|p| p.at)).unwrap_or(now);
    let t1 = timeline
        .phases
        .iter()
        .map(|p| p.end.unwrap_or(now))
        .chain(probes.last().map(|p| p.at))
        .max()
        .unwrap_or(now)
        .max(t0 + 1000);
    let x = |t: i64| X0 + (X1 - X0) * ((t - t0) as f64 / (t1 - t0) as f64).clamp(0.0, 1.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {W} 150" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">"#,
        label = esc(&i18n::text("drills-svg-label")),
    );
    for (i, ph) in timeline.phases.iter().enumerate() {
        let (a, b) = (x(ph.start), x(ph.end.unwrap_or(now)));
        let _ = write!(
            out,
            r#"<g><title>{name}</title><rect class="band band-{kind} band-{parity}" x="{a:.1}" y="{TOP}" width="{w:.1}" height="{h}"/><text class="band-label" x="{tx:.1}" y="12">{label}</text></g>"#,
            name = esc(&phase_name(ph.kind, &ph.name)),
            kind = ph.kind.as_str(),
            label = esc(&phase_kind(ph.kind)),
            parity = i % 2,
            w = (b - a).max(0.5),
            h = BOTTOM - TOP,
            tx = a + 2.0,
        );
    }
    let [left, right] = &settings.servers;
    let errors = i18n::text("drills-svg-errors");
    for (label, y) in [(left.as_str(), 40.0), (right.as_str(), 66.0), (errors.as_str(), 92.0)] {
        let _ = write!(out, r#"<text class="lane-label" x="4" y="{y}">{}</text>"#, esc(label));
    }
    let step = probes.len().div_ceil(MAX_DRAWN).max(1);
    for p in probes.iter().step_by(step) {
        let (class, y) = match (&p.error, &p.server) {
            (None, Some(s)) if s == left => ("p-left", 30.0),
            (None, Some(s)) if s == right => ("p-right", 56.0),
            (None, _) => ("p-other", 56.0),
            (Some(_), _) => ("p-error", 82.0),
        };
        let _ = write!(out, r#"<rect class="{class}" x="{:.1}" y="{y}" width="1.5" height="14"/>"#, x(p.at));
    }
    for (i, m) in timeline.marks.iter().enumerate() {
        let mx = x(m.at);
        // Alternate rows, so marks close in time (a fast recovery) stay readable.
        let ly = if i % 2 == 0 { 116 } else { 127 };
        let _ = write!(
            out,
            r#"<g><title>{title}</title><line class="mark mark-{kind}" x1="{mx:.1}" y1="{TOP}" x2="{mx:.1}" y2="{BOTTOM}"/><text class="mark-label mark-{kind}" x="{mx:.1}" y="{ly}">{label}</text></g>"#,
            kind = m.kind.as_str(),
            title = esc(&i18n::text_with(
                "drills-svg-mark",
                &[("kind", &mark_name(m.kind)), ("round", &(m.round + 1)), ("at", &(m.at - t0))],
            )),
            label = esc(&mark_name(m.kind)),
        );
    }
    let span_s = (t1 - t0) as f64 / 1000.0;
    let tick =
        [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0].into_iter().find(|t| span_s / t <= 12.0).unwrap_or(600.0);
    let mut s = 0.0;
    while s <= span_s {
        let tx = x(t0 + (s * 1000.0) as i64);
        let _ = write!(
            out,
            r#"<line class="tick" x1="{tx:.1}" y1="{BOTTOM}" x2="{tx:.1}" y2="{y2}"/><text class="tick-label" x="{tx:.1}" y="145">{s}s</text>"#,
            y2 = BOTTOM + 4.0
        );
        s += tick;
    }
    out.push_str("</svg>");
    out
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_else(|| "–".into())
}

/// The report as Markdown, for a change ticket or an audit folder, in the
/// reader's language and time zone.
pub fn markdown(row: &DrillRow, settings: &Settings, f: &Figures, restored: bool) -> String {
    let mut md = String::new();
    let checks: Vec<(bool, String)> = serde_json::from_str(&row.reasons).unwrap_or_default();
    let _ = writeln!(
        md,
        "# {}\n",
        i18n::text_with("drills-md-title", &[("id", &row.id), ("scenario", &row.scenario), ("stack", &row.stack)])
    );
    let bold = |s: String| format!("**{s}**");
    let verdict = match row.verdict.as_deref() {
        Some(v) => state("drills-verdict-", v),
        None => i18n::text("drills-md-no-verdict"),
    };
    let finished = row.finished_at.map(crate::web::format_ms).unwrap_or_else(|| "–".into());
    let _ = writeln!(
        md,
        "- {}\n- {}\n- {}\n- {}",
        i18n::text_with(
            "drills-md-status",
            &[("status", &bold(state("drills-status-", &row.status))), ("verdict", &bold(verdict))]
        ),
        i18n::text_with(
            "drills-md-started",
            &[("user", &row.started_by), ("at", &crate::web::format_ms(row.started_at)), ("finished", &finished)]
        ),
        i18n::text_with("drills-md-probes", &[("rate", &settings.rate), ("url", &settings.target_url)]),
        i18n::text_with(
            "drills-md-restored",
            &[("restored", &i18n::text(if restored { "drills-md-restored-yes" } else { "drills-md-restored-no" }))]
        ),
    );
    let dash = |v: Option<i64>| v.map(|x| format!("{x} ms")).unwrap_or_else(|| "–".into());
    let _ = writeln!(
        md,
        "- {}",
        i18n::text_with("drills-md-times", &[("mttd", &dash(f.mttd_ms)), ("mttr", &dash(f.mttr_ms))])
    );
    if let Some(floor) = f.floor {
        let _ = writeln!(
            md,
            "- {}",
            i18n::text_with(
                "drills-md-floor",
                &[("floor", &floor.to_string()), ("allowed", &settings.budget.allowed_failures)]
            )
        );
    }
    if !row.note.is_empty() {
        let _ = writeln!(md, "- {}", i18n::text_with("drills-md-note", &[("note", &row.note.replace('\n', "; "))]));
    }
    let [left, right] = &settings.servers;
    let _ = writeln!(
        md,
        "\n## {}\n\n| {} | {} | {} | {left} | {right} | {} | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---|---:|---:|",
        i18n::text("drills-md-phases"),
        i18n::text("drills-md-col-phase"),
        i18n::text("drills-md-col-requests"),
        i18n::text("drills-md-col-availability"),
        i18n::text("drills-md-col-errors"),
    );
    let errors = |s: &Stats| {
        if s.errors.is_empty() {
            "–".to_owned()
        } else {
            s.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
        }
    };
    let total = i18n::text("drills-phase-total");
    let phases = f.phases.iter().map(|p| (phase_name(p.kind, &p.name), &p.stats));
    for (name, s) in phases.chain(std::iter::once((total, &f.total))) {
        let _ = writeln!(
            md,
            "| {name} | {} | {}% | {} | {} | {} | {} | {} |",
            s.requests,
            s.availability,
            s.split.get(left).unwrap_or(&0),
            s.split.get(right).unwrap_or(&0),
            errors(s),
            opt_ms(s.p50_ms),
            opt_ms(s.p99_ms)
        );
    }
    if !checks.is_empty() {
        let _ = writeln!(md, "\n## {}\n", i18n::text("drills-md-verdict"));
        for (ok, text) in checks {
            let _ = writeln!(md, "- {} {text}", if ok { "✓" } else { "✗" });
        }
    }
    md
}

/// A small line chart of one figure over a scenario's runs (oldest left),
/// with the latest value printed; a run without the figure leaves a gap.
pub fn sparkline(title: &str, unit: &str, values: &[Option<f64>]) -> String {
    const W: f64 = 180.0;
    const H: f64 = 40.0;
    const PAD: f64 = 4.0;
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max).max(1.0);
    let step = if values.len() > 1 { (W - 2.0 * PAD) / (values.len() - 1) as f64 } else { 0.0 };
    let mut path = String::new();
    let mut pen_up = true;
    let mut dots = String::new();
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else {
            pen_up = true;
            continue;
        };
        let x = PAD + step * i as f64;
        let y = H - PAD - (v / max) * (H - 2.0 * PAD);
        path.push_str(&format!("{}{x:.1},{y:.1} ", if pen_up { "M" } else { "L" }));
        pen_up = false;
        dots.push_str(&format!("<circle class=\"spark-dot\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2\"/>"));
    }
    let last = values.iter().rev().flatten().next().map_or("–".to_owned(), |v| format!("{v:.0}{unit}"));
    let label = i18n::text_with("drills-chart-label", &[("title", &title), ("count", &values.len()), ("last", &last)]);
    format!(
        "<figure class=\"spark\"><svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{label}\">\
         <path class=\"spark-line\" d=\"{path}\"/>{dots}</svg><figcaption>{t}: <strong>{last}</strong></figcaption></figure>",
        label = esc(&label),
        t = esc(title),
    )
}

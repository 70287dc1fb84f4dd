//! Charts drawn as SVG elements by the app itself (no chart script): horizontal bars for a
//! funnel, columns for a time series. Each carries its figures as text — `<title>` and
//! `<desc>` for screen readers, and a table the reader can open and download as CSV. Colours
//! come from the stylesheet's variables, so light and dark mode both read.

use invitegate_core::api::Timeseries;
use leptos::prelude::*;

use crate::util::download;

/// Width of every chart's `viewBox`: about a phone's content width, so text keeps its size at
/// 375 px and scales up on wider screens.
const WIDTH: f64 = 320.0;

/// A coordinate for an SVG attribute, to a tenth of a unit, written with integer formatting
/// only (float formatting would add its machinery to the bundle).
fn num(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!(
            "{}{}.{}",
            if tenths < 0 { "-" } else { "" },
            (tenths / 10).abs(),
            (tenths % 10).abs()
        )
    }
}

/// A figure with its label, as a chart row or column.
pub type Figure = (String, u64);

/// Horizontal bars, one per figure, the number written at the end of each bar. `id` prefixes
/// the ids of the title and description (which lists every figure).
#[component]
pub fn BarsChart(
    id: &'static str,
    #[prop(into)] title: String,
    figures: Vec<Figure>,
) -> impl IntoView {
    const ROW: f64 = 28.0;
    const LABEL: f64 = 84.0;
    let room = WIDTH - LABEL - 40.0;
    let max = figures.iter().map(|f| f.1).max().unwrap_or(0).max(1) as f64;
    let height = ROW * figures.len() as f64;
    let desc = figures
        .iter()
        .map(|(label, n)| format!("{label}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = figures
        .iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let y = i as f64 * ROW;
            let w = (*n as f64 / max * room).max(if *n > 0 { 2.0 } else { 0.0 });
            view! {
                <text class="label" x="0" y=num(y + 18.0)>{label.clone()}</text>
                <rect class="bar" x=num(LABEL) y=num(y + 5.0) width=num(w) height="18" rx="3" />
                <text class="value" x=num(LABEL + w + 6.0) y=num(y + 18.0)>{n.to_string()}</text>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" id=id viewBox=format!("0 0 {} {}", num(WIDTH), num(height)) role="img"
            aria-labelledby=format!("{id}-title {id}-desc")>
            <title id=format!("{id}-title")>{title}</title>
            <desc id=format!("{id}-desc")>{desc}</desc>
            {rows}
        </svg>
    }
}

/// Columns, one per point of `series`, with the highest value and the first and last dates
/// written on the axes; each column's own `<title>` gives its date and value on hover.
#[component]
pub fn ColumnsChart(
    id: &'static str,
    #[prop(into)] title: String,
    series: Timeseries,
) -> impl IntoView {
    const TOP: f64 = 14.0;
    const PLOT: f64 = 96.0;
    const LEFT: f64 = 24.0;
    let points: Vec<Figure> = series
        .points
        .iter()
        .map(|p| (bucket_label(&series, p.t), p.value))
        .collect();
    let max = points.iter().map(|p| p.1).max().unwrap_or(0);
    let total: u64 = points.iter().map(|p| p.1).sum();
    let step = (WIDTH - LEFT) / points.len().max(1) as f64;
    let gap = if step > 4.0 { 1.0 } else { 0.0 };
    let desc = match (points.first(), points.last()) {
        (Some(first), Some(last)) => format!(
            "{total} in all from {} to {}; at most {max} in one {}.",
            first.0,
            last.0,
            interval_word(&series)
        ),
        _ => "No data.".to_string(),
    };
    let columns = points
        .iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let h = if max == 0 {
                0.0
            } else {
                *n as f64 / max as f64 * PLOT
            };
            view! {
                <rect class="bar" x=num(LEFT + i as f64 * step) y=num(TOP + PLOT - h)
                    width=num((step - gap).max(0.5)) height=num(h)>
                    <title>{format!("{label}: {n}")}</title>
                </rect>
            }
        })
        .collect_view();
    let first = points.first().map(|p| p.0.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.0.clone()).unwrap_or_default();
    view! {
        <svg class="chart" id=id viewBox=format!("0 0 {} 130", num(WIDTH)) role="img"
            aria-labelledby=format!("{id}-title {id}-desc")>
            <title id=format!("{id}-title")>{title}</title>
            <desc id=format!("{id}-desc")>{desc}</desc>
            <line class="axis" x1=num(LEFT) y1=num(TOP + PLOT) x2=num(WIDTH) y2=num(TOP + PLOT) />
            <text class="value" x="0" y=num(TOP)>{max.to_string()}</text>
            <text class="value" x="0" y=num(TOP + PLOT)>"0"</text>
            {columns}
            <text class="label" x=num(LEFT) y="128">{first}</text>
            <text class="label" x=num(WIDTH) y="128" text-anchor="end">{last}</text>
        </svg>
    }
}

/// A bucket's label: `2026-12-05` by day, `2026-12-05 14:00` by hour (UTC).
pub fn bucket_label(
    series: &Timeseries,
    t: invitegate_core::time::DateTime<invitegate_core::time::Utc>,
) -> String {
    let (date, time) = crate::util::utc_date_time(&t);
    match series.interval {
        invitegate_core::api::InsightsInterval::Day => date,
        invitegate_core::api::InsightsInterval::Hour => format!("{date} {}:00", &time[..2]),
    }
}

fn interval_word(series: &Timeseries) -> &'static str {
    match series.interval {
        invitegate_core::api::InsightsInterval::Day => "day",
        invitegate_core::api::InsightsInterval::Hour => "hour",
    }
}

/// A table of `rows` under `header`, folded under `summary`, with a button that downloads it
/// as `file` (CSV, cells safe to open in a spreadsheet).
#[component]
pub fn DataTable(
    #[prop(into)] summary: String,
    file: &'static str,
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
    #[prop(default = false)] open: bool,
) -> impl IntoView {
    let csv = invitegate_core::spreadsheet::to_csv(header, &rows);
    let label = summary.clone();
    let body = rows
        .into_iter()
        .map(|r| {
            view! { <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> }
        })
        .collect_view();
    view! {
        <details class="data" open=open>
            <summary>{summary}</summary>
            // Focusable, so a keyboard can scroll a table wider than a phone.
            <div class="table-wrap" tabindex="0" role="region" aria-label=label>
                <table>
                    <thead><tr>{header.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            <button type="button" class="secondary" on:click=move |_| download(file, "text/csv", &csv)>
                "Download CSV"
            </button>
        </details>
    }
}

/// "45 s", "12 min", "3 h 20 min", "2 d 4 h".
pub fn fmt_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `part` of `whole` as a whole percentage, rounded half up; "–" when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    match (part * 100 + whole / 2).checked_div(whole) {
        Some(p) => format!("{p}%"),
        None => "–".into(),
    }
}

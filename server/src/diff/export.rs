//! Exports of a compare: JSON (every change, for tools) and Markdown (a summary for a ticket).
//! Built from what the browser was shown, so they hold no token and nothing the view did not.

use std::fmt::Write as _;

use app::wire::{BodyDiff, CompareSide, DiffChange, DiffOptions, HeaderChange};
use serde_json::json;

/// Changes listed in the Markdown table; the JSON export has all of them.
const MARKDOWN_CHANGES: usize = 200;

pub struct ExportContext<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub left: &'a CompareSide,
    pub right: &'a CompareSide,
    pub options: &'a DiffOptions,
    pub body: &'a BodyDiff,
    /// Every change (up to the export cap), most serious first.
    pub changes: &'a [DiffChange],
    pub headers: &'a [HeaderChange],
    /// RFC 3339 time of the compare.
    pub at: String,
}

fn side_json(side: &CompareSide) -> serde_json::Value {
    match &side.response {
        Some(r) => json!({
            "environment": side.environment,
            "status": r.status,
            "url": r.url,
            "duration_ms": (r.duration_ms * 10.0).round() / 10.0,
            "size_bytes": r.size_bytes,
            "token_fingerprint": r.token_fingerprint,
            "upstream_request_id": r.upstream_request_id,
        }),
        None => json!({
            "environment": side.environment,
            "error": side.error.as_ref().map(ToString::to_string),
        }),
    }
}

pub fn export_json(context: &ExportContext<'_>) -> Vec<u8> {
    let document = json!({
        "compare": {
            "at": context.at,
            "method": context.method,
            "path": context.path,
            "mode": context.body.mode,
            "options": context.options,
        },
        "left": side_json(context.left),
        "right": side_json(context.right),
        "counts": context.body.counts,
        "ignored": context.body.ignored,
        "notices": context.body.notices,
        "changes": context.changes,
        "changes_total": context.body.counts.total(),
        "headers": context.headers,
    });
    serde_json::to_vec_pretty(&document).unwrap_or_default()
}

/// Markdown table cells: no pipes or line breaks, code spans that cannot be closed early.
fn cell(text: &str) -> String {
    let flat: String = text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    let flat = flat.replace('|', "\\|");
    if flat.is_empty() {
        return String::new();
    }
    let ticks = if flat.contains('`') { "``" } else { "`" };
    format!("{ticks}{}{ticks}", super::cut(flat, 120))
}

fn side_line(side: &CompareSide) -> String {
    match (&side.response, &side.error) {
        (Some(r), _) => format!(
            "| {} | {} | {:.0} ms | {} | {} |",
            cell(&side.environment),
            r.status,
            r.duration_ms,
            bytes(r.size_bytes),
            r.token_fingerprint.as_deref().map(cell).unwrap_or_else(|| "none".to_owned()),
        ),
        (None, error) => format!(
            "| {} | error: {} | | | |",
            cell(&side.environment),
            error.as_ref().map(ToString::to_string).unwrap_or_default().replace('|', "\\|")
        ),
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

pub fn export_markdown(context: &ExportContext<'_>) -> Vec<u8> {
    let mut out = String::new();
    let c = context.body.counts;
    let _ = writeln!(
        out,
        "## Compare `{} {}`: {} vs {}\n",
        context.method, context.path, context.left.environment, context.right.environment
    );
    let _ = writeln!(out, "Compared at {} with the a55 console.\n", context.at);
    let _ = writeln!(out, "| Side | Status | Time | Size | Token |\n| --- | --- | --- | --- | --- |");
    let _ = writeln!(out, "{}\n{}\n", side_line(context.left), side_line(context.right));
    let _ = writeln!(
        out,
        "**{} type changed, {} removed, {} added, {} changed** ({} left out by ignore rules; {} comparison).\n",
        c.type_changed,
        c.removed,
        c.added,
        c.changed,
        context.body.ignored,
        match context.body.mode {
            app::wire::BodyDiffMode::Json => "structural",
            app::wire::BodyDiffMode::Shape => "shape-only",
            app::wire::BodyDiffMode::Text => "line",
            app::wire::BodyDiffMode::None => "no",
        }
    );
    for notice in &context.body.notices {
        let _ = writeln!(out, "> {}", notice.replace('\n', " "));
    }
    if !context.body.notices.is_empty() {
        out.push('\n');
    }
    if !context.changes.is_empty() {
        let _ = writeln!(out, "### Changes\n\n| Kind | Path | Left | Right |\n| --- | --- | --- | --- |");
        for change in context.changes.iter().take(MARKDOWN_CHANGES) {
            let value = |v: &Option<String>, t: &Option<String>| match (v, t) {
                (Some(v), Some(t)) if change.kind == app::wire::ChangeKind::TypeChanged => {
                    format!("{} ({t})", cell(v))
                }
                (Some(v), _) => cell(v),
                (None, _) => "—".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                change.kind.label(),
                cell(&change.path),
                value(&change.left, &change.left_type),
                value(&change.right, &change.right_type)
            );
        }
        if c.total() > MARKDOWN_CHANGES.min(context.changes.len()) {
            let _ = writeln!(
                out,
                "\n{} more changes are in the JSON export.",
                c.total() - MARKDOWN_CHANGES.min(context.changes.len())
            );
        }
        out.push('\n');
    }
    let real: Vec<&HeaderChange> = context.headers.iter().filter(|h| !h.expected).collect();
    if !real.is_empty() {
        let _ = writeln!(out, "### Headers\n\n| Header | Left | Right |\n| --- | --- | --- |");
        for header in real {
            let shown = |v: &Option<String>| v.as_deref().map(cell).unwrap_or_else(|| "—".to_owned());
            let _ = writeln!(out, "| {} | {} | {} |", cell(&header.name), shown(&header.left), shown(&header.right));
        }
        out.push('\n');
    }
    let options = context.options;
    let _ = writeln!(
        out,
        "Options: {}{}; ignore rules: {}.",
        if options.shape_only { "shape only" } else { "values and types" },
        options.array_key.as_deref().map(|k| format!(", arrays matched by `{k}`")).unwrap_or_default(),
        if options.ignore.is_empty() {
            "none".to_owned()
        } else {
            options.ignore.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
        }
    );
    out.into_bytes()
}

//! A run as Markdown (for tickets and chat) or JSON (for tools).

use std::fmt::Write as _;

use app::wire::{DriftItem, ParityRun};

pub fn json(run: &ParityRun) -> String {
    serde_json::to_string_pretty(run).unwrap_or_default()
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn drift_table(out: &mut String, items: &[&DriftItem]) {
    let _ = writeln!(out, "| Compare | Kind | Path | × | Left | Right |\n| --- | --- | --- | --- | --- | --- |");
    for d in items {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} |",
            cell(&d.compare),
            d.kind.label(),
            cell(&d.path),
            d.occurrences,
            cell(d.left.as_deref().unwrap_or("—")),
            cell(d.right.as_deref().unwrap_or("—"))
        );
    }
}

pub fn markdown(run: &ParityRun) -> String {
    let mut out = String::new();
    let s = run.summary();
    let _ = writeln!(out, "# Parity run #{} of suite \"{}\"\n", run.id, cell(&run.suite));
    let _ = writeln!(
        out,
        "Started {} by {}, took {} ms. New drift: **{} shape**, **{} value**; {} known (baseline{}).\n",
        crate::audit::utc(run.started_at_ms),
        cell(&run.started_by),
        run.duration_ms,
        s.new_shape,
        s.new_value,
        s.known,
        run.baseline_at_ms.map(|at| format!(" of {}", crate::audit::utc(at))).unwrap_or_else(|| ": none".into())
    );
    let requests: Vec<String> = run.requests.iter().map(|r| format!("{} {}", r.environment, r.requests)).collect();
    let _ = writeln!(out, "Requests: {}.\n", requests.join(", "));
    for (title, items) in [
        ("New shape drift", run.new_shape().collect::<Vec<_>>()),
        ("New value drift", run.new_value().collect::<Vec<_>>()),
    ] {
        let _ = writeln!(out, "## {title} ({})\n", items.len());
        if items.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            drift_table(&mut out, &items);
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Compares\n\n| Compare | Request | Left | Right | Type | Removed | Added | Changed |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for c in &run.compares {
        let side = |env: &str, status: Option<u16>, error: &Option<String>| match (status, error) {
            (Some(status), _) => format!("{env} {status}"),
            (None, Some(error)) => format!("{env}: {}", cell(error)),
            (None, None) => env.to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} {} | {} | {} | {} | {} | {} | {} |",
            cell(&c.name),
            c.method,
            cell(&c.path),
            side(&c.left_environment, c.left_status, &c.left_error),
            side(&c.right_environment, c.right_status, &c.right_error),
            c.counts.type_changed,
            c.counts.removed,
            c.counts.added,
            c.counts.changed
        );
    }
    out
}

//! A run as Markdown (for tickets and chat) or JSON (for tools).

use std::fmt::Write as _;

use app::wire::{DriftItem, ParityRun, SpecComparison, SpecState};

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

/// The new spec changes of each compared pair, or why a pair was not compared.
fn spec_section(out: &mut String, spec: &[SpecComparison]) {
    let new: usize = spec.iter().map(|s| s.changes.iter().filter(|c| c.new).count()).sum();
    let _ = writeln!(out, "## New spec drift ({new})\n");
    if spec.is_empty() {
        let _ = writeln!(out, "No pair of environments.\n");
        return;
    }
    for s in spec {
        let pair = format!("{} → {}", cell(&s.left), cell(&s.right));
        match &s.state {
            SpecState::NoLiveSpec { environments } => {
                let _ = writeln!(out, "{pair}: not compared, no live spec for {}.\n", cell(&environments.join(", ")));
            }
            SpecState::Unavailable { reason } => {
                let _ = writeln!(out, "{pair}: not compared, {}.\n", cell(reason));
            }
            SpecState::Compared => {
                let changes: Vec<_> = s.changes.iter().filter(|c| c.new).collect();
                let known = s.changes.len() - changes.len();
                if changes.is_empty() {
                    let _ = writeln!(out, "{pair}: no new spec drift ({known} known).\n");
                    continue;
                }
                let _ = writeln!(out, "{pair} ({known} known):\n");
                let _ = writeln!(out, "| Kind | Operation | Where | Before | After |\n| --- | --- | --- | --- | --- |");
                for c in changes {
                    let _ = writeln!(
                        out,
                        "| {}{} | `{}` | `{}` | {} | {} |",
                        c.kind.label(),
                        if c.kind.is_breaking() { " (breaking)" } else { "" },
                        cell(&c.operation),
                        cell(&c.pointer),
                        cell(c.before.as_deref().unwrap_or("—")),
                        cell(c.after.as_deref().unwrap_or("—"))
                    );
                }
                out.push('\n');
            }
        }
    }
}

pub fn markdown(run: &ParityRun) -> String {
    let mut out = String::new();
    let s = run.summary();
    let _ = writeln!(out, "# Parity run #{} of suite \"{}\"\n", run.id, cell(&run.suite));
    let _ = writeln!(
        out,
        "Started {} by {}, took {} ms. New drift: **{} shape**, **{} value**, **{} spec**; {} known (baseline{}).\n",
        crate::audit::utc(run.started_at_ms),
        cell(&run.started_by),
        run.duration_ms,
        s.new_shape,
        s.new_value,
        s.new_spec,
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
    spec_section(&mut out, &run.spec);
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

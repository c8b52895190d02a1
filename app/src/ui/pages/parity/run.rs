//! One run of a suite: its new drift (shape, then value, then the spec's), known drift, the compares
//! with their diffs for drill-down, exports, and "accept as baseline".

use leptos::prelude::*;

use super::spec::SpecComparisonView;
use crate::api::accept_parity_baseline;
use crate::ui::pages::audit::utc_text;
use crate::wire::{DriftItem, ParityCompareOutcome, ParityRun};

#[component]
pub fn RunView(run: ParityRun, on_baseline: Callback<()>) -> impl IntoView {
    let summary = run.summary();
    let id = run.id;
    let accepted = RwSignal::new(None::<Result<String, String>>);
    let accept = move |_| {
        leptos::task::spawn_local(async move {
            accepted.set(Some(match accept_parity_baseline(id).await {
                Ok(view) => {
                    on_baseline.run(());
                    Ok(format!(
                        "Baseline of \"{}\" is now run #{id}: {} known differences.",
                        view.suite.name,
                        view.baseline.map_or(0, |b| b.items)
                    ))
                }
                Err(error) => Err(error.to_string()),
            }));
        });
    };
    let shape: Vec<DriftItem> = run.new_shape().cloned().collect();
    let value: Vec<DriftItem> = run.new_value().cloned().collect();
    let known: Vec<DriftItem> = run.drift.iter().filter(|d| !d.new).cloned().collect();
    let spec = run.spec.clone();
    let requests: Vec<String> = run.requests.iter().map(|r| format!("{} {}", r.environment, r.requests)).collect();
    view! {
        <section class="parity-run" data-testid="parity-run" aria-label="Parity run">
            <h2>{format!("Run #{} of \"{}\"", run.id, run.suite)}</h2>
            <p data-testid="run-summary">
                {format!(
                    "{} by {}, {} ms, {} compares; requests {}. New drift: {} shape, {} value, {} spec; {} known{}.",
                    utc_text(run.started_at_ms),
                    run.started_by,
                    run.duration_ms,
                    run.compares.len(),
                    requests.join(", "),
                    summary.new_shape,
                    summary.new_value,
                    summary.new_spec,
                    summary.known,
                    run.baseline_at_ms.map(|at| format!(" (baseline of {})", utc_text(at))).unwrap_or_else(|| " (no baseline yet)".into()),
                )}
            </p>
            <p class="parity-exports">
                <a data-testid="export-md" href=format!("/parity/export/{id}?format=md") download=format!("parity-run-{id}.md")>"Export Markdown"</a>
                <a data-testid="export-json" href=format!("/parity/export/{id}?format=json") download=format!("parity-run-{id}.json")>"Export JSON"</a>
                <button data-testid="accept-baseline" on:click=accept title="Accept every difference of this run as known">
                    "Accept as baseline"
                </button>
            </p>
            {move || accepted.get().map(|note| match note {
                Ok(text) => view! { <p class="notice" role="status" data-testid="baseline-note">{text}</p> }.into_any(),
                Err(text) => view! { <p class="console-error" role="alert">{text}</p> }.into_any(),
            })}
            <DriftTable title="New shape drift" testid="new-shape" items=shape />
            <DriftTable title="New value drift" testid="new-value" items=value />
            <h3 data-testid="new-spec-heading">{format!("New spec drift ({})", summary.new_spec)}</h3>
            <div class="parity-run-spec" data-testid="new-spec">
                {spec.into_iter().map(|comparison| view! { <SpecComparisonView comparison only_new=true /> }).collect_view()}
            </div>
            <details class="parity-known">
                <summary>{format!("Known drift ({})", known.len())}</summary>
                <DriftTable title="Known" testid="known" items=known />
            </details>
            <h3>"Compares"</h3>
            <table class="parity-compares" data-testid="run-compares">
                <thead><tr>
                    <th>"Compare"</th><th>"Request"</th><th>"Left"</th><th>"Right"</th>
                    <th>"Type"</th><th>"Removed"</th><th>"Added"</th><th>"Changed"</th>
                </tr></thead>
                <tbody>{run.compares.into_iter().map(|c| view! { <CompareRow c /> }).collect_view()}</tbody>
            </table>
        </section>
    }
}

#[component]
fn DriftTable(title: &'static str, testid: &'static str, items: Vec<DriftItem>) -> impl IntoView {
    let count = items.len();
    view! {
        <h3>{format!("{title} ({count})")}</h3>
        {if items.is_empty() {
            view! { <p class="hint" data-testid=format!("{testid}-none")>"None."</p> }.into_any()
        } else {
            view! {
                <table class="parity-drift" data-testid=testid>
                    <thead><tr><th>"Compare"</th><th>"Kind"</th><th>"Where"</th><th>"×"</th><th>"Left"</th><th>"Right"</th></tr></thead>
                    <tbody>
                        {items.into_iter().map(|d| view! {
                            <tr data-testid="drift-item" data-kind=format!("{:?}", d.kind)>
                                <td>{d.compare}</td>
                                <td>{d.kind.label()}</td>
                                <td><code>{d.path}</code></td>
                                <td>{d.occurrences}</td>
                                <td><code>{d.left.unwrap_or_default()}</code></td>
                                <td><code>{d.right.unwrap_or_default()}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
fn CompareRow(c: ParityCompareOutcome) -> impl IntoView {
    let side = |env: &str, status: Option<u16>, error: &Option<String>| match (status, error) {
        (Some(status), _) => format!("{env}: {status}"),
        (None, Some(error)) => format!("{env}: {error}"),
        (None, None) => env.to_owned(),
    };
    let left = side(&c.left_environment, c.left_status, &c.left_error);
    let right = side(&c.right_environment, c.right_status, &c.right_error);
    let changes = c.changes;
    let truncated = c.changes_truncated;
    view! {
        <tr data-testid="run-compare">
            <td>
                <details>
                    <summary>{c.name}</summary>
                    <ul class="parity-changes">
                        {changes.into_iter().map(|d| view! {
                            <li><code>{d.path}</code>" "{d.kind.label()}": "
                                <code>{d.left.unwrap_or_else(|| "—".into())}</code>" → "<code>{d.right.unwrap_or_else(|| "—".into())}</code></li>
                        }).collect_view()}
                        {truncated.then(|| view! { <li class="hint">"… more in the exports"</li> })}
                    </ul>
                </details>
            </td>
            <td><code>{format!("{} {}", c.method, c.path)}</code></td>
            <td>{left}</td>
            <td>{right}</td>
            <td>{c.counts.type_changed}</td>
            <td>{c.counts.removed}</td>
            <td>{c.counts.added}</td>
            <td>{c.counts.changed}</td>
        </tr>
    }
}

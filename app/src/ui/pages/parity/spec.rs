//! Spec drift on the Parity page: two environments' live OpenAPI documents compared with each other
//! and each with the bundled catalog, changes grouped by kind, breaking first; and a run's spec part.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api::{get_spec_drift, list_environments};
use crate::wire::{SpecChange, SpecComparison, SpecDriftView, SpecState, CATALOG_SIDE};

fn side_name(side: &str) -> String {
    if side == CATALOG_SIDE {
        "bundled catalog".to_owned()
    } else {
        side.to_owned()
    }
}

#[component]
pub fn SpecDriftSection() -> impl IntoView {
    let environments = crate::codec::load(|| (), |_| list_environments());
    let left = RwSignal::new(String::new());
    let right = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<SpecDriftView, String>>);
    // The first two environments until staff choose: the usual pair is sandbox and production.
    Effect::new(move |_| {
        if let Some(Ok(list)) = environments.get() {
            if left.get_untracked().is_empty() {
                left.set(list.first().map(|e| e.id.clone()).unwrap_or_default());
                right.set(list.get(1).map(|e| e.id.clone()).unwrap_or_default());
            }
        }
    });
    let compare = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (l, r) = (left.get_untracked(), right.get_untracked());
        leptos::task::spawn_local(async move {
            result.set(Some(get_spec_drift(l, r).await.map_err(|e| e.to_string())));
            busy.set(false);
        });
    };
    let options = move |chosen: RwSignal<String>| {
        move || {
            environments
                .get()
                .and_then(Result::ok)
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    let selected = chosen.get() == e.id;
                    view! { <option value=e.id selected=selected>{e.label}</option> }
                })
                .collect_view()
        }
    };
    view! {
        <section class="parity-spec" data-testid="spec-drift" aria-labelledby="spec-drift-heading">
            <h2 id="spec-drift-heading">"Spec drift"</h2>
            <p class="hint">
                "Two environments' live OpenAPI documents, fetched now, compared with each other and each with the \
                 console's bundled catalog: operations, parameters, schemas and response codes, breaking changes first."
            </p>
            <form class="spec-form" on:submit=compare>
                <label>"Left "
                    <select data-testid="spec-left" on:change=move |ev| left.set(event_target_value(&ev))>{options(left)}</select>
                </label>
                <label>"Right "
                    <select data-testid="spec-right" on:change=move |ev| right.set(event_target_value(&ev))>{options(right)}</select>
                </label>
                <button type="submit" data-testid="spec-compare" disabled=move || busy.get()>
                    {move || if busy.get() { "Fetching specs…" } else { "Compare specs" }}
                </button>
            </form>
            {move || result.get().map(|outcome| match outcome {
                Ok(view) => view.comparisons.into_iter().map(|c| view! { <SpecComparisonView comparison=c only_new=false /> }).collect_view().into_any(),
                Err(error) => view! { <p class="console-error" role="alert" data-testid="spec-error">{error}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}

/// One pair of documents: why it was not compared, "no drift", or its changes by kind.
#[component]
pub fn SpecComparisonView(comparison: SpecComparison, only_new: bool) -> impl IntoView {
    let title = format!("{} → {}", side_name(&comparison.left), side_name(&comparison.right));
    let known = comparison.changes.iter().filter(|c| !c.new).count();
    let changes: Vec<SpecChange> = comparison.changes.into_iter().filter(|c| !only_new || c.new).collect();
    let body = match comparison.state {
        SpecState::NoLiveSpec { environments } => view! {
            <p class="hint" data-testid="spec-no-live">
                {format!("Not compared: {} has no live spec (live_spec = true in its environment's configuration).", environments.join(" and "))}
            </p>
        }.into_any(),
        SpecState::Unavailable { reason } => view! {
            <p class="console-error" role="alert" data-testid="spec-unavailable">
                {format!("The spec could not be fetched or read: {reason}")}
            </p>
        }.into_any(),
        SpecState::Compared if changes.is_empty() => view! {
            <p class="notice" data-testid="spec-no-drift">
                {if only_new && known > 0 { format!("No new drift ({known} known).") } else { "No drift: the same operations, parameters, schemas and response codes.".to_owned() }}
            </p>
        }.into_any(),
        SpecState::Compared => {
            let breaking = changes.iter().filter(|c| c.kind.is_breaking()).count();
            let summary = format!(
                "{} {}changes: {breaking} breaking, {} additive{}.",
                changes.len(),
                if only_new { "new " } else { "" },
                changes.len() - breaking,
                if only_new && known > 0 { format!("; {known} known") } else { String::new() }
            );
            view! {
                <p data-testid="spec-counts">{summary}</p>
                <SpecTable caption=title.clone() changes />
            }.into_any()
        }
    };
    view! {
        <section class="spec-comparison" data-testid="spec-comparison" aria-label=title.clone()>
            <h3>{title.clone()}</h3>
            {body}
        </section>
    }
}

/// Changes in one table, one row group per kind (they arrive ranked, so groups are consecutive).
#[component]
fn SpecTable(caption: String, changes: Vec<SpecChange>) -> impl IntoView {
    let mut groups: Vec<Vec<SpecChange>> = Vec::new();
    for change in changes {
        match groups.last_mut() {
            Some(group) if group[0].kind == change.kind => group.push(change),
            _ => groups.push(vec![change]),
        }
    }
    view! {
        <table class="parity-drift spec-changes" data-testid="spec-changes">
            <caption class="visually-hidden">{caption}</caption>
            <thead><tr><th scope="col">"Operation"</th><th scope="col">"Where"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
            {groups.into_iter().map(|group| {
                let kind = group[0].kind;
                let heading = format!("{} ({}){}", kind.label(), group.len(), if kind.is_breaking() { ", breaking" } else { "" });
                view! {
                    <tbody data-testid="spec-kind" data-kind=format!("{kind:?}") class:breaking=kind.is_breaking()>
                        <tr><th scope="rowgroup" colspan="4">{heading}</th></tr>
                        {group.into_iter().map(|c| view! {
                            <tr data-testid="spec-change">
                                <td><code>{c.operation}</code></td>
                                <td><code>{c.pointer}</code></td>
                                <td>{c.before.unwrap_or_default()}</td>
                                <td>{c.after.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                }
            }).collect_view()}
        </table>
    }
}

//! The current staff member's runs, newest first: open one to see its request and response again,
//! or run it again.

use leptos::prelude::*;

use crate::api::{clear_history, delete_history_entry, get_history_entry, list_history};
use crate::wire::{HistoryDetail, HistoryEntry};

/// `14:03:27` in the browser's time zone (history rows are from today, mostly).
pub fn clock_time(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
}

fn outcome(entry: &HistoryEntry) -> String {
    match (entry.status, &entry.error) {
        (Some(status), _) => status.to_string(),
        (None, Some(_)) => "error".into(),
        (None, None) => "—".into(),
    }
}

#[component]
pub fn HistoryPanel(
    version: Signal<u32>,
    on_open: Callback<HistoryDetail>,
    on_rerun: Callback<HistoryDetail>,
) -> impl IntoView {
    // Deletes here re-read the list too, besides the runs the parent reports.
    let changed = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        changed.track();
        async move { list_history(200).await }
    });
    let failure = RwSignal::new(None::<String>);
    let confirming_clear = RwSignal::new(false);
    let remove = move |id: i64| {
        leptos::task::spawn_local(async move {
            match delete_history_entry(id).await {
                Ok(()) => changed.update(|n| *n += 1),
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    let clear_all = move |_| {
        if !confirming_clear.get_untracked() {
            confirming_clear.set(true);
            return;
        }
        confirming_clear.set(false);
        leptos::task::spawn_local(async move {
            match clear_history(None).await {
                Ok(_) => changed.update(|n| *n += 1),
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    let fetch = move |id: i64, then: Callback<HistoryDetail>| {
        leptos::task::spawn_local(async move {
            match get_history_entry(id).await {
                Ok(detail) => {
                    failure.set(None);
                    then.run(detail);
                }
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    view! {
        <div class="tool history" data-testid="history-panel">
            {move || failure.get().map(|e| view! { <p class="console-error" role="alert">{e}</p> })}
            {move || match list.get() {
                None => view! { <p class="hint">"Loading history…"</p> }.into_any(),
                Some(Err(error)) => view! { <p class="console-error" role="alert">{error.to_string()}</p> }.into_any(),
                Some(Ok(entries)) if entries.is_empty() => view! { <p class="hint">"No runs yet. Every request you run is listed here."</p> }.into_any(),
                Some(Ok(entries)) => view! {
                    <div class="history-tools">
                        <button class="small remove" data-testid="history-clear" on:click=clear_all
                            on:blur=move |_| confirming_clear.set(false)>
                            {move || if confirming_clear.get() { "Click again to delete every run in your history" } else { "Clear my history" }}
                        </button>
                    </div>
                    <table class="history-table">
                        <thead><tr><th>"Time"</th><th>"Env"</th><th>"Request"</th><th>"Status"</th><th>"Duration"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {entries.into_iter().enumerate().map(|(index, entry)| {
                                let id = entry.id;
                                let status_class = match entry.status {
                                    Some(200..=299) => "status ok",
                                    Some(400..=499) => "status client-error",
                                    Some(_) => "status server-error",
                                    None => "status server-error",
                                };
                                if let Some(mark) = entry.compare.clone() {
                                    // A compare opens on its own page, with its stored diff.
                                    let c = mark.counts;
                                    return view! {
                                        <tr class="history-compare" data-testid=format!("history-row-{index}") title=entry.error.clone().unwrap_or_default()>
                                            <td>{clock_time(entry.at_ms)}</td>
                                            <td><span class="compare-badge" data-testid=format!("history-compare-{index}")>"compare"</span>" "{format!("{} ⇄ {}", entry.environment, mark.right_environment)}</td>
                                            <td><code>{format!("{} {}", entry.method, entry.path)}</code></td>
                                            <td><span class=status_class>{outcome(&entry)}</span>" / "{mark.right_status.map(|s| s.to_string()).unwrap_or_else(|| "error".into())}</td>
                                            <td title="type changed / removed / added / changed">{format!("{}·{}·{}·{}", c.type_changed, c.removed, c.added, c.changed)}</td>
                                            <td class="actions">
                                                <a class="small button" data-testid=format!("history-open-{index}") href=format!("/compare?history={id}")>"Open"</a>
                                                <button class="small remove" data-testid=format!("history-delete-{index}") title="Delete this run from your history" on:click=move |_| remove(id)>"Delete"</button>
                                            </td>
                                        </tr>
                                    }.into_any();
                                }
                                view! {
                                    <tr data-testid=format!("history-row-{index}") title=entry.error.clone().unwrap_or_default()>
                                        <td>{clock_time(entry.at_ms)}</td>
                                        <td>{entry.environment.clone()}</td>
                                        <td><code>{format!("{} {}", entry.method, entry.path)}</code></td>
                                        <td><span class=status_class>{outcome(&entry)}</span></td>
                                        <td>{entry.duration_ms.map(crate::format::duration_ms).unwrap_or_default()}</td>
                                        <td class="actions">
                                            <button class="small" data-testid=format!("history-open-{index}") on:click=move |_| fetch(id, on_open)>"Open"</button>
                                            <button class="small" data-testid=format!("history-rerun-{index}") on:click=move |_| fetch(id, on_rerun)>"Run again"</button>
                                            <button class="small remove" data-testid=format!("history-delete-{index}") title="Delete this run from your history" on:click=move |_| remove(id)>"Delete"</button>
                                        </td>
                                    </tr>
                                }.into_any()
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </div>
    }
}

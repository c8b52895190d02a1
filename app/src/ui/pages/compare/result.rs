//! A compare's result: per-side summary, counts, the side-by-side view (folded by the server, shown
//! a page of rows at a time), the change list, the headers diff and the exports.

use leptos::prelude::*;

use crate::format::{bytes, duration_ms};
use crate::wire::{BodyDiffMode, ChangeKind, CompareResult, CompareSide, DiffChange, DiffRow, HeaderChange, RowKind};

/// Rows rendered at first; "Show more" adds as many again.
const ROWS_PAGE: usize = 400;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    SideBySide,
    Changes,
    Headers,
}

fn kind_class(kind: RowKind) -> &'static str {
    match kind {
        RowKind::Same => "row-same",
        RowKind::Ignored => "row-ignored",
        RowKind::Collapsed => "row-collapsed",
        RowKind::Open => "row-open",
        RowKind::TypeChanged => "row-type-changed diff-hit",
        RowKind::Removed => "row-removed diff-hit",
        RowKind::Added => "row-added diff-hit",
        RowKind::Changed => "row-changed diff-hit",
    }
}

fn change_class(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::TypeChanged => "change-type-changed",
        ChangeKind::Removed => "change-removed",
        ChangeKind::Added => "change-added",
        ChangeKind::Changed => "change-changed",
    }
}

#[component]
fn SideSummary(side: CompareSide, which: &'static str) -> impl IntoView {
    let title = format!("{} · {}", if which == "left" { "Left" } else { "Right" }, side.environment);
    view! {
        <div class="compare-side" data-testid=format!("compare-summary-{which}")>
            <h3>{title}</h3>
            {match (side.response, side.error) {
                (Some(r), _) => {
                    let status_class = match r.status { 200..=299 => "status ok", 400..=499 => "status client-error", _ => "status server-error" };
                    view! {
                        <dl>
                            <dt>"Status"</dt><dd><span class=status_class data-testid=format!("compare-status-{which}")>{format!("{} {}", r.status, r.status_text)}</span></dd>
                            <dt>"Time"</dt><dd>{duration_ms(r.duration_ms)}</dd>
                            <dt>"Size"</dt><dd>{bytes(r.size_bytes)}{r.truncated.then_some(" (cut at the cap)")}</dd>
                            <dt>"Token"</dt><dd><code data-testid=format!("compare-token-{which}")>{r.token_fingerprint.unwrap_or_else(|| "none (public)".into())}</code></dd>
                        </dl>
                        {r.hint.map(|h| view! { <p class="hint">{h}</p> })}
                    }.into_any()
                }
                (None, error) => view! {
                    <p class="console-error" data-testid=format!("compare-side-error-{which}")>
                        {error.map(|e| e.to_string()).unwrap_or_else(|| "no response".into())}
                    </p>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
pub fn CompareResultView(result: CompareResult) -> impl IntoView {
    let tab = RwSignal::new(Tab::SideBySide);
    let only = RwSignal::new(None::<ChangeKind>);
    let body = result.body.clone();
    let counts = body.counts;
    let (left_env, right_env) = (result.left.environment.clone(), result.right.environment.clone());
    let rows = StoredValue::new(body.rows.clone());
    let changes = StoredValue::new(body.changes.clone());
    let headers = StoredValue::new(result.headers.clone());
    let rows_truncated = body.rows_truncated;
    let real_headers = result.headers.iter().filter(|h| !h.expected).count();
    let tab_button = move |which: Tab, id: &'static str, label: String| {
        view! {
            <button role="tab" class="tab" class:active=move || tab.get() == which data-testid=id on:click=move |_| tab.set(which)>{label}</button>
        }
    };
    view! {
        <section class="compare-result" aria-label="Compare result" data-testid="compare-result">
            <div class="compare-summary">
                <SideSummary side=result.left.clone() which="left" />
                <SideSummary side=result.right.clone() which="right" />
            </div>
            <Counts result=result.clone() tab only />
            {(!body.notices.is_empty()).then(|| view! {
                <ul class="compare-notices" data-testid="compare-notices">
                    {body.notices.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            })}
            <div class="tabs" role="tablist">
                {tab_button(Tab::SideBySide, "compare-tab-side", "Side by side".to_owned())}
                {tab_button(Tab::Changes, "compare-tab-changes", format!("Changes ({})", counts.total()))}
                {tab_button(Tab::Headers, "compare-tab-headers", format!("Headers ({real_headers})"))}
            </div>
            {move || match tab.get() {
                Tab::SideBySide => view! { <SideBySide rows left=left_env.clone() right=right_env.clone() truncated=rows_truncated /> }.into_any(),
                Tab::Changes => view! { <ChangeList changes only total=counts.total() /> }.into_any(),
                Tab::Headers => view! { <HeadersDiff headers /> }.into_any(),
            }}
        </section>
    }
    .into_any()
}

/// The change counts by kind (each a filter of the change list), what was ignored, and exports.
#[component]
fn Counts(result: CompareResult, tab: RwSignal<Tab>, only: RwSignal<Option<ChangeKind>>) -> impl IntoView {
    let body = &result.body;
    let counts = body.counts;
    let mode = match body.mode {
        BodyDiffMode::Json => "structural diff",
        BodyDiffMode::Shape => "shape only",
        BodyDiffMode::Text => "line diff (not JSON)",
        BodyDiffMode::None => "nothing to diff",
    };
    let name = |ext: &str| {
        let env = |s: &CompareSide| s.environment.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
        format!("compare-{}-vs-{}.{ext}", env(&result.left), env(&result.right))
    };
    let exports = result.exports.clone().map(|e| {
        let (json_name, md_name) = (name("json"), name("md"));
        view! {
            <div class="compare-exports">
                <a data-testid="export-json" href=format!("/api/bodies/{}?name={json_name}", e.json_id) download=json_name.clone()>"Export JSON"</a>
                <a data-testid="export-markdown" href=format!("/api/bodies/{}?name={md_name}", e.markdown_id) download=md_name.clone()>"Export Markdown"</a>
            </div>
        }
    });
    let chip = move |kind: ChangeKind, n: usize, id: &'static str| {
        view! {
            <button
                class=format!("count-chip {}", change_class(kind))
                class:active=move || only.get() == Some(kind)
                data-testid=format!("count-{id}")
                title="Show only these in the change list"
                on:click=move |_| {
                    only.update(|o| *o = if *o == Some(kind) { None } else { Some(kind) });
                    tab.set(Tab::Changes);
                }
            >
                <strong>{n}</strong>" "{kind.label()}
            </button>
        }
    };
    view! {
        <div class="compare-counts" data-testid="compare-counts">
            {chip(ChangeKind::TypeChanged, counts.type_changed, "type-changed")}
            {chip(ChangeKind::Removed, counts.removed, "removed")}
            {chip(ChangeKind::Added, counts.added, "added")}
            {chip(ChangeKind::Changed, counts.changed, "changed")}
            <span class="hint" data-testid="count-ignored">{format!("{} ignored · {mode} · {}", body.ignored, duration_ms(body.elapsed_ms))}</span>
            {exports}
        </div>
    }
}

/// The folded side-by-side rows, a page at a time.
#[component]
fn SideBySide(rows: StoredValue<Vec<DiffRow>>, left: String, right: String, truncated: bool) -> impl IntoView {
    let shown_rows = RwSignal::new(ROWS_PAGE);
    view! {
        <table class="diff-side-by-side" data-testid="diff-rows">
            <thead><tr><th>"Field"</th><th>{left}</th><th>{right}</th></tr></thead>
            <tbody>
                {move || rows.with_value(|all| all.iter().take(shown_rows.get()).map(|row| {
                    let indent = format!("padding-left: {}em", f32::from(row.depth.min(40)) * 1.1 + 0.3);
                    view! {
                        <tr class=kind_class(row.kind) title=row.path.clone() data-path=row.path.clone()>
                            <td class="diff-label" style=indent>{row.label.clone()}</td>
                            <td class="diff-left"><code>{row.left.clone().unwrap_or_default()}</code></td>
                            <td class="diff-right"><code>{row.right.clone().unwrap_or_default()}</code></td>
                        </tr>
                    }
                }).collect_view())}
            </tbody>
        </table>
        {move || {
            let total = rows.with_value(Vec::len);
            (shown_rows.get() < total).then(|| view! {
                <button class="small" data-testid="diff-more" on:click=move |_| shown_rows.update(|n| *n += ROWS_PAGE)>
                    {format!("Show more ({} of {total} rows shown)", shown_rows.get())}
                </button>
            })
        }}
        {truncated.then(|| view! { <p class="hint">"The view stops here; the change list and the exports have every change."</p> })}
    }
}

/// Every change (or those of one kind), with types shown where they differ.
#[component]
fn ChangeList(
    changes: StoredValue<Vec<DiffChange>>,
    only: RwSignal<Option<ChangeKind>>,
    total: usize,
) -> impl IntoView {
    let listed = changes.with_value(Vec::len);
    view! {
        <table class="diff-changes" data-testid="diff-changes">
            <thead><tr><th>"Kind"</th><th>"Path"</th><th>"Left"</th><th>"Right"</th></tr></thead>
            <tbody>
                {move || changes.with_value(|all| all.iter().filter(|c| only.get().is_none_or(|k| k == c.kind)).map(|c| {
                    let typed = |v: &Option<String>, t: &Option<String>| match (v, t) {
                        (Some(v), Some(t)) if c.kind == ChangeKind::TypeChanged && v != t => format!("{v}  ({t})"),
                        (Some(v), _) => v.clone(),
                        (None, _) => "—".into(),
                    };
                    view! {
                        <tr class=change_class(c.kind)>
                            <td><span class="change-kind">{c.kind.label()}</span></td>
                            <td><code class="change-path">{c.path.clone()}</code></td>
                            <td><code>{typed(&c.left, &c.left_type)}</code></td>
                            <td><code>{typed(&c.right, &c.right_type)}</code></td>
                        </tr>
                    }
                }).collect_view())}
            </tbody>
        </table>
        {(total > listed).then(|| view! {
            <p class="hint">{format!("The first {listed} of {total} changes are listed; the JSON export has them all.")}</p>
        })}
    }
}

#[component]
fn HeadersDiff(headers: StoredValue<Vec<HeaderChange>>) -> impl IntoView {
    view! {
        <table class="diff-headers" data-testid="diff-headers">
            <thead><tr><th>"Header"</th><th>"Left"</th><th>"Right"</th></tr></thead>
            <tbody>
                {headers.with_value(|all| all.iter().map(|h| view! {
                    <tr class=change_class(h.kind) class:expected=h.expected title=if h.expected { "differs on every request" } else { "" }>
                        <td><code>{h.name.clone()}</code></td>
                        <td><code>{h.left.clone().unwrap_or_else(|| "—".into())}</code></td>
                        <td><code>{h.right.clone().unwrap_or_else(|| "—".into())}</code></td>
                    </tr>
                }).collect_view())}
            </tbody>
        </table>
    }
}

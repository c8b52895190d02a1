//! The builder's tools under the response: history, saved requests, snippets and curl import.

use leptos::lazy;
use leptos::prelude::*;

use super::history::HistoryPanel;
use super::run::Runner;
use super::state::ConsoleState;
use crate::wire::{CurlImport, ExecuteRequest, HistoryDetail};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Snippets,
    History,
    Saved,
    Curl,
}

impl Tool {
    const ALL: [Self; 4] = [Self::History, Self::Saved, Self::Snippets, Self::Curl];

    fn label(self) -> &'static str {
        match self {
            Self::Snippets => "Snippets",
            Self::History => "History",
            Self::Saved => "Saved",
            Self::Curl => "Import curl",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Self::Snippets => "snippets",
            Self::History => "history",
            Self::Saved => "saved",
            Self::Curl => "curl",
        }
    }
}

#[component]
pub fn Tools(state: ConsoleState, runner: Runner) -> impl IntoView {
    let tool = RwSignal::new(Tool::History);
    let current_request = Signal::derive(move || state.request());
    let on_import = Callback::new(move |import: CurlImport| state.open_request(&import.request));
    let on_history_open = Callback::new(move |detail: HistoryDetail| state.show_history(detail));
    let on_history_rerun = Callback::new(move |detail: HistoryDetail| {
        state.open_request(&detail.request);
        runner.run();
    });
    let on_saved_open = Callback::new(move |request: ExecuteRequest| state.open_request(&request));
    let version = state.history_version;
    view! {
        <section class="tools" aria-label="Tools">
            <div class="tabs" role="tablist">
                {Tool::ALL.into_iter().map(|t| view! {
                    <button
                        role="tab"
                        class="tab"
                        class:active=move || tool.get() == t
                        data-testid=format!("tool-{}", t.id())
                        on:click=move |_| tool.set(t)
                    >
                        {t.label()}
                    </button>
                }).collect_view()}
            </div>
            // The panels load their data in the browser (local resources); rendering them on the
            // server would hold the page's suspense open forever.
            {move || if !state.hydrated.get() {
                view! { <p class="hint">"Loading…"</p> }.into_any()
            } else { match tool.get() {
                Tool::Snippets => on_use(snippets_view(current_request)),
                Tool::History => view! { <HistoryPanel version=version.into() on_open=on_history_open on_rerun=on_history_rerun /> }.into_any(),
                Tool::Saved => on_use(saved_view(current_request, on_saved_open)),
                Tool::Curl => on_use(curl_import_view(on_import)),
            }}}
        </section>
    }
}

// History is the tab shown first; the other panels are WASM chunks of their own, fetched on the
// first click on their tab. They are rendered only after hydration, so never on the server.
fn on_use(panel: impl std::future::Future<Output = AnyView> + Send + 'static) -> AnyView {
    view! {
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {Suspend::new(panel)}
        </Suspense>
    }
    .into_any()
}

#[lazy]
fn snippets_view(request: Signal<ExecuteRequest>) -> AnyView {
    view! { <super::snippets::SnippetsPanel request /> }.into_any()
}

#[lazy]
fn saved_view(current: Signal<ExecuteRequest>, on_open: Callback<ExecuteRequest>) -> AnyView {
    view! { <super::saved::SavedPanel current on_open /> }.into_any()
}

#[lazy]
fn curl_import_view(on_import: Callback<CurlImport>) -> AnyView {
    view! { <super::curl_import::CurlImportPanel on_import /> }.into_any()
}

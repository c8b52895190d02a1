//! The builder's tools under the response: history, saved requests, snippets and curl import.

use leptos::prelude::*;

use super::curl_import::CurlImportPanel;
use super::history::HistoryPanel;
use super::run::Runner;
use super::saved::SavedPanel;
use super::snippets::SnippetsPanel;
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
                Tool::Snippets => view! { <SnippetsPanel request=current_request /> }.into_any(),
                Tool::History => view! { <HistoryPanel version=version.into() on_open=on_history_open on_rerun=on_history_rerun /> }.into_any(),
                Tool::Saved => view! { <SavedPanel current=current_request on_open=on_saved_open /> }.into_any(),
                Tool::Curl => view! { <CurlImportPanel on_import /> }.into_any(),
            }}}
        </section>
    }
}

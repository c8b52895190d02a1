//! Sending the form: values the API will refuse are shown first, writes to an environment that
//! confirms them wait for the typed id, and Ctrl+Enter runs from anywhere on the page.

use leptos::ev;
use leptos::prelude::*;

use super::state::ConsoleState;
use crate::api::{cancel_run, run_request, RunRequest};
use crate::ui::parts::clock::{window_listener_while_mounted, BrowserClock};
use crate::wire::ExecuteRequest;

/// A run waits this long before it offers Cancel: most answers come sooner.
const OFFER_CANCEL_AFTER_MS: f64 = 500.0;

#[derive(Clone, Copy)]
pub struct Runner {
    action: ServerAction<RunRequest>,
    /// Problems found in the form; non-empty while staff decide whether to send anyway.
    pub blocked: RwSignal<Vec<String>>,
    /// A write waiting until the environment id is typed (the server checks too).
    pub confirming: RwSignal<Option<ExecuteRequest>>,
    /// The run in flight: its id (to cancel it) and the browser time it was sent.
    current: RwSignal<Option<(String, f64)>>,
    cancelling: RwSignal<bool>,
    state: ConsoleState,
}

/// 128 random bits as hex: the id the server files this run under, for this staff member only.
fn new_run_id() -> String {
    let part = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("{:08x}{:08x}{:08x}{:08x}", part(), part(), part(), part())
}

impl Runner {
    /// Creates the runner and routes every answer into the page's state.
    pub fn new(state: ConsoleState) -> Self {
        let action = ServerAction::<RunRequest>::new();
        Effect::new(move |_| state.show_run(action.value().get()));
        // Keep the import used on both builds; the server function is called through `RunRequest`.
        let _ = run_request;
        let runner = Self {
            action,
            blocked: RwSignal::new(Vec::new()),
            confirming: RwSignal::new(None),
            current: RwSignal::new(None),
            cancelling: RwSignal::new(false),
            state,
        };
        Effect::new(move |_| {
            if !action.pending().get() {
                runner.current.set(None);
                runner.cancelling.set(false);
            }
        });
        window_listener_while_mounted(ev::keydown, move |event| {
            if (event.ctrl_key() || event.meta_key()) && event.key() == "Enter" {
                event.prevent_default();
                runner.run();
            }
        });
        runner
    }

    pub fn pending(self) -> Signal<bool> {
        self.action.pending().into()
    }

    /// Run: check the form, then send (or ask to confirm a guarded write).
    pub fn run(self) {
        if self.action.pending().get_untracked() || self.confirming.get_untracked().is_some() {
            return;
        }
        // Values the API will refuse are shown first; staff may still send them on purpose.
        let problems = self.state.draft.problems();
        if problems.is_empty() {
            self.send();
        } else {
            self.blocked.set(problems);
        }
    }

    /// Sends what the form holds, problems or not.
    pub fn send(self) {
        self.blocked.set(Vec::new());
        let request = self.state.draft.to_request(self.state.environment.get_untracked());
        let is_write = !matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        if is_write && self.state.current_env().is_some_and(|e| e.guard.confirm_writes) {
            self.confirming.set(Some(request));
        } else {
            self.dispatch(request);
        }
    }

    /// Sends a request as it is (a confirmed write).
    pub fn dispatch(self, request: ExecuteRequest) {
        let run_id = new_run_id();
        self.current.set(Some((run_id.clone(), js_sys::Date::now())));
        self.action.dispatch(RunRequest { request, run_id: Some(run_id) });
    }

    /// Asks the server to drop the run in flight (and its upstream request).
    pub fn cancel(self) {
        let Some((run_id, _)) = self.current.get_untracked() else { return };
        self.cancelling.set(true);
        leptos::task::spawn_local(async move {
            // The run itself then answers `Cancelled`; if it ended first, there is nothing to do.
            let _ = cancel_run(run_id).await;
        });
    }
}

/// While a run waits for the API: how long so far, and Cancel.
#[component]
pub fn RunStatus(runner: Runner) -> impl IntoView {
    let clock = use_context::<BrowserClock>();
    let waited = move || {
        let (_, sent) = runner.current.get()?;
        let now = clock.and_then(|c| c.0.get())?;
        Some((now - sent).max(0.0))
    };
    move || {
        waited().filter(|ms| *ms >= OFFER_CANCEL_AFTER_MS).map(|ms| {
            view! {
                <div class="run-status" role="status" data-testid="run-status">
                    <span data-testid="run-elapsed">{format!("Waiting for the API… {:.1} s", ms / 1000.0)}</span>
                    <button class="small" data-testid="run-cancel" disabled=move || runner.cancelling.get()
                        on:click=move |_| runner.cancel()>
                        {move || if runner.cancelling.get() { "Cancelling…" } else { "Cancel" }}
                    </button>
                </div>
            }
        })
    }
}

/// The list of problems found before sending, with "Send anyway" and "Fix it first".
#[component]
pub fn RunProblems(runner: Runner) -> impl IntoView {
    move || {
        let problems = runner.blocked.get();
        (!problems.is_empty()).then(|| {
            view! {
                <div class="run-problems" role="alert" data-testid="run-problems">
                    <p>"The API will probably refuse this request:"</p>
                    <ul>{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    <button class="small" data-testid="send-anyway" on:click=move |_| runner.send()>"Send anyway"</button>
                    <button class="small" data-testid="send-cancel" on:click=move |_| runner.blocked.set(Vec::new())>"Fix it first"</button>
                </div>
            }
        })
    }
}

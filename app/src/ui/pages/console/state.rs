//! What the console page holds: environments, the catalog, the form, the token shown in the badge
//! and the response on screen, in one `Copy` struct its parts share.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::get_token_status;
use crate::ui::parts::clock::{repeat_while_mounted, BrowserClock};
use crate::ui::parts::link;
use crate::ui::parts::request::RequestDraft;
use crate::ui::parts::token_badge::SyncedToken;
use crate::wire::{
    Catalog, ConsoleError, Endpoint, EnvironmentKind, EnvironmentView, ExecuteRequest, ExecuteResponse, HistoryDetail,
    Preferences, TokenView,
};

/// What the response panel shows: the last run, or a run opened from history.
pub type Shown = Option<Result<ExecuteResponse, ConsoleError>>;

#[derive(Clone, Copy)]
pub struct ConsoleState {
    pub environments: StoredValue<Vec<EnvironmentView>>,
    /// The id of the environment requests go to.
    pub environment: RwSignal<String>,
    pub catalog: RwSignal<Catalog>,
    /// The endpoint highlighted in the catalog; always the one in the form.
    pub selected: RwSignal<Option<Endpoint>>,
    pub draft: RequestDraft,
    pub shown: RwSignal<Shown>,
    /// Set when `shown` came from history rather than from a run just made.
    pub shown_from: RwSignal<Option<String>>,
    /// Bumped after every run, so the history panel reloads.
    pub history_version: RwSignal<u32>,
    pub token: RwSignal<Option<SyncedToken>>,
    /// Tests (and people) can tell a live page from server-rendered HTML by this flag.
    pub hydrated: RwSignal<bool>,
    clock: BrowserClock,
}

impl ConsoleState {
    pub fn new(environments: Vec<EnvironmentView>, catalog: Catalog, clock: BrowserClock) -> Self {
        let hydrated = RwSignal::new(false);
        Effect::new(move |_| hydrated.set(true));
        let first = environments.first().map(|e| e.id.clone()).unwrap_or_default();
        Self {
            environments: StoredValue::new(environments),
            environment: RwSignal::new(first),
            catalog: RwSignal::new(catalog),
            selected: RwSignal::new(None),
            draft: RequestDraft::new(),
            shown: RwSignal::new(None),
            shown_from: RwSignal::new(None),
            history_version: RwSignal::new(0),
            token: RwSignal::new(None),
            hydrated,
            clock,
        }
    }

    pub fn knows_environment(self, id: &str) -> bool {
        self.environments.with_value(|all| all.iter().any(|e| e.id == id))
    }

    /// The chosen environment (tracked).
    pub fn current_env(self) -> Option<EnvironmentView> {
        let id = self.environment.get();
        self.environments.with_value(|all| all.iter().find(|e| e.id == id).cloned())
    }

    pub fn is_production(self) -> bool {
        self.current_env().is_some_and(|e| e.kind == EnvironmentKind::Production)
    }

    fn find_endpoint(self, id: &str) -> Option<Endpoint> {
        self.catalog.with_untracked(|c| c.endpoints.iter().find(|e| e.id == id).cloned())
    }

    /// Loads an endpoint's defaults into the form.
    pub fn select(self, endpoint: Endpoint) {
        self.draft.load(&endpoint);
        self.selected.set(Some(endpoint));
    }

    /// Puts a whole request into the form (link, curl import, history, saved); never sends it.
    pub fn open_request(self, request: &ExecuteRequest) {
        if self.knows_environment(&request.environment) {
            self.environment.set(request.environment.clone());
        }
        let endpoint = request.endpoint_id.as_deref().and_then(|id| self.find_endpoint(id));
        self.draft.apply(request, endpoint.as_ref());
        self.selected.set(endpoint);
    }

    /// The request the form describes now (tracked).
    pub fn request(self) -> ExecuteRequest {
        self.draft.tracked_request(self.environment.get())
    }

    /// The first form of the visit. A link wins (even one naming only an environment); a bare
    /// address restores the environment and endpoint this staff member used last, except that a
    /// visit never starts on production; a first visit starts on a safe read that answers at once.
    pub fn start_from_address(self, preferences: Preferences) {
        let (link_environment, link_request) = use_query_map().with_untracked(|query| {
            (query.get("env"), link::from_query(query.into_iter().map(|(k, v)| (k.as_ref(), v))))
        });
        match (link_environment, link_request) {
            (_, Some(request)) => self.open_request(&request),
            (Some(env), None) => {
                if self.knows_environment(&env) {
                    self.environment.set(env);
                }
            }
            (None, None) => {
                let restorable = |id: &String| {
                    self.environments
                        .with_value(|all| all.iter().any(|e| e.id == *id && e.kind != EnvironmentKind::Production))
                };
                if let Some(env) = preferences.last_environment.filter(restorable) {
                    self.environment.set(env);
                }
                let first_visit = || self.catalog.with_untracked(|c| first_screen_endpoint(&c.endpoints));
                let remembered = preferences.last_endpoint.as_deref().and_then(|id| self.find_endpoint(id));
                if let Some(endpoint) = remembered.or_else(first_visit) {
                    self.select(endpoint);
                }
            }
        }
    }

    /// Keeps the address bar in step with the form, so copying it shares the request.
    pub fn mirror_in_address_bar(self) {
        Effect::new(move |_| {
            let request = self.request();
            let url = if request.path.is_empty() {
                format!("?env={}", link::encode_component(&request.environment))
            } else {
                format!("?{}", link::to_query(&request))
            };
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        });
    }

    /// Shows token metadata in the badge, stamped with the browser time it arrived.
    pub fn sync_token(self, view: TokenView) {
        let received_at_ms = self.clock.0.get_untracked().unwrap_or(0.0);
        self.token.set(Some(SyncedToken { view, received_at_ms }));
    }

    /// Re-reads the token metadata when the environment changes, and every 30 s so the badge
    /// never drifts.
    pub fn watch_token(self) {
        let resync = RwSignal::new(0u32);
        let token_meta =
            crate::codec::load(move || (self.environment.get(), resync.get()), |(env, _)| get_token_status(env));
        Effect::new(move |_| {
            if let Some(Ok(view)) = token_meta.get() {
                self.sync_token(view);
            }
        });
        repeat_while_mounted(std::time::Duration::from_secs(30), move || resync.update(|n| *n += 1));
    }

    /// Shows the answer of a run just made.
    pub fn show_run(self, value: Shown) {
        if let Some(Ok(response)) = &value {
            if let Some(view) = response.token.clone() {
                self.sync_token(view);
            }
        }
        if value.is_some() {
            self.shown.set(value);
            self.shown_from.set(None);
            self.history_version.update(|v| *v += 1);
        }
    }

    /// Opens a run from history: its request in the form, its answer in the panel; nothing is sent.
    pub fn show_history(self, detail: HistoryDetail) {
        self.open_request(&detail.request);
        self.shown_from.set(Some(format!("Run #{} from history: nothing was sent now.", detail.entry.id)));
        self.shown.set(Some(match (detail.response, detail.entry.error) {
            (Some(response), _) => Ok(response),
            (None, error) => Err(ConsoleError::Internal(error.unwrap_or_else(|| "no response was recorded".into()))),
        }));
    }
}

/// The endpoint a first visit starts on: listing wallets (a read that needs no parameter), else
/// listing charges, else the first read-only operation of the catalog.
pub fn first_screen_endpoint(endpoints: &[Endpoint]) -> Option<Endpoint> {
    let by_id = |id: &str| endpoints.iter().find(|e| e.id == id && e.method.eq_ignore_ascii_case("GET"));
    by_id("listWallets")
        .or_else(|| by_id("listCharges"))
        .or_else(|| endpoints.iter().find(|e| e.method.eq_ignore_ascii_case("GET")))
        .cloned()
}

//! What the Compare page holds: the two environments, the shared form and its per-side overrides,
//! the diff options, and the answer; with the actions that run, re-diff and reopen a compare.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::link::{self, CompareLink, Override};
use crate::api::{get_compare_settings, get_history_entry, rediff_compare, run_compare};
use crate::ui::parts::request::RequestDraft;
use crate::wire::{
    compare_endpoint_key, Catalog, CompareRequest, CompareResult, DiffOptions, Endpoint, EnvironmentKind,
    EnvironmentView, ExecuteRequest, RediffRequest, DEFAULT_IGNORE_RULES,
};

/// One side of the compare: its environment, its overrides of shared parameters (keyed by
/// location and name) and the environment id typed to confirm a write there.
#[derive(Clone, Copy)]
pub struct Side {
    pub env: RwSignal<String>,
    pub overrides: RwSignal<Vec<Override>>,
    pub confirm: RwSignal<String>,
}

impl Side {
    fn new(env: String) -> Self {
        Self { env: RwSignal::new(env), overrides: RwSignal::new(Vec::new()), confirm: RwSignal::new(String::new()) }
    }
}

/// How the answers are diffed, as the options form shows it.
#[derive(Clone, Copy)]
pub struct DiffSettings {
    pub shape_only: RwSignal<bool>,
    pub array_key: RwSignal<String>,
    /// Ignore rules, one JSONPath per line.
    pub rules_text: RwSignal<String>,
    /// Where the options came from (remembered or defaults).
    pub note: RwSignal<Option<String>>,
}

impl DiffSettings {
    fn options(self) -> DiffOptions {
        DiffOptions {
            shape_only: self.shape_only.get_untracked(),
            array_key: Some(self.array_key.get_untracked().trim().to_owned()).filter(|k| !k.is_empty()),
            ignore: parse_rules(&self.rules_text.get_untracked()),
        }
    }

    fn show(self, options: &DiffOptions) {
        self.shape_only.set(options.shape_only);
        self.array_key.set(options.array_key.clone().unwrap_or_default());
        self.rules_text.set(options.ignore.join("\n"));
    }
}

#[derive(Clone, Copy)]
pub struct CompareState {
    pub environments: StoredValue<Vec<EnvironmentView>>,
    pub left: Side,
    pub right: Side,
    catalog: StoredValue<Catalog>,
    pub selected: RwSignal<Option<Endpoint>>,
    pub draft: RequestDraft,
    pub settings: DiffSettings,
    pub result: RwSignal<Option<CompareResult>>,
    pub error: RwSignal<Option<String>>,
    pub pending: RwSignal<bool>,
    pub rediffing: RwSignal<bool>,
    /// Set while the result shown was opened from history (nothing was sent).
    pub from_history: RwSignal<Option<i64>>,
    pub hydrated: RwSignal<bool>,
}

impl CompareState {
    pub fn new(environments: Vec<EnvironmentView>, catalog: Catalog) -> Self {
        let hydrated = RwSignal::new(false);
        Effect::new(move |_| hydrated.set(true));
        let (left, right) = default_pair(&environments);
        Self {
            environments: StoredValue::new(environments),
            left: Side::new(left),
            right: Side::new(right),
            catalog: StoredValue::new(catalog),
            selected: RwSignal::new(None),
            draft: RequestDraft::new(),
            settings: DiffSettings {
                shape_only: RwSignal::new(false),
                array_key: RwSignal::new(String::new()),
                rules_text: RwSignal::new(DEFAULT_IGNORE_RULES.join("\n")),
                note: RwSignal::new(None),
            },
            result: RwSignal::new(None),
            error: RwSignal::new(None),
            pending: RwSignal::new(false),
            rediffing: RwSignal::new(false),
            from_history: RwSignal::new(None),
            hydrated,
        }
    }

    pub fn endpoints(self) -> Vec<Endpoint> {
        self.catalog.with_value(|c| c.endpoints.clone())
    }

    fn known(self, id: &str) -> bool {
        self.environments.with_value(|all| all.iter().any(|e| e.id == id))
    }

    pub fn env_view(self, id: &str) -> Option<EnvironmentView> {
        self.environments.with_value(|all| all.iter().find(|e| e.id == id).cloned())
    }

    /// Whether the form is a write and `env` asks for writes to be confirmed (tracked).
    pub fn needs_confirm(self, env: &str) -> bool {
        is_write(&self.draft.method.get()) && self.env_view(env).is_some_and(|e| e.guard.confirm_writes)
    }

    /// Loads an endpoint's defaults into the form, clears the overrides, and (in the browser)
    /// fetches the options remembered for it.
    pub fn select(self, endpoint: Endpoint) {
        self.draft.load(&endpoint);
        self.left.overrides.set(Vec::new());
        self.right.overrides.set(Vec::new());
        if self.hydrated.get_untracked() {
            self.load_settings(endpoint.id.clone(), false);
        }
        self.selected.set(Some(endpoint));
    }

    pub fn open_request(self, request: &ExecuteRequest) {
        let find = |id: &str| self.catalog.with_value(|c| c.endpoints.iter().find(|e| e.id == id).cloned());
        let endpoint = request.endpoint_id.as_deref().and_then(find);
        self.draft.apply(request, endpoint.as_ref());
        self.selected.set(endpoint);
    }

    /// Fetches the options remembered for `endpoint` (ignore rules always; shape and array key
    /// unless a link already set them).
    pub fn load_settings(self, endpoint: String, keep_link_options: bool) {
        let settings = self.settings;
        leptos::task::spawn_local(async move {
            if let Ok(found) = get_compare_settings(endpoint).await {
                settings.rules_text.set(found.options.ignore.join("\n"));
                if !keep_link_options {
                    settings.shape_only.set(found.options.shape_only);
                    settings.array_key.set(found.options.array_key.unwrap_or_default());
                }
                settings.note.set(Some(if found.remembered {
                    "Options remembered from your last compare of this endpoint.".to_owned()
                } else {
                    "Default ignore rules: ids, timestamps and request ids.".to_owned()
                }));
            }
        });
    }

    /// A link (or a history entry) fills the form; a bare visit starts empty on the default pair.
    pub fn start_from_address(self) {
        let link =
            use_query_map().with_untracked(|query| link::from_query(query.into_iter().map(|(k, v)| (k.as_ref(), v))));
        for (side, id) in [(self.left, &link.left), (self.right, &link.right)] {
            if let Some(id) = id.clone().filter(|id| self.known(id)) {
                side.env.set(id);
            }
        }
        if let Some(request) = &link.request {
            self.open_request(request);
        }
        self.left.overrides.set(link.left_overrides.clone());
        self.right.overrides.set(link.right_overrides.clone());
        self.settings.shape_only.set(link.shape_only);
        self.settings.array_key.set(link.array_key.clone().unwrap_or_default());
        let link_endpoint = link.request.as_ref().map(compare_endpoint_key);
        let history_id = link.history;
        Effect::new(move |_| {
            // Browser only: remembered options for the linked endpoint, or the history entry.
            if let Some(endpoint) = link_endpoint.clone() {
                self.load_settings(endpoint, true);
            }
            if let Some(id) = history_id {
                self.open_history(id);
            }
        });
    }

    fn open_history(self, id: i64) {
        leptos::task::spawn_local(async move {
            match get_history_entry(id).await {
                Ok(detail) => match detail.compare {
                    Some(stored) => {
                        self.open_request(&detail.request);
                        self.left.env.set(stored.left.environment.clone());
                        self.right.env.set(stored.right.environment.clone());
                        self.settings.show(&stored.options);
                        self.from_history.set(Some(id));
                        self.result.set(Some(stored));
                    }
                    None => self.error.set(Some(format!("history entry {id} is not a compare"))),
                },
                Err(e) => self.error.set(Some(e.to_string())),
            }
        });
    }

    /// The address bar follows the form, so copying it shares the compare.
    pub fn mirror_in_address_bar(self) {
        Effect::new(move |_| {
            let compare = CompareLink {
                left: Some(self.left.env.get()),
                right: Some(self.right.env.get()),
                request: Some(self.draft.tracked_request(String::new())),
                left_overrides: self.left.overrides.get(),
                right_overrides: self.right.overrides.get(),
                array_key: Some(self.settings.array_key.get()),
                shape_only: self.settings.shape_only.get(),
                history: None,
            };
            let url = format!("?{}", link::to_query(&compare));
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        });
    }

    /// The compare the form describes now: shared parameters merged with each side's overrides.
    pub fn request(self) -> Result<CompareRequest, String> {
        let shared = self.draft.to_request(String::new());
        if shared.path.trim().is_empty() {
            return Err("Pick an endpoint (or type a path) first.".to_owned());
        }
        let side_request = |side: Side| {
            let mut request = link::side_request(&shared, &side.env.get_untracked(), &side.overrides.get_untracked());
            request.confirm = Some(side.confirm.get_untracked().trim().to_owned()).filter(|t| !t.is_empty());
            request
        };
        Ok(CompareRequest {
            left: side_request(self.left),
            right: side_request(self.right),
            options: self.settings.options(),
        })
    }

    /// Sends the request to both sides and shows the diff.
    pub fn run(self) {
        if self.pending.get_untracked() {
            return;
        }
        let request = match self.request() {
            Ok(request) => request,
            Err(problem) => {
                self.error.set(Some(problem));
                return;
            }
        };
        self.pending.set(true);
        self.error.set(None);
        self.from_history.set(None);
        leptos::task::spawn_local(async move {
            match run_compare(request).await {
                Ok(answer) => {
                    self.result.set(Some(answer));
                    self.left.confirm.set(String::new());
                    self.right.confirm.set(String::new());
                    self.settings.note.set(Some("Options remembered for this endpoint.".to_owned()));
                }
                Err(e) => self.error.set(Some(e.to_string())),
            }
            self.pending.set(false);
        });
    }

    /// New options re-diff the answers already on the server; nothing is sent again.
    pub fn rediff(self) {
        let Some(current) = self.result.get_untracked() else { return };
        if self.from_history.get_untracked().is_some() {
            return;
        }
        let shared = self.draft.to_request(String::new());
        let request = RediffRequest {
            left: current.left.clone(),
            right: current.right.clone(),
            options: self.settings.options(),
            endpoint: compare_endpoint_key(&shared),
            method: shared.method.clone(),
            path: shared.path.clone(),
        };
        self.rediffing.set(true);
        leptos::task::spawn_local(async move {
            match rediff_compare(request).await {
                Ok(answer) => {
                    self.error.set(None);
                    self.result.set(Some(answer));
                }
                Err(e) => self.error.set(Some(e.to_string())),
            }
            self.rediffing.set(false);
        });
    }

    /// Swaps the environments and their overrides.
    pub fn swap(self) {
        let (l, r) = (self.left.env.get_untracked(), self.right.env.get_untracked());
        self.left.env.set(r);
        self.right.env.set(l);
        let (lo, ro) = (self.left.overrides.get_untracked(), self.right.overrides.get_untracked());
        self.left.overrides.set(ro);
        self.right.overrides.set(lo);
    }
}

/// The default pair: a sandbox-like environment against a production one when both exist.
pub fn default_pair(environments: &[EnvironmentView]) -> (String, String) {
    let first = |kind: EnvironmentKind| environments.iter().find(|e| e.kind == kind).map(|e| e.id.clone());
    let safe = first(EnvironmentKind::Sandbox).or_else(|| first(EnvironmentKind::Simulator));
    let production = first(EnvironmentKind::Production);
    let any = |skip: Option<&String>| environments.iter().map(|e| e.id.clone()).find(|id| Some(id) != skip);
    let left = safe.or_else(|| any(None)).unwrap_or_default();
    let right = production.filter(|p| *p != left).or_else(|| any(Some(&left))).unwrap_or_else(|| left.clone());
    (left, right)
}

fn is_write(method: &str) -> bool {
    !matches!(method.trim().to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")
}

pub fn parse_rules(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

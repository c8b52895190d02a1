//! The seam between server functions (in this crate) and the server's services (in `server`).
//!
//! `app` must not depend on `server`, so the server implements these traits and hands them to every
//! server function through Leptos context. Who is calling comes from the request: the server's
//! staff-access middleware resolves the session into a [`Caller`] and stores it in the request's
//! extensions, before any server function runs.

use std::sync::Arc;

use crate::wire::{AddToSuite, ParityBadge, ParityRun, ParitySuite, ParitySuiteView, SpecDriftView};
use crate::wire::{
    AuditFilter, AuditRecord, Catalog, ConsoleError, CurlImport, EnvironmentView, ExecuteRequest, ExecuteResponse,
    HistoryDetail, HistoryEntry, JsonPathAnswer, LoginOptions, Preferences, Role, SaveRequest, SavedRequest, Snippet,
    StaffView, TokenDetails, TokenView,
};
use crate::wire::{CompareRequest, CompareResult, CompareSettings, RediffRequest};
use crate::wire::{DemoView, RevealedSecret};

/// The authenticated staff member behind one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    /// Per-environment overrides from config: `None` means no access to that environment.
    pub environment_roles: Vec<(String, Option<Role>)>,
    pub local: bool,
    /// Hash of the login id, to group one session's audit rows (never the session cookie).
    pub session: Option<String>,
    /// The client address the request came from.
    pub address: Option<String>,
    /// Demo mode as read once for this request, when it lives in a store replicas share (Redis);
    /// `None` when the server keeps it in process and asks there.
    pub demo: Option<bool>,
}

impl Caller {
    /// The role that applies in `environment`, after the config's per-environment override.
    pub fn role_in(&self, environment: &str) -> Option<Role> {
        self.environment_roles.iter().find(|(id, _)| id == environment).map_or(Some(self.role), |(_, role)| *role)
    }

    pub fn view(&self) -> StaffView {
        StaffView { name: self.name.clone(), role: self.role, local: self.local }
    }
}

/// Environments, the endpoint catalog, and running one request.
#[async_trait::async_trait]
pub trait ExecuteBackend: Send + Sync + 'static {
    /// The environments `caller` may see, with the guard rails that apply to them.
    fn environments(&self, caller: &Caller) -> Vec<EnvironmentView>;
    fn catalog(&self) -> Catalog;
    /// Fetches an environment's live spec again; answers the catalog with its new status.
    async fn refresh_live_spec(&self, caller: &Caller, environment: &str) -> Result<Catalog, ConsoleError>;
    async fn execute(&self, caller: &Caller, request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError>;
    /// `execute`, which the same staff member may cancel by `run_id` while it waits for the API.
    async fn execute_run(
        &self,
        caller: &Caller,
        request: ExecuteRequest,
        run_id: Option<String>,
    ) -> Result<ExecuteResponse, ConsoleError>;
    /// Stops the caller's run `run_id`: its upstream request is dropped, the run answers
    /// `Cancelled` and is audited. False when no such run is in flight.
    async fn cancel_run(&self, caller: &Caller, run_id: &str) -> Result<bool, ConsoleError>;
    /// Runs an RFC 9535 JSONPath query over a stored response body.
    async fn jsonpath(&self, caller: &Caller, body_id: &str, expression: &str) -> Result<JsonPathAnswer, ConsoleError>;
}

/// The shared access tokens, seen as metadata only.
#[async_trait::async_trait]
pub trait TokenBackend: Send + Sync + 'static {
    /// Metadata of the cached token; never triggers a token request.
    async fn token_status(&self, caller: &Caller, environment: &str) -> Result<TokenView, ConsoleError>;
    /// The token page's view of one environment; never triggers a token request.
    async fn token_details(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError>;
    /// Requests a new token now (single-flight), then returns the details.
    async fn refresh_token(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError>;
    /// Drops the cached token; the next request that needs one fetches it.
    async fn forget_token(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError>;
}

/// The request builder's tools. History and preferences belong to the caller (keyed by
/// `caller.name`); saved requests are shared by all staff.
#[async_trait::async_trait]
pub trait BuilderBackend: Send + Sync + 'static {
    /// Parses a curl command against the environments `caller` may see.
    fn import_curl(&self, caller: &Caller, command: &str) -> Result<CurlImport, ConsoleError>;
    fn snippets(&self, caller: &Caller, request: &ExecuteRequest) -> Result<Vec<Snippet>, ConsoleError>;
    /// Records a finished run in the caller's history; a storage failure is logged, never shown as the run's.
    async fn record_run(
        &self,
        caller: &Caller,
        request: &ExecuteRequest,
        outcome: &Result<ExecuteResponse, ConsoleError>,
    );
    async fn history(&self, caller: &Caller, limit: u32) -> Result<Vec<HistoryEntry>, ConsoleError>;
    async fn history_entry(&self, caller: &Caller, id: i64) -> Result<HistoryDetail, ConsoleError>;
    /// Deletes one of the caller's runs.
    async fn delete_history_entry(&self, caller: &Caller, id: i64) -> Result<(), ConsoleError>;
    /// Deletes every run of `staff` (the caller when `None`); another member's history needs an
    /// admin. Answers how many runs went.
    async fn clear_history(&self, caller: &Caller, staff: Option<String>) -> Result<u64, ConsoleError>;
    async fn preferences(&self, caller: &Caller) -> Result<Preferences, ConsoleError>;
    /// Remembers the caller's theme: `light`, `dark`, or `None` for the system setting.
    async fn set_theme(&self, caller: &Caller, theme: Option<String>) -> Result<(), ConsoleError>;
    async fn saved_requests(&self, caller: &Caller) -> Result<Vec<SavedRequest>, ConsoleError>;
    async fn save_request(&self, caller: &Caller, request: SaveRequest) -> Result<SavedRequest, ConsoleError>;
    /// Deletes a saved request: its owner or an admin only.
    async fn delete_saved_request(&self, caller: &Caller, id: i64) -> Result<(), ConsoleError>;
}

/// Demo mode and reveals (the masking itself happens in `execute` and wherever data is shown again).
#[async_trait::async_trait]
pub trait MaskingBackend: Send + Sync + 'static {
    /// Demo mode for the caller's session.
    fn demo_mode(&self, caller: &Caller) -> DemoView;
    /// Switches demo mode for the caller's session (refused when the instance forces it on).
    async fn set_demo_mode(&self, caller: &Caller, enabled: bool) -> Result<DemoView, ConsoleError>;
    /// The original of one masked secret: admins only, never in demo mode, audited.
    async fn reveal(&self, caller: &Caller, reveal_id: &str) -> Result<RevealedSecret, ConsoleError>;
}

/// One request to two environments, diffed.
#[async_trait::async_trait]
pub trait CompareBackend: Send + Sync + 'static {
    /// Sends one request to two environments concurrently (each through `execute`), diffs the
    /// answers and records the compare in the caller's history.
    async fn compare(&self, caller: &Caller, request: CompareRequest) -> Result<CompareResult, ConsoleError>;
    /// Diffs the stored answers of an earlier compare again with other options; sends nothing.
    async fn rediff(&self, caller: &Caller, request: RediffRequest) -> Result<CompareResult, ConsoleError>;
    /// The options the caller last compared `endpoint` with, or the defaults.
    async fn compare_settings(&self, caller: &Caller, endpoint: &str) -> Result<CompareSettings, ConsoleError>;
}

/// Parity watch: suites of read-only compares run together, their kept runs and baselines.
#[async_trait::async_trait]
pub trait ParityBackend: Send + Sync + 'static {
    /// Every suite (configured and saved) with its last run and baseline.
    async fn parity_suites(&self, caller: &Caller) -> Result<Vec<ParitySuiteView>, ConsoleError>;
    /// Adds one read-only compare to a saved suite, creating the suite if needed.
    async fn add_to_suite(&self, caller: &Caller, request: AddToSuite) -> Result<ParitySuite, ConsoleError>;
    /// Removes a compare from a saved suite; the suite goes (answer `None`) with its last compare.
    async fn remove_from_suite(
        &self,
        caller: &Caller,
        suite: &str,
        compare: &str,
    ) -> Result<Option<ParitySuite>, ConsoleError>;
    /// Sets (with `interval_mins`) or stops a saved suite's schedule.
    async fn schedule_suite(
        &self,
        caller: &Caller,
        suite: &str,
        interval_mins: Option<u64>,
        jitter_secs: u64,
    ) -> Result<ParitySuiteView, ConsoleError>;
    /// Deletes a saved suite with its baseline and kept runs.
    async fn delete_suite(&self, caller: &Caller, suite: &str) -> Result<(), ConsoleError>;
    /// Runs every compare of a suite now (each side through `execute`), keeps and answers the run.
    async fn run_suite(&self, caller: &Caller, suite: &str) -> Result<ParityRun, ConsoleError>;
    /// One kept run, for drill-down.
    async fn parity_run(&self, caller: &Caller, id: i64) -> Result<ParityRun, ConsoleError>;
    /// Accepts every difference of run `run_id` as the suite's known differences.
    async fn accept_baseline(&self, caller: &Caller, run_id: i64) -> Result<ParitySuiteView, ConsoleError>;
    /// Suites whose last run found new drift.
    async fn parity_badge(&self, caller: &Caller) -> Result<ParityBadge, ConsoleError>;
    /// Two environments' live OpenAPI documents fetched now and compared with each other and with
    /// the bundled catalog.
    async fn spec_drift(&self, caller: &Caller, left: &str, right: &str) -> Result<SpecDriftView, ConsoleError>;
}

/// Everything the console's pages use besides staff access: one object may serve every part.
pub trait ConsoleBackend:
    ExecuteBackend + TokenBackend + BuilderBackend + MaskingBackend + CompareBackend + ParityBackend
{
}

impl<T: ExecuteBackend + TokenBackend + BuilderBackend + MaskingBackend + CompareBackend + ParityBackend> ConsoleBackend
    for T
{
}

/// Logins, logouts and the audit trail.
#[async_trait::async_trait]
pub trait StaffBackend: Send + Sync + 'static {
    /// Checks the password, cycles the session id and starts a session for `name`.
    async fn login(&self, name: String, password: String) -> Result<StaffView, ConsoleError>;
    /// Ends the current session on the server and clears its cookie.
    async fn logout(&self) -> Result<(), ConsoleError>;
    /// How staff may sign in (shown before anyone is signed in).
    fn login_options(&self) -> LoginOptions;
    /// Newest first; admins only.
    async fn audit(&self, caller: &Caller, filter: AuditFilter) -> Result<Vec<AuditRecord>, ConsoleError>;
}

pub type SharedBackend = Arc<dyn ConsoleBackend>;
pub type SharedStaff = Arc<dyn StaffBackend>;

/// The backend provided to this request, or an internal error when the router was built without one.
fn backend() -> Result<SharedBackend, ConsoleError> {
    leptos::prelude::use_context::<SharedBackend>()
        .ok_or_else(|| ConsoleError::Internal("the console backend is not configured".into()))
}

fn staff() -> Result<SharedStaff, ConsoleError> {
    leptos::prelude::use_context::<SharedStaff>()
        .ok_or_else(|| ConsoleError::Internal("staff access is not configured".into()))
}

/// How staff may sign in, read at once while the server renders the login page; `None` when the
/// router was built without staff access.
pub fn login_options() -> Option<LoginOptions> {
    staff().ok().map(|staff| staff.login_options())
}

/// The staff member behind this request, as resolved by the server's middleware.
fn caller() -> Result<Caller, ConsoleError> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .ok_or_else(|| ConsoleError::Unauthenticated("log in to use the console".into()))
}

/// Sets the HTTP status of a failed server-function call from the error itself.
fn answer<T>(result: Result<T, ConsoleError>) -> Result<T, ConsoleError> {
    if let Err(error) = &result {
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status_code()) {
                options.set_status(status);
            }
        }
    }
    result
}

/// The body of every server function that acts for the logged-in caller: who is calling, the
/// backend, the call, and the error's status on the response.
pub async fn serve<T, F, Fut>(call: F) -> Result<T, ConsoleError>
where
    F: FnOnce(Caller, SharedBackend) -> Fut,
    Fut: std::future::Future<Output = Result<T, ConsoleError>>,
{
    let prepared = caller().and_then(|caller| Ok((caller, backend()?)));
    answer(match prepared {
        Ok((caller, backend)) => call(caller, backend).await,
        Err(error) => Err(error),
    })
}

/// Like [`serve`], for staff access (login, logout, audit); before login there is no caller yet.
pub async fn serve_staff<T, F, Fut>(call: F) -> Result<T, ConsoleError>
where
    F: FnOnce(Result<Caller, ConsoleError>, SharedStaff) -> Fut,
    Fut: std::future::Future<Output = Result<T, ConsoleError>>,
{
    answer(match staff() {
        Ok(staff) => call(caller(), staff).await,
        Err(error) => Err(error),
    })
}

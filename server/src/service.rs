//! The console's backend: resolves environments, gets tokens, sends requests and shapes the answers.
//! Server functions reach it through the backend ports `app::backend` defines; each port's
//! implementation lives in its own module below.

mod builder;
mod compare;
mod execute;
mod masking;
mod parity;
mod runs;
mod spec_drift;
mod token;

use std::sync::Arc;

use app::backend::Caller;
use app::wire::{Catalog, ConsoleError, ExecuteRequest, JsonDocument, Role, TokenView};

use crate::access;
use crate::audit::{AuditEvent, AuditLog};
use crate::bodies::{BodyStore, StoredBody};
use crate::catalog::live::CatalogStore;
use crate::clock::SharedClock;
pub use crate::environment::LiveEnvironment;
use crate::expiring::shared::Unavailable;
use crate::history::HistoryStore;
use crate::masking::state::Masking;
use crate::masking::{self as mask, Found, Policy};
use crate::saved::SavedStore;
use crate::token::TokenBroker;

pub struct ConsoleService {
    environments: Vec<LiveEnvironment>,
    catalog: Arc<CatalogStore>,
    broker: Arc<TokenBroker>,
    audit: AuditLog,
    storage: Option<(Arc<HistoryStore>, Arc<SavedStore>)>,
    bodies: Arc<BodyStore>,
    masking: Arc<Masking>,
    clock: SharedClock,
    runs: runs::Runs,
    parity: Option<Arc<crate::parity::Parity>>,
}

/// Bodies larger than this are masked on a blocking thread, off the async workers.
const BLOCKING_MASK_BYTES: usize = 1 << 20;

impl ConsoleService {
    pub fn new(
        environments: Vec<LiveEnvironment>,
        catalog: Catalog,
        broker: Arc<TokenBroker>,
        audit: AuditLog,
        bodies: Arc<BodyStore>,
        clock: SharedClock,
    ) -> Self {
        let catalog = Arc::new(CatalogStore::new(catalog));
        for env in &environments {
            if let Some(path) = &env.config.live_spec {
                catalog.add_live(&env.config.id, path);
            }
        }
        let masking = Arc::new(Masking::in_memory(crate::masking::MaskingSettings::default(), clock.clone()));
        Self {
            environments,
            catalog,
            broker,
            audit,
            storage: None,
            bodies,
            masking,
            clock,
            runs: runs::Runs::default(),
            parity: None,
        }
    }

    /// What the stores hold now, for `/metrics` (in Redis: every replica's together; zero when
    /// Redis does not answer, which its error counter shows).
    pub async fn gauges(&self) -> crate::metrics::Gauges {
        crate::metrics::Gauges {
            body_store: self.bodies.usage().await.unwrap_or_default(),
            reveal_vault: self.masking.vault.usage().await.unwrap_or_default(),
            runs_in_flight: self.runs.in_flight(),
            pending_sign_ins: 0,
            history_queue: self.storage.as_ref().map_or(0, |(history, _)| history.queued_bytes()),
        }
    }

    /// Uses the configured masking (settings, persisted demo mode, reveal vault).
    pub fn with_masking(mut self, masking: Arc<Masking>) -> Self {
        self.masking = masking;
        self
    }

    /// Adds history and saved requests (both in the console's database).
    pub fn with_storage(mut self, history: Arc<HistoryStore>, saved: Arc<SavedStore>) -> Self {
        self.storage = Some((history, saved));
        self
    }

    /// Adds the parity watch (suites, kept runs, baselines, the request budget).
    pub fn with_parity(mut self, parity: Arc<crate::parity::Parity>) -> Self {
        self.parity = Some(parity);
        self
    }

    /// Fetches every environment's live spec once (at start-up, in the background).
    pub async fn load_live_specs(&self) {
        let fetches =
            self.environments.iter().filter(|env| env.config.live_spec.is_some()).map(|env| self.catalog.refresh(env));
        futures::future::join_all(fetches).await;
    }

    pub(crate) fn history_store(&self) -> Result<&HistoryStore, ConsoleError> {
        self.storage
            .as_ref()
            .map(|(h, _)| h.as_ref())
            .ok_or_else(|| ConsoleError::Internal("history is not set up".into()))
    }

    pub(crate) fn saved_store(&self) -> Result<&SavedStore, ConsoleError> {
        self.storage
            .as_ref()
            .map(|(_, s)| s.as_ref())
            .ok_or_else(|| ConsoleError::Internal("saved requests are not set up".into()))
    }

    /// The catalog operation a request names, if method and path match it: the browser's endpoint
    /// id is a hint, so it can neither skip the token for another path nor make the log name the
    /// wrong path.
    fn matching_endpoint(&self, request: &ExecuteRequest) -> Option<app::wire::Endpoint> {
        let method = request.method.trim();
        request
            .endpoint_id
            .as_deref()
            .and_then(|id| self.catalog.find(id))
            .filter(|e| e.path == request.path && e.method.eq_ignore_ascii_case(method))
    }

    /// The environment, if `caller` may see it; hidden ones read as unknown, like ids that do not exist.
    /// Demo mode refuses protected environments with a reason, rather than pretending they do not exist.
    fn environment(&self, caller: &Caller, id: &str) -> Result<&LiveEnvironment, ConsoleError> {
        let env = self
            .environments
            .iter()
            .find(|e| e.config.id == id && access::can_see(caller.role_in(id), e.config.kind))
            .ok_or_else(|| ConsoleError::UnknownEnvironment(id.to_owned()))?;
        if self.masking.hides(caller, env.config.kind) {
            return Err(ConsoleError::Forbidden(format!(
                "{} is hidden in demo mode: production environments cannot be used while demo mode is on",
                env.config.label
            )));
        }
        Ok(env)
    }

    /// Masks a response body for `caller`; large bodies on a blocking thread.
    async fn mask_body(&self, body: Vec<u8>, demo: bool) -> (Vec<u8>, Found) {
        if body.len() <= BLOCKING_MASK_BYTES {
            let policy = Policy { personal: demo, settings: &self.masking.settings };
            return mask::mask_body(&body, policy).unwrap_or((body, Found::default()));
        }
        let state = self.masking.clone();
        let work = move || {
            let policy = Policy { personal: demo, settings: &state.settings };
            mask::mask_body(&body, policy).unwrap_or((body, Found::default()))
        };
        // If the blocking task cannot run, nothing unmasked may go on: answer an empty body.
        tokio::task::spawn_blocking(work).await.unwrap_or_default()
    }

    /// Token metadata for a shared screen in demo mode.
    fn token_view_for(&self, caller: &Caller, mut view: TokenView) -> TokenView {
        if self.masking.demo.is_on(caller) {
            view.claims = view.claims.as_ref().map(|claims| JsonDocument(mask::mask_claims(claims)));
        }
        view
    }

    /// Records what `caller` was answered (on PostgreSQL, committed before the answer goes out).
    async fn record(&self, caller: &Caller, event: AuditEvent) {
        self.audit.record(Self::by(caller, event)).await;
    }

    /// Records a refusal from code that cannot wait: queued, committed with the next batch.
    fn record_queued(&self, caller: &Caller, event: AuditEvent) {
        self.audit.queue(Self::by(caller, event));
    }

    fn by(caller: &Caller, event: AuditEvent) -> AuditEvent {
        AuditEvent {
            actor: caller.name.clone(),
            address: caller.address.clone(),
            session: caller.session.clone(),
            ..event
        }
    }
}

impl ConsoleService {
    /// Whether demo mode hides environment `id` from `caller` (unknown ids are not hidden: they are gone).
    fn hidden_in_demo(&self, caller: &Caller, id: &str) -> bool {
        self.environments.iter().find(|e| e.config.id == id).is_some_and(|e| self.masking.hides(caller, e.config.kind))
    }

    /// A stored body as `caller` may see it now: masked for demo mode if it was stored outside it.
    pub async fn body_for_display(&self, caller: &Caller, mut body: StoredBody) -> StoredBody {
        if self.masking.demo.is_on(caller) && !body.demo_masked {
            let (bytes, _) = self.mask_body(body.bytes.to_vec(), true).await;
            body.bytes = bytes::Bytes::from(bytes);
            body.demo_masked = true;
        }
        body
    }

    /// The stored body behind `GET /api/bodies/{id}`, for its owner only.
    pub async fn stored_body(&self, caller: &Caller, id: &str) -> Result<Option<StoredBody>, Unavailable> {
        let Some(body) = self.bodies.get(id, &caller.name).await? else { return Ok(None) };
        Ok(Some(self.body_for_display(caller, body).await))
    }

    /// The environment, if `caller` may refresh or forget its shared token: every staff member's
    /// requests use that token, so viewers may look but not act.
    fn token_manager(&self, caller: &Caller, id: &str, action: &str) -> Result<&LiveEnvironment, ConsoleError> {
        let env = self.environment(caller, id)?;
        match caller.role_in(id) {
            Some(Role::Operator | Role::Admin) => Ok(env),
            _ => Err(ConsoleError::Forbidden(format!(
                "you may see the token of {} but not {action} it: that needs the operator or admin role",
                env.config.label
            ))),
        }
    }
}

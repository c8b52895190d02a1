//! The console's backend: resolves environments, gets tokens, sends requests and shapes the answers.
//! Server functions reach it through the `ConsoleBackend` trait object in Leptos context.

use std::sync::Arc;
use std::time::Instant;

use app::backend::{Caller, ConsoleBackend};
use app::wire::{
    Catalog, ConsoleError, CurlImport, EnvironmentView, ExecuteRequest, ExecuteResponse, HistoryDetail, HistoryEntry,
    JsonPathAnswer, Preferences, Role, SaveRequest, SavedRequest, Snippet, TokenDetails, TokenView, INLINE_BODY_LIMIT,
};
use app::wire::{CompareRequest, CompareResult, CompareSettings, RediffRequest};
use app::wire::{DemoView, RevealedSecret};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use url::Url;

use crate::access;
use crate::audit::{AuditEvent, AuditLog};
use crate::bodies::{replace_bytes, BodyStore, StoredBody};
use crate::catalog::live::CatalogStore;
use crate::config::Environment;
use crate::error::to_console;
use crate::history::HistoryStore;
use crate::masking::state::Masking;
use crate::masking::{self, Found, Policy};
use crate::saved::SavedStore;
use crate::token::{Renewal, TokenBroker, TokenSource};
use crate::upstream::{self, path::build_url, Inbound, Outbound};

mod compare;

/// Largest request body staff may send (a55 requests are small; this bounds memory).
const MAX_REQUEST_BODY: usize = 5_000_000;

/// An environment ready to use: validated config plus its resolved endpoints and token source.
pub struct LiveEnvironment {
    pub config: Environment,
    pub api_base: Url,
    pub token: TokenSource,
    pub http: reqwest::Client,
}

impl LiveEnvironment {
    fn view(&self, caller: &Caller) -> EnvironmentView {
        EnvironmentView {
            guard: access::guard_view(caller.role_in(&self.config.id), &self.config),
            id: self.config.id.clone(),
            label: self.config.label.clone(),
            kind: self.config.kind,
            colour: self.config.colour.clone(),
            api_base: self.api_base.to_string(),
        }
    }
}

pub struct ConsoleService {
    environments: Vec<LiveEnvironment>,
    catalog: Arc<CatalogStore>,
    broker: Arc<TokenBroker>,
    audit: AuditLog,
    storage: Option<(Arc<HistoryStore>, Arc<SavedStore>)>,
    /// Fingerprint of the last token each environment was seen using, to record refreshes.
    last_token: std::sync::Mutex<std::collections::HashMap<String, String>>,
    bodies: Arc<BodyStore>,
    masking: Arc<Masking>,
}

/// Bodies larger than this are masked on a blocking thread, off the async workers.
const BLOCKING_MASK_BYTES: usize = 1 << 20;

/// What replaces an access token the upstream echoed back.
const TOKEN_REMOVED: &str = "[access token removed by the console]";

impl ConsoleService {
    pub fn new(
        environments: Vec<LiveEnvironment>,
        catalog: Catalog,
        broker: Arc<TokenBroker>,
        audit: AuditLog,
        bodies: Arc<BodyStore>,
    ) -> Self {
        let catalog = Arc::new(CatalogStore::new(catalog));
        for env in &environments {
            if let Some(path) = &env.config.live_spec {
                catalog.add_live(&env.config.id, path);
            }
        }
        let masking = Arc::new(Masking::in_memory(
            crate::masking::MaskingSettings::default(),
            Arc::new(crate::clock::SystemClock),
        ));
        Self { environments, catalog, broker, audit, storage: None, last_token: Default::default(), bodies, masking }
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

    /// Fetches every environment's live spec once (at start-up, in the background).
    pub async fn load_live_specs(&self) {
        let fetches =
            self.environments.iter().filter(|env| env.config.live_spec.is_some()).map(|env| self.catalog.refresh(env));
        futures::future::join_all(fetches).await;
    }

    fn history_store(&self) -> Result<&HistoryStore, ConsoleError> {
        self.storage
            .as_ref()
            .map(|(h, _)| h.as_ref())
            .ok_or_else(|| ConsoleError::Internal("history is not set up".into()))
    }

    fn saved_store(&self) -> Result<&SavedStore, ConsoleError> {
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
            return masking::mask_body(&body, policy).unwrap_or((body, Found::default()));
        }
        let state = self.masking.clone();
        let work = move || {
            let policy = Policy { personal: demo, settings: &state.settings };
            masking::mask_body(&body, policy).unwrap_or((body, Found::default()))
        };
        // If the blocking task cannot run, nothing unmasked may go on: answer an empty body.
        tokio::task::spawn_blocking(work).await.unwrap_or_default()
    }

    /// Token metadata for a shared screen in demo mode.
    fn token_view_for(&self, caller: &Caller, mut view: TokenView) -> TokenView {
        if self.masking.demo.is_on(caller) {
            view.claims = view.claims.as_ref().map(masking::mask_claims);
        }
        view
    }

    fn record(&self, caller: &Caller, event: AuditEvent) {
        self.audit.record(AuditEvent {
            actor: caller.name.clone(),
            address: caller.address.clone(),
            session: caller.session.clone(),
            ..event
        });
    }

    /// Records a token change the first time a request uses a new token.
    fn note_token(&self, caller: &Caller, environment: &str, fingerprint: &str) {
        let Ok(mut seen) = self.last_token.lock() else { return };
        if seen.get(environment).map(String::as_str) != Some(fingerprint) {
            seen.insert(environment.to_owned(), fingerprint.to_owned());
            drop(seen);
            self.record(
                caller,
                AuditEvent {
                    event: "token_refresh",
                    environment: Some(environment.to_owned()),
                    outcome: "ok",
                    detail: Some(format!("token {fingerprint} in use")),
                    ..AuditEvent::default()
                },
            );
        }
    }
}

#[async_trait::async_trait]
impl ConsoleBackend for ConsoleService {
    fn environments(&self, caller: &Caller) -> Vec<EnvironmentView> {
        self.environments
            .iter()
            .filter(|e| access::can_see(caller.role_in(&e.config.id), e.config.kind))
            .filter(|e| !self.masking.hides(caller, e.config.kind))
            .map(|e| e.view(caller))
            .collect()
    }

    fn catalog(&self) -> Catalog {
        self.catalog.snapshot()
    }

    async fn token_status(&self, caller: &Caller, environment: &str) -> Result<TokenView, ConsoleError> {
        Ok(self.token_view_for(caller, self.broker.view(&self.environment(caller, environment)?.token)))
    }

    async fn token_details(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError> {
        let mut details = self.broker.details(&self.environment(caller, environment)?.token);
        details.token = self.token_view_for(caller, details.token);
        if self.masking.demo.is_on(caller) {
            details.client_id = masking::pii::keep_last_characters(&details.client_id, 4);
        }
        Ok(details)
    }

    async fn refresh_token(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError> {
        let env = self.token_manager(caller, environment, "refresh")?;
        let result = self.broker.refresh_now(&env.token).await.map_err(to_console);
        self.record(
            caller,
            AuditEvent {
                event: "token_refresh",
                environment: Some(env.config.id.clone()),
                outcome: if result.is_ok() { "ok" } else { "error" },
                detail: Some(match &result {
                    Ok(token) => format!("refresh requested on the token page: token {} in use", token.fingerprint),
                    Err(error) => format!("refresh requested on the token page failed: {error}"),
                }),
                ..AuditEvent::default()
            },
        );
        result?;
        Ok(self.broker.details(&env.token))
    }

    async fn forget_token(&self, caller: &Caller, environment: &str) -> Result<TokenDetails, ConsoleError> {
        let env = self.token_manager(caller, environment, "forget")?;
        self.broker.forget(&env.token);
        tracing::info!(staff = %caller.name, environment = %env.config.id, "cached token forgotten on request");
        self.record(
            caller,
            AuditEvent {
                event: "token_forget",
                environment: Some(env.config.id.clone()),
                outcome: "ok",
                ..AuditEvent::default()
            },
        );
        Ok(self.broker.details(&env.token))
    }

    async fn execute(&self, caller: &Caller, request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError> {
        let env = self.environment(caller, &request.environment)?;
        let method = upstream::parse_method(&request.method).map_err(to_console)?;
        let endpoint = self.matching_endpoint(&request);
        let endpoint = endpoint.as_ref();
        let template = endpoint.map_or(request.path.as_str(), |e| e.path.as_str()).to_owned();
        let audit_base = AuditEvent {
            event: "request",
            environment: Some(env.config.id.clone()),
            method: Some(method.to_string()),
            path_template: Some(template.clone()),
            ..AuditEvent::default()
        };
        // Guard rails first: a refused request never fetches a token or reaches the network.
        if let Err(refusal) =
            access::check(caller.role_in(&env.config.id), &env.config, method.as_str(), request.confirm.as_deref())
        {
            tracing::warn!(staff = %caller.name, environment = %env.config.id, %method, path = %template, reason = %refusal, "request refused by guard rails");
            self.record(
                caller,
                AuditEvent { event: "refused", outcome: "refused", detail: Some(refusal.to_string()), ..audit_base },
            );
            return Err(refusal);
        }
        // Raw paths go to the authenticated API, so they get a token unless the catalog says otherwise.
        let needs_token = endpoint.is_none_or(|e| e.needs_token);
        let url = build_url(&env.api_base, &request.path, &request.path_params, &request.query).map_err(to_console)?;
        let mut headers = upstream::request_headers(&request.headers).map_err(to_console)?;
        let body = match request.body {
            Some(body) if body.len() > MAX_REQUEST_BODY => {
                return Err(ConsoleError::InvalidRequest(format!(
                    "the body is {} bytes; the console sends at most {MAX_REQUEST_BODY}",
                    body.len()
                )))
            }
            Some(body) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                Some(bytes::Bytes::from(body))
            }
            None => None,
        };
        let mut token = if needs_token {
            match self.broker.token(&env.token).await {
                Ok(token) => Some(token),
                Err(error) => {
                    let error = to_console(error);
                    self.record(
                        caller,
                        AuditEvent { outcome: "error", detail: Some(error.to_string()), ..audit_base.clone() },
                    );
                    return Err(error);
                }
            }
        } else {
            None
        };
        if let Some(token) = &token {
            self.note_token(caller, &env.config.id, &token.fingerprint);
        }

        let started = Instant::now();
        let display_url = url.to_string();
        let concrete_path = url.path().to_owned();
        let replayable = is_replayable(&method, &headers);
        let sent_body = body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        let mut outbound = Outbound {
            environment: env.config.id.clone(),
            method: method.clone(),
            url,
            headers,
            body,
            bearer: token.as_ref().map(|t| t.expose().to_owned()),
            bearer_fingerprint: token.as_ref().map(|t| t.fingerprint.clone()),
            timeout: env.config.timeouts.request,
            max_response_bytes: env.config.max_response_bytes,
        };
        let elapsed_ms = |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let audit_failure = |error: &ConsoleError| {
            self.record(
                caller,
                AuditEvent {
                    path: Some(concrete_path.clone()),
                    duration_ms: Some(elapsed_ms(started)),
                    outcome: "error",
                    detail: Some(error.to_string()),
                    ..audit_base.clone()
                },
            );
        };
        let mut inbound = self.send(caller, env, &template, outbound.clone()).await.inspect_err(audit_failure)?;
        let mut hint = None;
        let mut retried = false;
        if let (401, Some(rejected)) = (inbound.status, token.clone()) {
            match self.broker.renew_after_unauthorized(&env.token, &rejected.fingerprint).await {
                Ok(Renewal::Renewed(renewed)) if replayable => {
                    // Safe to send again: the method is read-only or the request carries an Idempotency-Key.
                    self.note_token(caller, &env.config.id, &renewed.fingerprint);
                    outbound.bearer = Some(renewed.expose().to_owned());
                    outbound.bearer_fingerprint = Some(renewed.fingerprint.clone());
                    token = Some(renewed);
                    self.broker.metrics().upstream_retry(&env.config.id);
                    inbound = self.send(caller, env, &template, outbound).await.inspect_err(audit_failure)?;
                    retried = true;
                    if inbound.status == 401 {
                        hint = Some(REJECTED_FRESH_TOKEN.to_owned());
                    }
                }
                Ok(Renewal::Renewed(_)) => {
                    hint = Some(format!(
                        "token was refreshed, send again: the API answered 401, so the console got a new token, but it \
                         does not re-send a {method} on its own (it may have been applied); add an Idempotency-Key \
                         header to let the console retry such requests once"
                    ));
                }
                Ok(Renewal::Limited { retry_in }) => {
                    hint = Some(format!(
                        "{REJECTED_FRESH_TOKEN} (the console refreshes after a 401 at most once every {} s; next \
                         forced refresh possible in {} s)",
                        self.broker.settings().forced_refresh_interval.as_secs(),
                        retry_in.as_secs().max(1)
                    ));
                }
                Err(error) => {
                    hint = Some(format!("the API rejected the token and no new one could be obtained: {error}"));
                }
            }
        }
        self.record(
            caller,
            AuditEvent {
                path: Some(concrete_path),
                status: Some(inbound.status),
                duration_ms: Some(elapsed_ms(started)),
                outcome: "ok",
                detail: retried.then(|| "re-sent once after a 401 and a forced token refresh".to_owned()),
                ..audit_base
            },
        );
        tracing::info!(
            staff = %caller.name,
            environment = %env.config.id,
            %method,
            path = %template,
            status = inbound.status,
            retried,
            duration_ms = started.elapsed().as_millis() as u64,
            bytes = inbound.received_bytes,
            "upstream request"
        );

        if let Some(token) = &token {
            // An upstream that echoes the request must not hand the token to the browser: in the
            // body (every path it takes: inline, stored, downloaded) nor in a header.
            let secret = token.expose().as_bytes();
            if let Some(clean) = replace_bytes(&inbound.body, secret, TOKEN_REMOVED.as_bytes()) {
                inbound.body = clean;
            }
            for (_, value) in &mut inbound.headers {
                if value.contains(token.expose()) {
                    *value = value.replace(token.expose(), TOKEN_REMOVED);
                }
            }
        }
        // Masking, before the body is stored, recorded in history or sent: secrets always, personal
        // data in demo mode (see ARCHITECTURE.md, Masking).
        let policy = self.masking.policy(caller);
        let demo = policy.personal;
        let (masked_body, mut found) = self.mask_body(std::mem::take(&mut inbound.body), demo).await;
        inbound.body = masked_body;
        for (name, value) in &mut inbound.headers {
            if let Some((masked, more)) = masking::mask_header(name, value, policy) {
                *value = masked;
                found.merge(more);
            }
        }
        let mut display_url = display_url;
        let mut sent_body = sent_body;
        if demo {
            if let Some(url) = masking::mask_url(&display_url, policy) {
                display_url = url;
            }
            if let Some(sent) = &sent_body {
                if let Some((bytes, _)) = masking::mask_body(sent.as_bytes(), policy) {
                    sent_body = Some(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            // The Authorization record is a fingerprint already; every other header is scanned.
            for (name, value) in &mut inbound.sent_headers {
                if !name.eq_ignore_ascii_case("authorization") {
                    if let Some((masked, _)) = masking::mask_header(name, value, policy) {
                        *value = masked;
                    }
                }
            }
        }
        let masking_report = self.masking.report(caller, &env.config.id, found, demo);
        let header = |name: &str| inbound.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let kept_bytes = inbound.body.len() as u64;
        let inline =
            (inbound.body.len() <= INLINE_BODY_LIMIT).then(|| std::str::from_utf8(&inbound.body).ok()).flatten();
        let (text, body_inline) = match inline {
            Some(text) => (text.to_owned(), true),
            None => (String::new(), false),
        };
        let body_id = if inbound.body.is_empty() {
            None
        } else {
            let stored = StoredBody {
                bytes: bytes::Bytes::from(std::mem::take(&mut inbound.body)),
                content_type: header("content-type"),
                owner: caller.name.clone(),
                demo_masked: demo,
            };
            let id = self.bodies.insert(stored);
            if id.is_none() && !body_inline {
                return Err(ConsoleError::Internal("the response body is larger than the body store".into()));
            }
            id
        };
        Ok(ExecuteResponse {
            status: inbound.status,
            status_text: http::StatusCode::from_u16(inbound.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_owned(),
            method: method.to_string(),
            url: display_url,
            duration_ms: inbound.total.as_secs_f64() * 1000.0,
            ttfb_ms: inbound.ttfb.as_secs_f64() * 1000.0,
            size_bytes: inbound.received_bytes,
            content_type: header("content-type"),
            upstream_request_id: header("x-request-id").or_else(|| header("x-amzn-requestid")),
            headers: inbound.headers,
            body: text,
            truncated: inbound.truncated,
            token_fingerprint: token.as_ref().map(|t| t.fingerprint.clone()),
            token: needs_token.then(|| self.token_view_for(caller, self.broker.view(&env.token))),
            body_id,
            body_inline,
            kept_bytes,
            wire_bytes: inbound.wire_bytes,
            content_encoding: inbound.decoded_from,
            max_response_bytes: env.config.max_response_bytes as u64,
            sent_headers: inbound.sent_headers,
            sent_body,
            hint,
            retried,
            masking: masking_report,
        })
    }

    async fn jsonpath(&self, caller: &Caller, body_id: &str, expression: &str) -> Result<JsonPathAnswer, ConsoleError> {
        // Expression errors come first and cost nothing; only then is the body needed.
        crate::jsonpath::parse(expression).map_err(to_console)?;
        let body = self.bodies.get(body_id, &caller.name).ok_or_else(|| {
            ConsoleError::NotFound("this response is no longer kept on the server; run the request again".into())
        })?;
        let expression = expression.to_owned();
        let body = self.body_for_display(caller, body).await;
        // Parsing a 20 MB document takes a while: keep it off the async workers.
        tokio::task::spawn_blocking(move || crate::jsonpath::evaluate(&body.bytes, &expression))
            .await
            .map_err(|_| ConsoleError::Internal("the JSONPath evaluation stopped unexpectedly".into()))?
            .map_err(to_console)
    }

    async fn refresh_live_spec(&self, caller: &Caller, environment: &str) -> Result<Catalog, ConsoleError> {
        let env = self.environment(caller, environment)?;
        if self.catalog.live_path(environment).is_none() {
            return Err(ConsoleError::InvalidRequest(format!(
                "{environment} has no live spec: set live_spec = true for it in the configuration"
            )));
        }
        self.catalog.refresh(env).await;
        Ok(self.catalog.snapshot())
    }

    fn import_curl(&self, caller: &Caller, command: &str) -> Result<CurlImport, ConsoleError> {
        // Only environments the caller may see can match: a hidden one reads as an unknown host.
        let known: Vec<crate::curl::KnownEnvironment> = self
            .environments
            .iter()
            .filter(|e| access::can_see(caller.role_in(&e.config.id), e.config.kind))
            .filter(|e| !self.masking.hides(caller, e.config.kind))
            .map(|e| crate::curl::KnownEnvironment { id: e.config.id.clone(), api_base: e.api_base.clone() })
            .collect();
        crate::curl::import(command, &known, &self.catalog.snapshot().endpoints).map_err(to_console)
    }

    fn snippets(&self, caller: &Caller, request: &ExecuteRequest) -> Result<Vec<Snippet>, ConsoleError> {
        let env = self.environment(caller, &request.environment)?;
        upstream::parse_method(&request.method).map_err(to_console)?;
        upstream::request_headers(&request.headers).map_err(to_console)?;
        let target = crate::snippets::SnippetTarget {
            api_base: &env.api_base,
            token_url: &env.token.token_url,
            client_auth: env.token.auth,
            scope: env.token.scope.as_deref(),
            needs_token: self.matching_endpoint(request).is_none_or(|e| e.needs_token),
        };
        let policy = self.masking.policy(caller);
        if policy.personal {
            // Snippets are for sharing: in demo mode they carry the masked values.
            return crate::snippets::snippets(&target, &masking::mask_request(request, policy)).map_err(to_console);
        }
        crate::snippets::snippets(&target, request).map_err(to_console)
    }

    async fn record_run(
        &self,
        caller: &Caller,
        request: &ExecuteRequest,
        outcome: &Result<ExecuteResponse, ConsoleError>,
    ) {
        let Ok(history) = self.history_store() else { return };
        if let Err(error) = history.record(&caller.name, request, outcome).await {
            tracing::warn!(%error, "run not recorded in history");
        }
    }

    async fn history(&self, caller: &Caller, limit: u32) -> Result<Vec<HistoryEntry>, ConsoleError> {
        let mut entries = self.history_store()?.list(&caller.name, limit).await?;
        if self.masking.demo.is_on(caller) {
            entries.retain(|entry| !self.hidden_in_demo(caller, &entry.environment));
        }
        Ok(entries)
    }

    async fn history_entry(&self, caller: &Caller, id: i64) -> Result<HistoryDetail, ConsoleError> {
        let mut detail = self.history_store()?.get(&caller.name, id).await?;
        let policy = self.masking.policy(caller);
        if policy.personal {
            if self.hidden_in_demo(caller, &detail.entry.environment) {
                return Err(ConsoleError::Forbidden(
                    "this run went to a production environment, which demo mode hides".into(),
                ));
            }
            detail.request = masking::mask_request(&detail.request, policy);
            detail.response = detail.response.map(|response| self.masking.for_display(caller, response));
        }
        Ok(detail)
    }

    async fn preferences(&self, caller: &Caller) -> Result<Preferences, ConsoleError> {
        self.history_store()?.preferences(&caller.name).await
    }

    async fn saved_requests(&self, caller: &Caller) -> Result<Vec<SavedRequest>, ConsoleError> {
        let mut saved = self.saved_store()?.list().await?;
        let policy = self.masking.policy(caller);
        if policy.personal {
            saved.retain(|s| !self.hidden_in_demo(caller, &s.request.environment));
            for s in &mut saved {
                s.request = masking::mask_request(&s.request, policy);
            }
        }
        Ok(saved)
    }

    async fn save_request(&self, caller: &Caller, request: SaveRequest) -> Result<SavedRequest, ConsoleError> {
        self.environment(caller, &request.request.environment)?;
        self.saved_store()?.save(&caller.name, request).await
    }

    async fn delete_saved_request(&self, _caller: &Caller, id: i64) -> Result<(), ConsoleError> {
        self.saved_store()?.delete(id).await
    }

    fn demo_mode(&self, caller: &Caller) -> DemoView {
        self.masking.demo.view(caller)
    }

    async fn set_demo_mode(&self, caller: &Caller, enabled: bool) -> Result<DemoView, ConsoleError> {
        let result = self.masking.demo.set(caller, enabled).await;
        self.record(
            caller,
            AuditEvent {
                event: "demo_mode",
                outcome: if result.is_ok() { "ok" } else { "refused" },
                detail: Some(match &result {
                    Ok(_) => format!("demo mode switched {}", if enabled { "on" } else { "off" }),
                    Err(error) => error.to_string(),
                }),
                ..AuditEvent::default()
            },
        );
        result
    }

    async fn reveal(&self, caller: &Caller, reveal_id: &str) -> Result<RevealedSecret, ConsoleError> {
        let result = self.masking.reveal(caller, reveal_id);
        self.record(
            caller,
            AuditEvent {
                event: "reveal",
                outcome: match &result {
                    Ok(_) => "ok",
                    Err(ConsoleError::Forbidden(_)) => "refused",
                    Err(_) => "error",
                },
                // Where the value was, never the value.
                detail: Some(match &result {
                    Ok(kept) => format!("revealed the masked value at {}", kept.location),
                    Err(error) => error.to_string(),
                }),
                ..AuditEvent::default()
            },
        );
        if let Ok(kept) = &result {
            tracing::info!(staff = %caller.name, location = %kept.location, "masked secret revealed");
        }
        result.map(|kept| RevealedSecret { location: kept.location, value: kept.value })
    }

    async fn compare(&self, caller: &Caller, request: CompareRequest) -> Result<CompareResult, ConsoleError> {
        self.run_compare(caller, request).await
    }

    async fn rediff(&self, caller: &Caller, request: RediffRequest) -> Result<CompareResult, ConsoleError> {
        self.run_rediff(caller, request).await
    }

    async fn compare_settings(&self, caller: &Caller, endpoint: &str) -> Result<CompareSettings, ConsoleError> {
        self.load_compare_settings(caller, endpoint).await
    }
}

/// Shown when the API refuses a token the console has just obtained: a new token will not help.
const REJECTED_FRESH_TOKEN: &str = "the API rejected a freshly obtained token as well: this is not an expired \
    token; check the client's permissions and scope for this endpoint";

/// Requests that may be sent a second time after a 401 (RFC 9110 §9.2.2): read-only methods, and writes
/// that carry an Idempotency-Key so the API itself deduplicates them.
fn is_replayable(method: &Method, headers: &http::HeaderMap) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || headers.contains_key("idempotency-key")
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
    pub async fn stored_body(&self, caller: &Caller, id: &str) -> Option<StoredBody> {
        let body = self.bodies.get(id, &caller.name)?;
        Some(self.body_for_display(caller, body).await)
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

    /// One upstream call, counted by status class.
    async fn send(
        &self,
        caller: &Caller,
        env: &LiveEnvironment,
        template: &str,
        outbound: Outbound,
    ) -> Result<Inbound, ConsoleError> {
        let method = outbound.method.clone();
        match upstream::send(&env.http, outbound).await {
            Ok(inbound) => {
                self.broker.metrics().upstream_request(&env.config.id, Ok(inbound.status));
                Ok(inbound)
            }
            Err(error) => {
                let class = match error {
                    upstream::UpstreamError::Timeout { .. } => "timeout",
                    _ => "unreachable",
                };
                self.broker.metrics().upstream_request(&env.config.id, Err(class));
                tracing::warn!(staff = %caller.name, environment = %env.config.id, %method, path = %template, error = %error, "upstream request failed");
                Err(to_console(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_methods_or_requests_with_an_idempotency_key_are_replayable() {
        let none = http::HeaderMap::new();
        let mut keyed = http::HeaderMap::new();
        keyed.insert("idempotency-key", HeaderValue::from_static("k-1"));
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(is_replayable(&method, &none), "{method}");
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!is_replayable(&method, &none), "{method}");
            assert!(is_replayable(&method, &keyed), "{method}");
        }
    }
}

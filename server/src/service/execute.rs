//! The execute port: environments, the catalog, and one request run in named stages:
//! `prepare` (resolve, guard, build) -> `send_with_token` (token, send, the 401 renewal, audit) ->
//! `sanitize` (token echo removed, secrets and demo data masked) -> `shape` (body stored, answer built).

use std::sync::Arc;

use app::backend::{Caller, ExecuteBackend};
use app::wire::{
    Catalog, ConsoleError, EnvironmentView, ExecuteRequest, ExecuteResponse, JsonPathAnswer, MaskingReport,
    INLINE_BODY_LIMIT,
};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method};
use url::Url;

use super::ConsoleService;
use crate::access;
use crate::audit::AuditEvent;
use crate::bodies::{replace_bytes, StoredBody};
use crate::clock::Stopwatch;
use crate::environment::LiveEnvironment;
use crate::error::to_console;
use crate::masking;
use crate::token::{AccessToken, Renewal};
use crate::upstream::{self, path::build_url, Inbound, Outbound};

/// Largest request body staff may send (a55 requests are small; this bounds memory).
const MAX_REQUEST_BODY: usize = 5_000_000;

/// What replaces an access token the upstream echoed back.
const TOKEN_REMOVED: &str = "[access token removed by the console]";

/// Shown when the API refuses a token the console has just obtained: a new token will not help.
const REJECTED_FRESH_TOKEN: &str = "the API rejected a freshly obtained token as well: this is not an expired \
    token; check the client's permissions and scope for this endpoint";

/// A request that passed the guard rails and is ready to send; nothing has left the console yet.
struct Prepared<'a> {
    env: &'a LiveEnvironment,
    method: Method,
    /// The catalog's path template when the request matches an operation, else the raw path.
    template: String,
    needs_token: bool,
    url: Url,
    headers: HeaderMap,
    body: Option<bytes::Bytes>,
    /// The audit row every outcome of this request starts from.
    audit: AuditEvent,
}

/// What came back from upstream, with the token it was sent with and what staff should know.
struct Sent {
    inbound: Inbound,
    token: Option<Arc<AccessToken>>,
    hint: Option<String>,
    retried: bool,
}

/// What the answer shows of the request, masked like the response in demo mode.
struct Shown {
    /// Whether personal data was masked (demo mode), so the stored body is not masked again.
    demo: bool,
    url: String,
    sent_body: Option<String>,
    masking: MaskingReport,
}

#[async_trait::async_trait]
impl ExecuteBackend for ConsoleService {
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

    async fn execute(&self, caller: &Caller, request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError> {
        let prepared = self.prepare(caller, request)?;
        let shown_url = prepared.url.to_string();
        let sent_body = prepared.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        let (env, needs_token, method) = (prepared.env, prepared.needs_token, prepared.method.clone());
        let mut sent = self.send_with_token(caller, prepared).await?;
        let shown = self.sanitize(caller, env, &mut sent, shown_url, sent_body).await;
        self.shape(caller, env, &method, needs_token, sent, shown).await
    }

    async fn execute_run(
        &self,
        caller: &Caller,
        request: ExecuteRequest,
        run_id: Option<String>,
    ) -> Result<ExecuteResponse, ConsoleError> {
        let Some(run_id) = run_id else { return self.execute(caller, request).await };
        let mut run = self.runs.register(&caller.name, &run_id)?;
        let started = Stopwatch::start();
        let cancelled = AuditEvent {
            event: "request",
            environment: Some(request.environment.clone()),
            method: Some(request.method.trim().to_ascii_uppercase()),
            path_template: self.matching_endpoint(&request).map(|e| e.path),
            path: Some(request.path.clone()),
            outcome: "cancelled",
            detail: Some("cancelled by the staff member while waiting for the API".into()),
            ..AuditEvent::default()
        };
        // Dropping the run's future drops the upstream request with it: its connection is closed.
        tokio::select! {
            outcome = self.execute(caller, request) => outcome,
            Ok(()) = &mut run.cancelled => {
                let seconds = started.elapsed().as_secs_f64();
                self.record(caller, AuditEvent { duration_ms: Some(started.elapsed_ms()), ..cancelled }).await;
                tracing::info!(staff = %caller.name, run = %run_id, seconds, "run cancelled");
                Err(ConsoleError::Cancelled(format!(
                    "cancelled after {seconds:.1} s: the request to the API was dropped, so the API may or may not have acted on it"
                )))
            }
        }
    }

    async fn cancel_run(&self, caller: &Caller, run_id: &str) -> Result<bool, ConsoleError> {
        Ok(self.runs.cancel(&caller.name, run_id))
    }

    async fn jsonpath(&self, caller: &Caller, body_id: &str, expression: &str) -> Result<JsonPathAnswer, ConsoleError> {
        // Expression errors come first and cost nothing; only then is the body needed.
        crate::jsonpath::parse(expression)?;
        let body = self.bodies.get(body_id, &caller.name).await?.ok_or_else(|| {
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
}

impl ConsoleService {
    /// Resolves the environment and method, checks the guard rails (a refused request never fetches
    /// a token or reaches the network, and is audited), builds the URL and vets headers and body.
    fn prepare<'a>(&'a self, caller: &Caller, request: ExecuteRequest) -> Result<Prepared<'a>, ConsoleError> {
        let env = self.environment(caller, &request.environment)?;
        let method = upstream::parse_method(&request.method)?;
        let endpoint = self.matching_endpoint(&request);
        let template = endpoint.as_ref().map_or(request.path.as_str(), |e| e.path.as_str()).to_owned();
        let audit = AuditEvent {
            event: "request",
            environment: Some(env.config.id.clone()),
            method: Some(method.to_string()),
            path_template: Some(template.clone()),
            ..AuditEvent::default()
        };
        if let Err(refusal) =
            access::check(caller.role_in(&env.config.id), &env.config, method.as_str(), request.confirm.as_deref())
        {
            tracing::warn!(staff = %caller.name, environment = %env.config.id, %method, path = %template, reason = %refusal, "request refused by guard rails");
            // Refused before anything was sent: queued like every refusal, not waited for.
            self.record_queued(
                caller,
                AuditEvent { event: "refused", outcome: "refused", detail: Some(refusal.to_string()), ..audit },
            );
            return Err(refusal);
        }
        let url = build_url(&env.api_base, &request.path, &request.path_params, &request.query)?;
        let mut headers = upstream::request_headers(&request.headers)?;
        let body = request_body(request.body, &mut headers)?;
        // Raw paths go to the authenticated API, so they get a token unless the catalog says otherwise.
        let needs_token = endpoint.as_ref().is_none_or(|e| e.needs_token);
        Ok(Prepared { env, method, template, needs_token, url, headers, body, audit })
    }

    /// Gets the token (when the operation needs one), sends, and after a 401 renews the token once
    /// and re-sends what is safe to re-send. Audits the outcome and logs one line.
    async fn send_with_token(&self, caller: &Caller, prepared: Prepared<'_>) -> Result<Sent, ConsoleError> {
        let Prepared { env, method, template, needs_token, url, headers, body, audit } = prepared;
        let token = if needs_token { Some(self.token_for(caller, env, &audit).await?) } else { None };
        let started = Stopwatch::start();
        let path = url.path().to_owned();
        let replayable = is_replayable(&method, &headers);
        let outbound = Outbound {
            environment: env.config.id.clone(),
            method: method.clone(),
            url,
            headers,
            body,
            bearer: token.as_ref().map(|t| t.secret()),
            bearer_fingerprint: token.as_ref().map(|t| t.fingerprint.clone()),
            timeout: env.config.timeouts.request,
            max_response_bytes: env.config.max_response_bytes,
        };
        let audit_failure = |error: &ConsoleError| AuditEvent {
            path: Some(path.clone()),
            duration_ms: Some(started.elapsed_ms()),
            outcome: "error",
            detail: Some(error.to_string()),
            ..audit.clone()
        };
        let inbound = match self.send(caller, env, &template, outbound.clone()).await {
            Ok(inbound) => inbound,
            Err(error) => {
                self.record(caller, audit_failure(&error)).await;
                return Err(error);
            }
        };
        let mut sent = Sent { inbound, token, hint: None, retried: false };
        if sent.inbound.status == 401 {
            if let Err(error) = self.after_unauthorized(caller, env, &template, outbound, replayable, &mut sent).await {
                self.record(caller, audit_failure(&error)).await;
                return Err(error);
            }
        }
        let detail = sent.retried.then(|| "re-sent once after a 401 and a forced token refresh".to_owned());
        let (status, duration_ms) = (Some(sent.inbound.status), Some(started.elapsed_ms()));
        self.record(caller, AuditEvent { path: Some(path), status, duration_ms, outcome: "ok", detail, ..audit }).await;
        tracing::info!(
            staff = %caller.name,
            environment = %env.config.id,
            %method,
            path = %template,
            status = sent.inbound.status,
            retried = sent.retried,
            duration_ms = started.elapsed().as_millis() as u64,
            bytes = sent.inbound.received_bytes,
            "upstream request"
        );
        Ok(sent)
    }

    /// The token for one request; a failure is audited as the request's outcome.
    async fn token_for(
        &self,
        caller: &Caller,
        env: &LiveEnvironment,
        audit: &AuditEvent,
    ) -> Result<Arc<AccessToken>, ConsoleError> {
        match self.broker.token(&env.token).await {
            Ok(token) => Ok(token),
            Err(error) => {
                let error = to_console(error);
                self.record(caller, AuditEvent { outcome: "error", detail: Some(error.to_string()), ..audit.clone() })
                    .await;
                Err(error)
            }
        }
    }

    /// A 401 with a token: renew it (single-flight, rate-limited) and re-send once if the request is
    /// replayable; otherwise say why the console did not, so staff know what to do.
    async fn after_unauthorized(
        &self,
        caller: &Caller,
        env: &LiveEnvironment,
        template: &str,
        mut outbound: Outbound,
        replayable: bool,
        sent: &mut Sent,
    ) -> Result<(), ConsoleError> {
        let Some(rejected) = sent.token.clone() else { return Ok(()) };
        let method = outbound.method.clone();
        sent.hint = Some(match self.broker.renew_after_unauthorized(&env.token, &rejected.fingerprint).await {
            Ok(Renewal::Renewed(renewed)) if replayable => {
                // Safe to send again: the method is read-only or the request carries an Idempotency-Key.
                outbound.bearer = Some(renewed.secret());
                outbound.bearer_fingerprint = Some(renewed.fingerprint.clone());
                sent.token = Some(renewed);
                self.broker.metrics().upstream_retry(&env.config.id);
                sent.inbound = self.send(caller, env, template, outbound).await?;
                sent.retried = true;
                if sent.inbound.status != 401 {
                    return Ok(());
                }
                REJECTED_FRESH_TOKEN.to_owned()
            }
            Ok(Renewal::Renewed(_)) => format!(
                "token was refreshed, send again: the API answered 401, so the console got a new token, but it \
                 does not re-send a {method} on its own (it may have been applied); add an Idempotency-Key \
                 header to let the console retry such requests once"
            ),
            Ok(Renewal::Limited { retry_in }) => format!(
                "{REJECTED_FRESH_TOKEN} (the console refreshes after a 401 at most once every {} s; next forced \
                 refresh possible in {} s)",
                self.broker.settings().forced_refresh_interval.as_secs(),
                retry_in.as_secs().max(1)
            ),
            Err(error) => format!("the API rejected the token and no new one could be obtained: {error}"),
        });
        Ok(())
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

    /// Removes an echoed access token, then masks secrets always and personal data in demo mode,
    /// before the body is stored, recorded in history or sent (see ARCHITECTURE.md, Masking).
    async fn sanitize(
        &self,
        caller: &Caller,
        env: &LiveEnvironment,
        sent: &mut Sent,
        mut url: String,
        mut sent_body: Option<String>,
    ) -> Shown {
        let inbound = &mut sent.inbound;
        if let Some(token) = &sent.token {
            strip_token(inbound, token.expose());
        }
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
        if demo {
            if let Some(masked) = masking::mask_url(&url, policy) {
                url = masked;
            }
            if let Some((bytes, _)) = sent_body.as_deref().and_then(|sent| masking::mask_body(sent.as_bytes(), policy))
            {
                sent_body = Some(String::from_utf8_lossy(&bytes).into_owned());
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
        let masking = self.masking.report(caller, &env.config.id, found, demo).await;
        Shown { demo, url, sent_body, masking }
    }

    /// Stores the body for the inspector and builds the answer the browser gets.
    async fn shape(
        &self,
        caller: &Caller,
        env: &LiveEnvironment,
        method: &Method,
        needs_token: bool,
        sent: Sent,
        shown: Shown,
    ) -> Result<ExecuteResponse, ConsoleError> {
        let Sent { mut inbound, token, mut hint, retried } = sent;
        let header = |name: &str| inbound.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let content_type = header("content-type");
        let upstream_request_id = header("x-request-id").or_else(|| header("x-amzn-requestid"));
        let kept_bytes = inbound.body.len() as u64;
        let (body, body_inline) = inline_text(&inbound.body);
        let body_id = if inbound.body.is_empty() {
            None
        } else {
            let stored = StoredBody {
                bytes: bytes::Bytes::from(std::mem::take(&mut inbound.body)),
                content_type: content_type.clone(),
                owner: caller.name.clone(),
                demo_masked: shown.demo,
            };
            // The upstream answered (and may have applied a write): never report that as a failure.
            let kept = self.bodies.insert(stored).await;
            if kept.is_err() && !body_inline {
                inbound.truncated = true;
                hint = Some(format!(
                    "the API answered, but its body ({kept_bytes} bytes) could not be kept because the shared \
                     store is unavailable, so it is not shown; run the request again in a moment"
                ));
            }
            let id = kept.unwrap_or(None);
            if id.is_none() && hint.is_none() && !body_inline {
                inbound.truncated = true;
                hint = Some(format!(
                    "the API answered, but its body ({kept_bytes} bytes) is more than the console keeps of one \
                     answer, so it is not shown; narrow the request (a smaller page or limit)"
                ));
            }
            id
        };
        Ok(ExecuteResponse {
            status: inbound.status,
            status_text: status_text(inbound.status),
            method: method.to_string(),
            url: shown.url,
            duration_ms: inbound.total.as_secs_f64() * 1000.0,
            ttfb_ms: inbound.ttfb.as_secs_f64() * 1000.0,
            size_bytes: inbound.received_bytes,
            content_type,
            upstream_request_id,
            headers: inbound.headers,
            body,
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
            sent_body: shown.sent_body,
            hint,
            retried,
            masking: shown.masking,
        })
    }
}

/// The request body within the console's limit; a body without a Content-Type is sent as JSON.
fn request_body(body: Option<String>, headers: &mut HeaderMap) -> Result<Option<bytes::Bytes>, ConsoleError> {
    let Some(body) = body else { return Ok(None) };
    if body.len() > MAX_REQUEST_BODY {
        return Err(ConsoleError::InvalidRequest(format!(
            "the body is {} bytes; the console sends at most {MAX_REQUEST_BODY}",
            body.len()
        )));
    }
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(Some(bytes::Bytes::from(body)))
}

/// An upstream that echoes the request must not hand the token to the browser: not in the body
/// (every path it takes: inline, stored, downloaded) nor in a header. Compared as bytes, so binary
/// bodies survive.
fn strip_token(inbound: &mut Inbound, token: &str) {
    if let Some(clean) = replace_bytes(&inbound.body, token.as_bytes(), TOKEN_REMOVED.as_bytes()) {
        inbound.body = clean;
    }
    for (_, value) in &mut inbound.headers {
        if value.contains(token) {
            *value = value.replace(token, TOKEN_REMOVED);
        }
    }
}

/// Small UTF-8 bodies travel inline in the answer (one round trip for the common case); others
/// only through the body store.
fn inline_text(body: &[u8]) -> (String, bool) {
    match (body.len() <= INLINE_BODY_LIMIT).then(|| std::str::from_utf8(body).ok()).flatten() {
        Some(text) => (text.to_owned(), true),
        None => (String::new(), false),
    }
}

fn status_text(status: u16) -> String {
    http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("").to_owned()
}

/// Requests that may be sent a second time after a 401 (RFC 9110 §9.2.2): read-only methods, and writes
/// that carry an Idempotency-Key so the API itself deduplicates them.
fn is_replayable(method: &Method, headers: &HeaderMap) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || headers.contains_key("idempotency-key")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(body: &[u8], headers: &[(&str, &str)]) -> Inbound {
        Inbound {
            status: 200,
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            body: body.to_vec(),
            received_bytes: body.len() as u64,
            wire_bytes: body.len() as u64,
            decoded_from: None,
            truncated: false,
            sent_headers: Vec::new(),
            ttfb: std::time::Duration::ZERO,
            total: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn only_read_only_methods_or_requests_with_an_idempotency_key_are_replayable() {
        let none = HeaderMap::new();
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", HeaderValue::from_static("k-1"));
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(is_replayable(&method, &none), "{method}");
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!is_replayable(&method, &none), "{method}");
            assert!(is_replayable(&method, &keyed), "{method}");
        }
    }

    #[test]
    fn a_body_without_a_content_type_is_sent_as_json_and_one_with_a_type_keeps_it() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_body(Some("{}".into()), &mut headers).unwrap().as_deref(), Some(&b"{}"[..]));
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        request_body(Some("hi".into()), &mut headers).unwrap();
        assert_eq!(headers[CONTENT_TYPE], "text/plain");
        let mut headers = HeaderMap::new();
        assert_eq!(request_body(None, &mut headers).unwrap(), None);
        assert!(headers.is_empty(), "no body, no Content-Type");
    }

    #[test]
    fn a_body_over_the_limit_is_refused_with_its_size_and_the_limit() {
        let error = request_body(Some("x".repeat(MAX_REQUEST_BODY + 1)), &mut HeaderMap::new()).unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(error.to_string().contains(&(MAX_REQUEST_BODY + 1).to_string()), "{error}");
        assert!(error.to_string().contains(&MAX_REQUEST_BODY.to_string()), "{error}");
    }

    #[test]
    fn an_echoed_token_is_removed_from_the_body_and_every_header_value() {
        let token = "eyJ.secret-token.sig";
        let mut answer = inbound(
            format!("{{\"echo\":\"Bearer {token}\"}}\u{0}{token}").as_bytes(),
            &[("x-echo", &format!("Bearer {token}")), ("content-type", "application/json")],
        );
        strip_token(&mut answer, token);
        let body = String::from_utf8_lossy(&answer.body);
        assert!(!body.contains(token), "{body}");
        assert_eq!(body.matches(TOKEN_REMOVED).count(), 2, "{body}");
        assert_eq!(answer.headers[0].1, format!("Bearer {TOKEN_REMOVED}"));
        assert_eq!(answer.headers[1].1, "application/json");
    }

    #[test]
    fn only_small_utf8_bodies_travel_inline() {
        assert_eq!(inline_text(b"{\"a\":1}"), ("{\"a\":1}".to_owned(), true));
        assert_eq!(inline_text(&[0xff, 0xfe]), (String::new(), false));
        assert_eq!(inline_text(&vec![b'a'; INLINE_BODY_LIMIT + 1]), (String::new(), false));
        assert!(inline_text(&vec![b'a'; INLINE_BODY_LIMIT]).1);
    }

    #[test]
    fn status_text_is_the_canonical_reason_or_nothing() {
        assert_eq!(status_text(404), "Not Found");
        assert_eq!(status_text(599), "");
    }
}

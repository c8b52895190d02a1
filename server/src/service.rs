//! The console's backend: resolves environments, gets tokens, sends requests and shapes the answers.
//! Server functions reach it through the `ConsoleBackend` trait object in Leptos context.

use std::sync::Arc;
use std::time::Instant;

use app::backend::ConsoleBackend;
use app::wire::{Catalog, ConsoleError, EnvironmentView, ExecuteRequest, ExecuteResponse, TokenView};
use http::header::CONTENT_TYPE;
use http::HeaderValue;
use url::Url;

use crate::config::Environment;
use crate::error::to_console;
use crate::token::{TokenBroker, TokenSource};
use crate::upstream::{self, path::build_url, Outbound};

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
    fn view(&self) -> EnvironmentView {
        EnvironmentView {
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
    catalog: Catalog,
    broker: Arc<TokenBroker>,
}

impl ConsoleService {
    pub fn new(environments: Vec<LiveEnvironment>, catalog: Catalog, broker: Arc<TokenBroker>) -> Self {
        Self { environments, catalog, broker }
    }

    fn environment(&self, id: &str) -> Result<&LiveEnvironment, ConsoleError> {
        self.environments
            .iter()
            .find(|e| e.config.id == id)
            .ok_or_else(|| ConsoleError::UnknownEnvironment(id.to_owned()))
    }
}

#[async_trait::async_trait]
impl ConsoleBackend for ConsoleService {
    fn environments(&self) -> Vec<EnvironmentView> {
        self.environments.iter().map(LiveEnvironment::view).collect()
    }

    fn catalog(&self) -> Catalog {
        self.catalog.clone()
    }

    async fn token_status(&self, environment: &str) -> Result<TokenView, ConsoleError> {
        Ok(self.broker.view(&self.environment(environment)?.token))
    }

    async fn execute(&self, request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError> {
        let env = self.environment(&request.environment)?;
        let method = upstream::parse_method(&request.method).map_err(to_console)?;
        // The browser's endpoint id is a hint: it only counts when method and path match the catalog,
        // so it can neither skip the token for another path nor make the log name the wrong path.
        let endpoint = request.endpoint_id.as_deref().and_then(|id| {
            self.catalog.endpoints.iter().find(|e| e.id == id && e.path == request.path && method.as_str() == e.method)
        });
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
        let token = if needs_token { Some(self.broker.token(&env.token).await.map_err(to_console)?) } else { None };

        let started = Instant::now();
        let display_url = url.to_string();
        let outbound = Outbound {
            environment: env.config.id.clone(),
            method: method.clone(),
            url,
            headers,
            body,
            bearer: token.as_ref().map(|t| t.expose().to_owned()),
            timeout: env.config.timeouts.request,
            max_response_bytes: env.config.max_response_bytes,
        };
        let result = upstream::send(&env.http, outbound).await;
        let template = endpoint.map_or(request.path.as_str(), |e| e.path.as_str());
        let inbound = match result {
            Ok(inbound) => inbound,
            Err(error) => {
                tracing::warn!(environment = %env.config.id, %method, path = %template, error = %error, "upstream request failed");
                return Err(to_console(error));
            }
        };
        if inbound.status == 401 && token.is_some() {
            // The API no longer accepts this token: the next request must not reuse it.
            self.broker.invalidate(&env.token);
        }
        tracing::info!(
            environment = %env.config.id,
            %method,
            path = %template,
            status = inbound.status,
            duration_ms = started.elapsed().as_millis() as u64,
            bytes = inbound.received_bytes,
            "upstream request"
        );

        let mut text = String::from_utf8_lossy(&inbound.body).into_owned();
        if let Some(token) = &token {
            // An upstream that echoes request headers must not hand the token to the browser.
            if text.contains(token.expose()) {
                text = text.replace(token.expose(), "[access token removed by the console]");
            }
        }
        let header = |name: &str| inbound.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
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
            token: needs_token.then(|| self.broker.view(&env.token)),
        })
    }
}

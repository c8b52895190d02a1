//! Live specs: an environment's own OpenAPI document (`{api_base}/swagger.json` by default) fetched
//! server-side through the safe upstream client, cached in memory, refreshable, merged after the
//! fixed sources, each with a visible status.

use std::sync::{PoisonError, RwLock};

use app::wire::{Catalog, CatalogSource, Endpoint};
use http::header::ACCEPT;
use http::{HeaderMap, HeaderValue, Method};

use super::{merge, parse_document};
use crate::environment::LiveEnvironment;
use crate::upstream::{self, path::build_url, Outbound};

/// Specs are small; this bounds memory whatever the environment's response cap is.
const MAX_SPEC_BYTES: usize = 10_000_000;

struct LiveSlot {
    environment: String,
    path: String,
    source: CatalogSource,
    endpoints: Vec<Endpoint>,
}

/// The fixed catalog (bundled + configured documents) plus the current live specs.
pub struct CatalogStore {
    base: Catalog,
    live: RwLock<Vec<LiveSlot>>,
}

impl CatalogStore {
    pub fn new(base: Catalog) -> Self {
        Self { base, live: RwLock::new(Vec::new()) }
    }

    /// Declares a live spec for an environment; it shows as pending until the first fetch ends.
    pub fn add_live(&self, environment: &str, path: &str) {
        let mut live = self.live.write().unwrap_or_else(PoisonError::into_inner);
        live.retain(|slot| slot.environment != environment);
        live.push(LiveSlot {
            environment: environment.to_owned(),
            path: path.to_owned(),
            source: CatalogSource {
                name: source_name(environment),
                loaded: false,
                detail: "not fetched yet".into(),
                environment: Some(environment.to_owned()),
            },
            endpoints: Vec::new(),
        });
    }

    /// The path of an environment's live spec, if it has one.
    pub fn live_path(&self, environment: &str) -> Option<String> {
        let live = self.live.read().unwrap_or_else(PoisonError::into_inner);
        live.iter().find(|slot| slot.environment == environment).map(|slot| slot.path.clone())
    }

    pub fn live_environments(&self) -> Vec<String> {
        let live = self.live.read().unwrap_or_else(PoisonError::into_inner);
        live.iter().map(|slot| slot.environment.clone()).collect()
    }

    /// The merged catalog: fixed sources first (they win on duplicates), then live specs.
    pub fn snapshot(&self) -> Catalog {
        let mut catalog = self.base.clone();
        let live = self.live.read().unwrap_or_else(PoisonError::into_inner);
        for slot in live.iter() {
            catalog.sources.push(slot.source.clone());
            merge(&mut catalog, slot.endpoints.clone());
        }
        catalog
    }

    pub fn find(&self, id: &str) -> Option<Endpoint> {
        if let Some(endpoint) = self.base.endpoints.iter().find(|e| e.id == id) {
            return Some(endpoint.clone());
        }
        self.snapshot().endpoints.into_iter().find(|e| e.id == id)
    }

    fn store(&self, environment: &str, result: Result<(Vec<Endpoint>, String), String>) {
        let mut live = self.live.write().unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = live.iter_mut().find(|slot| slot.environment == environment) else { return };
        match result {
            Ok((endpoints, url)) => {
                slot.source.loaded = true;
                slot.source.detail = format!("{} operations from {url}", endpoints.len());
                slot.endpoints = endpoints;
            }
            Err(reason) => {
                // The last good copy is kept: a flaky spec endpoint should not empty the picker.
                slot.source.loaded = false;
                slot.source.detail = if slot.endpoints.is_empty() {
                    format!("unavailable: {reason}")
                } else {
                    format!("unavailable: {reason} (showing the {} operations fetched before)", slot.endpoints.len())
                };
            }
        }
    }

    /// Fetches an environment's live spec again and records the outcome in its status.
    pub async fn refresh(&self, env: &LiveEnvironment) {
        let Some(path) = self.live_path(&env.config.id) else { return };
        let result = fetch(env, &path).await;
        if let Err(reason) = &result {
            tracing::warn!(environment = %env.config.id, %reason, "live spec not loaded");
        }
        self.store(&env.config.id, result);
    }
}

pub fn source_name(environment: &str) -> String {
    format!("{environment} (live spec)")
}

/// The environment's live document, fetched now and read as written (for spec drift).
pub async fn fetch_document(env: &LiveEnvironment, path: &str) -> Result<serde_json::Value, String> {
    let (text, display) = fetch_text(env, path).await?;
    super::read_document(&source_name(&env.config.id), &text).map_err(|e| format!("{e} (fetched from {display})"))
}

/// GET the spec without a token (a55 serves its document publicly), under the same URL rules,
/// redirect policy, timeouts and size cap as every other upstream request.
async fn fetch_text(env: &LiveEnvironment, path: &str) -> Result<(String, String), String> {
    let url = build_url(&env.api_base, path, &[], &[]).map_err(|e| format!("the spec path {path:?}: {e}"))?;
    let display = url.to_string();
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json, application/yaml;q=0.9, */*;q=0.5"));
    let outbound = Outbound {
        environment: env.config.id.clone(),
        method: Method::GET,
        url,
        headers,
        body: None,
        bearer: None,
        bearer_fingerprint: None,
        timeout: env.config.timeouts.request,
        max_response_bytes: MAX_SPEC_BYTES.min(env.config.max_response_bytes),
    };
    let inbound = upstream::send(&env.http, outbound).await.map_err(|e| e.to_string())?;
    if inbound.status != 200 {
        return Err(format!("{display} answered HTTP {}", inbound.status));
    }
    if inbound.truncated {
        return Err(format!("{display} is larger than {MAX_SPEC_BYTES} bytes"));
    }
    let text = String::from_utf8(inbound.body).map_err(|_| format!("{display} is not UTF-8 text"))?;
    Ok((text, display))
}

async fn fetch(env: &LiveEnvironment, path: &str) -> Result<(Vec<Endpoint>, String), String> {
    let (text, display) = fetch_text(env, path).await?;
    let mut endpoints =
        parse_document(&source_name(&env.config.id), &text).map_err(|e| format!("{e} (fetched from {display})"))?;
    for endpoint in &mut endpoints {
        if endpoint.source.is_empty() {
            endpoint.source = format!("served by {display}");
        }
        if endpoint.confidence.is_empty() {
            // The API's own description of itself.
            endpoint.confidence = "live".into();
        }
    }
    Ok((endpoints, display))
}

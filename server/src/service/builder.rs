//! The request builder's port: curl import, snippets, history, preferences and saved requests.

use app::backend::{BuilderBackend, Caller};
use app::wire::{
    ConsoleError, CurlImport, ExecuteRequest, ExecuteResponse, HistoryDetail, HistoryEntry, Preferences, SaveRequest,
    SavedRequest, Snippet,
};

use super::ConsoleService;
use crate::access;
use crate::error::to_console;
use crate::masking;
use crate::upstream;

#[async_trait::async_trait]
impl BuilderBackend for ConsoleService {
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
}

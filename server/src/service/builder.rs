//! The request builder's port: curl import, snippets, history, preferences and saved requests.

use app::backend::{BuilderBackend, Caller};
use app::wire::{
    ConsoleError, CurlImport, ExecuteRequest, ExecuteResponse, HistoryDetail, HistoryEntry, Preferences, Role,
    SaveRequest, SavedRequest, Snippet,
};

use super::ConsoleService;
use crate::access;
use crate::audit::AuditEvent;
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

    async fn delete_history_entry(&self, caller: &Caller, id: i64) -> Result<(), ConsoleError> {
        if !self.history_store()?.delete(&caller.name, id).await? {
            return Err(ConsoleError::NotFound(format!("history entry {id} does not exist (or was pruned)")));
        }
        self.record(caller, audited("history_delete", "ok", format!("deleted history entry {id}"))).await;
        Ok(())
    }

    async fn clear_history(&self, caller: &Caller, staff: Option<String>) -> Result<u64, ConsoleError> {
        let whose = staff.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).unwrap_or_else(|| caller.name.clone());
        if whose != caller.name && caller.role != Role::Admin {
            let refusal = ConsoleError::Forbidden(format!(
                "only an admin may clear another member's history; you may clear your own ({})",
                caller.name
            ));
            self.record(caller, audited("history_clear", "refused", format!("history of {whose}: {refusal}"))).await;
            return Err(refusal);
        }
        let cleared = self.history_store()?.clear(&whose).await?;
        self.record(caller, audited("history_clear", "ok", format!("cleared the history of {whose}: {cleared} runs")))
            .await;
        Ok(cleared)
    }

    async fn preferences(&self, caller: &Caller) -> Result<Preferences, ConsoleError> {
        self.history_store()?.preferences(&caller.name).await
    }

    async fn set_theme(&self, caller: &Caller, theme: Option<String>) -> Result<(), ConsoleError> {
        match theme.as_deref() {
            None | Some("light" | "dark") => self.history_store()?.set_theme(&caller.name, theme.as_deref()).await,
            Some(other) => Err(ConsoleError::InvalidRequest(format!(
                "theme {other:?} is not one of \"light\" or \"dark\" (or none, to follow the system)"
            ))),
        }
    }

    async fn saved_requests(&self, caller: &Caller) -> Result<Vec<SavedRequest>, ConsoleError> {
        let mut saved = self.saved_store()?.list().await?;
        for s in &mut saved {
            s.can_change = may_change(caller, s);
        }
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
        let store = self.saved_store()?;
        if let Some(id) = request.id {
            let existing = store.get(id).await?;
            if !may_change(caller, &existing) {
                let refusal = not_yours(&existing, "change");
                self.record(caller, audited("saved_update", "refused", format!("{:?}: {refusal}", existing.name)))
                    .await;
                return Err(refusal);
            }
        }
        let mut saved = store.save(&caller.name, request).await?;
        saved.can_change = true;
        Ok(saved)
    }

    async fn delete_saved_request(&self, caller: &Caller, id: i64) -> Result<(), ConsoleError> {
        let store = self.saved_store()?;
        let existing = store.get(id).await?;
        let what = format!("{:?} in {:?} (saved by {})", existing.name, existing.collection, existing.created_by);
        if !may_change(caller, &existing) {
            let refusal = not_yours(&existing, "delete");
            self.record(caller, audited("saved_delete", "refused", format!("{what}: {refusal}"))).await;
            return Err(refusal);
        }
        store.delete(id).await?;
        self.record(caller, audited("saved_delete", "ok", format!("deleted saved request {what}"))).await;
        Ok(())
    }
}

/// A saved request is changed or deleted by its owner (who created it) or an admin; everyone
/// else may open it and save a copy.
fn may_change(caller: &Caller, saved: &SavedRequest) -> bool {
    caller.name == saved.created_by || caller.role == Role::Admin
}

fn not_yours(saved: &SavedRequest, action: &str) -> ConsoleError {
    ConsoleError::Forbidden(format!(
        "only {} (who saved {:?}) or an admin may {action} it; open it and save a copy under a new name instead",
        saved.created_by, saved.name
    ))
}

fn audited(event: &'static str, outcome: &'static str, detail: String) -> AuditEvent {
    AuditEvent { event, outcome, detail: Some(detail), ..AuditEvent::default() }
}

//! Compare: one request sent to two environments through `execute` (so guard rails, tokens,
//! redaction, the body store and the audit apply to each side), then the diff of the answers.

use app::backend::{Caller, CompareBackend, ExecuteBackend as _};
use app::wire::{
    compare_endpoint_key, BodyDiff, CompareExports, CompareRequest, CompareResult, CompareSettings, CompareSide,
    ConsoleError, DiffChange, DiffOptions, ExecuteRequest, ExecuteResponse, HeaderChange, RediffRequest,
    MAX_EXPORTED_CHANGES,
};

use super::ConsoleService;
use crate::access;
use crate::audit::AuditEvent;
use crate::bodies::StoredBody;
use crate::diff;
use crate::error::to_console;
use crate::upstream;

#[async_trait::async_trait]
impl CompareBackend for ConsoleService {
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

impl ConsoleService {
    pub(super) async fn run_compare(
        &self,
        caller: &Caller,
        request: CompareRequest,
    ) -> Result<CompareResult, ConsoleError> {
        let CompareRequest { left, right, options } = request;
        same_request(&left, &right)?;
        diff::IgnoreRules::parse(&options.ignore).map_err(ConsoleError::InvalidRequest)?;
        // Both sides pass the guard rails before either is sent: a refused production write must
        // not leave its sandbox twin already applied.
        self.admit(caller, &left)?;
        self.admit(caller, &right)?;
        let (left_outcome, right_outcome) =
            futures::future::join(self.execute(caller, left.clone()), self.execute(caller, right.clone())).await;
        let left_side = side(&left.environment, left_outcome);
        let right_side = side(&right.environment, right_outcome);
        let endpoint = compare_endpoint_key(&left);
        let mut result = self.diff_sides(caller, &left, left_side, right_side, options).await?;
        if let Ok(history) = self.history_store() {
            match history.record_compare(&caller.name, &left, &right, &result).await {
                Ok(id) => result.history_id = Some(id),
                Err(error) => tracing::warn!(%error, "compare not recorded in history"),
            }
            if let Err(error) = history.remember_compare_settings(&caller.name, &endpoint, &result.options).await {
                tracing::warn!(%error, "compare settings not remembered");
            }
        }
        Ok(result)
    }

    pub(super) async fn run_rediff(
        &self,
        caller: &Caller,
        request: RediffRequest,
    ) -> Result<CompareResult, ConsoleError> {
        diff::IgnoreRules::parse(&request.options.ignore).map_err(ConsoleError::InvalidRequest)?;
        let shown =
            ExecuteRequest { method: request.method.clone(), path: request.path.clone(), ..ExecuteRequest::default() };
        let result = self.diff_sides(caller, &shown, request.left, request.right, request.options).await?;
        if let Ok(history) = self.history_store() {
            if let Err(error) =
                history.remember_compare_settings(&caller.name, &request.endpoint, &result.options).await
            {
                tracing::warn!(%error, "compare settings not remembered");
            }
        }
        Ok(result)
    }

    pub(super) async fn load_compare_settings(
        &self,
        caller: &Caller,
        endpoint: &str,
    ) -> Result<CompareSettings, ConsoleError> {
        self.history_store()?.compare_settings(&caller.name, endpoint).await
    }

    /// The guard rails `execute` applies, checked up front; a refusal is audited the same way.
    pub(super) fn admit(&self, caller: &Caller, request: &ExecuteRequest) -> Result<(), ConsoleError> {
        let env = self.environment(caller, &request.environment)?;
        let method = upstream::parse_method(&request.method).map_err(to_console)?;
        let checked =
            access::check(caller.role_in(&env.config.id), &env.config, method.as_str(), request.confirm.as_deref());
        if let Err(refusal) = &checked {
            tracing::warn!(staff = %caller.name, environment = %env.config.id, %method, path = %request.path, reason = %refusal, "compare refused by guard rails");
            self.record_queued(
                caller,
                AuditEvent {
                    event: "refused",
                    environment: Some(env.config.id.clone()),
                    method: Some(method.to_string()),
                    path_template: Some(request.path.clone()),
                    outcome: "refused",
                    detail: Some(format!("compare: {refusal}")),
                    ..AuditEvent::default()
                },
            );
        }
        checked
    }

    /// The bytes a side's response left in the body store, as the caller may see them now (the
    /// caller's own bodies only, masked for demo mode like every other view of a stored body).
    pub(super) async fn side_body(
        &self,
        caller: &Caller,
        response: &ExecuteResponse,
    ) -> Result<bytes::Bytes, ConsoleError> {
        match &response.body_id {
            Some(id) => self.stored_body(caller, id).await?.map(|b| b.bytes).ok_or_else(|| {
                ConsoleError::NotFound(
                    "a response of this compare is no longer kept on the server; run the compare again".into(),
                )
            }),
            None if response.body_inline => Ok(bytes::Bytes::from(response.body.clone())),
            None => Ok(bytes::Bytes::new()),
        }
    }

    /// The body diff (the view, and every change up to the export cap) and the header diff of two
    /// sides; sends nothing and stores nothing.
    pub(super) async fn diff_only(
        &self,
        caller: &Caller,
        left: &CompareSide,
        right: &CompareSide,
        options: &DiffOptions,
    ) -> Result<(BodyDiff, Vec<DiffChange>, Vec<HeaderChange>), ConsoleError> {
        let left_body = match &left.response {
            Some(r) => Some(self.side_body(caller, r).await?),
            None => None,
        };
        let right_body = match &right.response {
            Some(r) => Some(self.side_body(caller, r).await?),
            None => None,
        };
        let mut notices = Vec::new();
        for (name, side) in [("left", left), ("right", right)] {
            if side.response.as_ref().is_some_and(|r| r.truncated) {
                notices.push(format!(
                    "the {name} body was cut at the environment's response cap: only the part kept is compared"
                ));
            }
        }
        let diff_options = options.clone();
        let (mut body, all) = tokio::task::spawn_blocking(move || {
            diff::diff_bodies_for_export(
                left_body.as_deref(),
                right_body.as_deref(),
                &diff_options,
                MAX_EXPORTED_CHANGES,
            )
        })
        .await
        .map_err(|_| ConsoleError::Internal("the diff stopped unexpectedly".into()))?
        .map_err(ConsoleError::InvalidRequest)?;
        body.notices.splice(0..0, notices);
        let no_headers = Vec::new();
        let headers_of = |side: &CompareSide| side.response.as_ref().map_or(&no_headers, |r| &r.headers).clone();
        let headers = diff::diff_headers(&headers_of(left), &headers_of(right));
        Ok((body, all, headers))
    }

    async fn diff_sides(
        &self,
        caller: &Caller,
        request: &ExecuteRequest,
        left: CompareSide,
        right: CompareSide,
        options: DiffOptions,
    ) -> Result<CompareResult, ConsoleError> {
        let (body, all, headers) = self.diff_only(caller, &left, &right, &options).await?;
        let method = left.response.as_ref().map_or(request.method.to_ascii_uppercase(), |r| r.method.clone());
        let context = diff::ExportContext {
            method: &method,
            path: &request.path,
            left: &left,
            right: &right,
            options: &options,
            body: &body,
            changes: &all,
            headers: &headers,
            at: rfc3339(self.clock.wall_ms()),
        };
        // Built from what this caller was shown, so masked exactly as the view was.
        let demo_masked = self.masking.demo.is_on(caller);
        let store = |bytes: Vec<u8>, content_type: &str| {
            self.bodies.insert(StoredBody {
                bytes: bytes::Bytes::from(bytes),
                content_type: Some(content_type.to_owned()),
                owner: caller.name.clone(),
                demo_masked,
            })
        };
        // Without the shared store the diff is still shown; only its downloads are missing.
        let json_id = store(diff::export_json(&context), "application/json").await.unwrap_or(None);
        let markdown_id = store(diff::export_markdown(&context), "text/markdown; charset=utf-8").await.unwrap_or(None);
        let exports = match (json_id, markdown_id) {
            (Some(json_id), Some(markdown_id)) => Some(CompareExports { json_id, markdown_id }),
            _ => None,
        };
        Ok(CompareResult { left, right, options, body, headers, exports, history_id: None })
    }
}

/// "One request, two environments": the sides may differ in parameters, not in operation.
pub(super) fn same_request(left: &ExecuteRequest, right: &ExecuteRequest) -> Result<(), ConsoleError> {
    if !left.method.trim().eq_ignore_ascii_case(right.method.trim()) || left.path.trim() != right.path.trim() {
        return Err(ConsoleError::InvalidRequest(format!(
            "a compare sends one request to two environments, but the left side is {} {} and the right side {} {}",
            left.method, left.path, right.method, right.path
        )));
    }
    Ok(())
}

pub(super) fn side(environment: &str, outcome: Result<ExecuteResponse, ConsoleError>) -> CompareSide {
    match outcome {
        Ok(response) => CompareSide { environment: environment.to_owned(), response: Some(response), error: None },
        Err(error) => CompareSide { environment: environment.to_owned(), response: None, error: Some(error) },
    }
}

/// `2026-11-29T10:00:00Z` from Unix milliseconds (the exports are read by people and tickets, in UTC).
fn rfc3339(wall_ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(wall_ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => String::new(),
    }
}

//! Parity watch: suites of read-only compares, their runs and baselines (see ARCHITECTURE.md, Parity).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{AddToSuite, ConsoleError, ParityBadge, ParityRun, ParitySuite, ParitySuiteView, SpecDriftView};

#[server(prefix = "/api", endpoint = "parity/suites", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn list_parity_suites() -> Result<Vec<ParitySuiteView>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.parity_suites(&caller).await }).await
}

/// "Add to suite" on the Compare page.
#[server(prefix = "/api", endpoint = "parity/suites/add", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn add_to_parity_suite(request: AddToSuite) -> Result<ParitySuite, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.add_to_suite(&caller, request).await }).await
}

#[server(prefix = "/api", endpoint = "parity/suites/remove", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn remove_from_parity_suite(suite: String, compare: String) -> Result<Option<ParitySuite>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.remove_from_suite(&caller, &suite, &compare).await })
        .await
}

/// A saved suite's schedule: every `interval_mins`, up to `jitter_secs` later; without an interval
/// the suite runs on demand only.
#[server(prefix = "/api", endpoint = "parity/suites/schedule", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn schedule_parity_suite(
    suite: String,
    interval_mins: Option<u64>,
    jitter_secs: Option<u64>,
) -> Result<ParitySuiteView, ConsoleError> {
    crate::backend::serve(|caller, backend| async move {
        backend.schedule_suite(&caller, &suite, interval_mins, jitter_secs.unwrap_or(0)).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "parity/suites/delete", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn delete_parity_suite(suite: String) -> Result<(), ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.delete_suite(&caller, &suite).await }).await
}

/// The run belongs to the console, not to the request: a caller who leaves mid-run (tab closed,
/// network gone) does not cut it short, and it is kept, audited and alerted like any other.
#[server(prefix = "/api", endpoint = "parity/run", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn run_parity_suite(suite: String) -> Result<ParityRun, ConsoleError> {
    crate::backend::serve(|caller, backend| async move {
        let (done, outcome) = futures::channel::oneshot::channel();
        leptos::task::spawn(async move {
            // Nobody is waiting any more when the caller left; the run is kept all the same.
            let _ = done.send(backend.run_suite(&caller, &suite).await);
        });
        outcome.await.unwrap_or_else(|_| Err(ConsoleError::Internal("the parity run stopped before it ended".into())))
    })
    .await
}

#[server(prefix = "/api", endpoint = "parity/runs/get", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_parity_run(id: i64) -> Result<ParityRun, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.parity_run(&caller, id).await }).await
}

#[server(prefix = "/api", endpoint = "parity/baseline", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn accept_parity_baseline(run_id: i64) -> Result<ParitySuiteView, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.accept_baseline(&caller, run_id).await }).await
}

#[server(prefix = "/api", endpoint = "parity/badge", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_parity_badge() -> Result<ParityBadge, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.parity_badge(&caller).await }).await
}

/// The Parity page's spec drift view of two environments.
#[server(prefix = "/api", endpoint = "parity/spec", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_spec_drift(left: String, right: String) -> Result<SpecDriftView, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.spec_drift(&caller, &left, &right).await }).await
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Parity watch through the real HTTP surface: suites over the embedded simulator and its
//! production twin, runs kept in the database, baselines, new drift, the request budget on the
//! injected clock, one run per suite at a time, exports and `/metrics`; spec drift between the
//! environments' live OpenAPI documents and the bundled catalog.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::{
    AddToSuite, CompareRequest, ConsoleError, DiffOptions, DriftKind, ParityRun, ParitySuiteView, SpecChangeKind,
    SpecComparison, SpecDriftView, SpecState,
};
use console_server::clock::{ManualClock, SharedClock, SystemClock};
use console_server::config::{RawConfig, RawEnvironment, RawLiveSpec, RawSuite, RawSuiteCompare};
use serde_json::json;

use crate::support::{audit_rows_of, list_charges, TestConsole, Vars, WALLET};

const PRODUCTION: &str = "simulator-production";

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn read(name: &str, path: &str, pairs: &[(&str, &str)]) -> RawSuiteCompare {
    RawSuiteCompare { name: name.into(), path: path.into(), query: query(pairs), ..RawSuiteCompare::default() }
}

fn suite(name: &str, compares: Vec<RawSuiteCompare>) -> RawSuite {
    RawSuite { name: name.into(), left: "simulator".into(), right: PRODUCTION.into(), compares, ..RawSuite::default() }
}

/// The simulator's known drifts: charges (a type, a missing and an extra field), wallets (balances),
/// and the deployment header on every answer.
fn known_suite() -> RawSuite {
    suite(
        "nightly",
        vec![
            read("list charges", "/bank/wallet/charges/", &[("wallet_uuid", WALLET), ("limit", "5")]),
            read("wallet", "/bank/wallet/", &[("wallet_uuid", WALLET)]),
        ],
    )
}

async fn console_with(suites: Vec<RawSuite>, clock: SharedClock, tune: impl FnOnce(&mut RawConfig)) -> TestConsole {
    let mut raw = RawConfig::default();
    raw.parity.suites = suites;
    tune(&mut raw);
    TestConsole::start(raw, Vars::default(), clock).await
}

impl TestConsole {
    async fn parity_raw(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, String) {
        let response = self.http.post(format!("{}/api/parity/{endpoint}", self.base)).form(form).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn run_suite(&self, name: &str) -> ParityRun {
        let (status, text) = self.parity_raw("run", &[("suite", name)]).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn suites(&self) -> Vec<ParitySuiteView> {
        let (status, text) = self.parity_raw("suites", &[]).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn accept(&self, run: i64) -> ParitySuiteView {
        let (status, text) = self.parity_raw("baseline", &[("run_id", &run.to_string())]).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// "Add to a parity suite" as the Compare page sends it: the status and the body.
    async fn add_to_suite(&self, add: &AddToSuite) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}/api/parity/suites/add", self.base))
            .json(&json!({ "request": add }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn metrics_text(&self) -> String {
        self.http.get(format!("{}/metrics", self.base)).send().await.unwrap().text().await.unwrap()
    }
}

/// (compare, kind, path) of every new drift item, ranked as the run reports them.
fn new_drift(run: &ParityRun) -> Vec<(String, DriftKind, String)> {
    run.drift.iter().filter(|d| d.new).map(|d| (d.compare.clone(), d.kind, d.path.clone())).collect()
}

fn item(compare: &str, kind: DriftKind, path: &str) -> (String, DriftKind, String) {
    (compare.to_owned(), kind, path.to_owned())
}

fn known_drifts() -> Vec<(String, DriftKind, String)> {
    vec![
        item("list charges", DriftKind::TypeChanged, "$['data'][*]['installment_count']"),
        item("list charges", DriftKind::Removed, "$['data'][*]['description']"),
        item("list charges", DriftKind::Added, "$['data'][*]['acquirer_reference']"),
        item("list charges", DriftKind::Header, "x-a55-deployment"),
        item("wallet", DriftKind::Header, "x-a55-deployment"),
        item("wallet", DriftKind::Changed, "$['balance']['available']"),
        item("wallet", DriftKind::Changed, "$['balance']['pending']"),
    ]
}

#[tokio::test]
async fn a_suite_over_the_simulator_and_its_production_twin_finds_exactly_the_known_drifts() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), |_| {}).await;
    let run = console.run_suite("nightly").await;
    assert_eq!(new_drift(&run), known_drifts(), "{:#?}", run.drift);
    let charges = &run.compares[0];
    assert_eq!((charges.left_status, charges.right_status), (Some(200), Some(200)));
    assert_eq!((charges.counts.type_changed, charges.counts.removed, charges.counts.added), (5, 5, 5));
    assert_eq!(run.drift[0].occurrences, 5, "one item for the same change in every charge");
    assert_eq!(run.drift[0].left.as_deref().map(|l| l.ends_with("(number)")), Some(true), "{:?}", run.drift[0]);
    let summary = run.summary();
    assert_eq!((summary.new_shape, summary.new_value, summary.known), (5, 2, 0));
    let requests: Vec<(String, u32)> = run.requests.iter().map(|r| (r.environment.clone(), r.requests)).collect();
    assert_eq!(requests, [("simulator".to_owned(), 2), (PRODUCTION.to_owned(), 2)]);
    // Kept: the suite lists it as its last run, and it reads back whole.
    let views = console.suites().await;
    assert_eq!(views[0].last_run.as_ref().map(|r| r.id), Some(run.id));
    let (status, text) = console.parity_raw("runs/get", &[("id", &run.id.to_string())]).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<ParityRun>(&text).unwrap(), run);
    let audit = audit_rows_of(&console, "parity_run").await;
    assert_eq!(audit.len(), 1);
    assert!(audit[0].2.as_deref().unwrap().contains("5 new shape, 2 new value and 0 new spec drift"), "{audit:?}");
    assert!(console.metrics_text().await.contains("a55_console_parity_new_drift_total{suite=\"nightly\"} 7"));
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_baseline_silences_the_known_drifts_and_a_new_drift_from_production_is_reported() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), |_| {}).await;
    let first = console.run_suite("nightly").await;
    let view = console.accept(first.id).await;
    let baseline = view.baseline.unwrap();
    assert_eq!((baseline.run_id, baseline.items), (first.id, 7));
    let quiet = console.run_suite("nightly").await;
    assert!(new_drift(&quiet).is_empty(), "{:#?}", quiet.drift);
    assert_eq!(quiet.summary().known, 7);
    assert_eq!(quiet.baseline_at_ms, Some(baseline.accepted_at_ms));

    console.builtin().simulator().drop_production_field("currency");
    let drifted = console.run_suite("nightly").await;
    let new = new_drift(&drifted);
    assert!(!new.is_empty(), "{:#?}", drifted.drift);
    assert!(new.iter().all(|(_, kind, path)| *kind == DriftKind::Removed && path.ends_with("['currency']")), "{new:?}");
    assert!(new.contains(&item("list charges", DriftKind::Removed, "$['data'][*]['currency']")), "{new:?}");
    assert_eq!(drifted.summary().known, 7, "the known drifts stay known");
    let markdown = console.http.get(format!("{}/parity/export/{}?format=md", console.base, drifted.id)).send().await;
    let markdown = markdown.unwrap().text().await.unwrap();
    assert!(markdown.contains(&format!("## New shape drift ({})", new.len())), "{markdown}");
    assert!(markdown.contains("`$['data'][*]['currency']`"), "{markdown}");
    let exported: ParityRun = console
        .http
        .get(format!("{}/parity/export/{}?format=json", console.base, drifted.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(exported.id, drifted.id);
    let (status, badge) = console.parity_raw("badge", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&badge).unwrap(),
        json!({"suites": 1, "new_drift": new.len()})
    );
    let audit = audit_rows_of(&console, "parity_baseline").await;
    assert_eq!(audit.len(), 1);
    assert!(audit[0].2.as_deref().unwrap().contains(&format!("baseline accepted from run #{}, 7 known", first.id)));
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_suite_with_a_write_is_refused_naming_the_suite_and_the_compare() {
    let mut raw = RawConfig::default();
    let mut write = read("create charge", "/bank/wallet/charge/", &[]);
    write.method = Some("POST".into());
    raw.parity.suites = vec![suite("nightly", vec![read("wallet", "/bank/wallet/", &[]), write])];
    let problems = console_server::config::validate(raw, &Vars::default()).unwrap_err().0;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("parity.suites[0].compares[1]: suite \"nightly\", compare \"create charge\": POST"));
    assert!(problems[0].contains("a suite may only send GET, HEAD, OPTIONS"), "{}", problems[0]);

    // From the Compare page: refused the same way, and nothing is saved.
    let console = TestConsole::simulator_only().await;
    let post = |environment: &str| app::wire::ExecuteRequest { method: "POST".into(), ..list_charges(environment, 1) };
    let add = AddToSuite {
        suite: "from the page".into(),
        name: "create".into(),
        request: CompareRequest { left: post("simulator"), right: post(PRODUCTION), options: DiffOptions::defaults() },
    };
    let (status, text) = console.add_to_suite(&add).await;
    assert_eq!(status, 400);
    let error: ConsoleError = serde_json::from_str(&text).unwrap();
    assert!(error.to_string().starts_with("suite \"from the page\", compare \"create\": POST"), "{error}");
    assert!(console.suites().await.is_empty());
    // A read is saved, and runs.
    let read = AddToSuite {
        request: CompareRequest {
            left: list_charges("simulator", 2),
            right: list_charges(PRODUCTION, 2),
            options: DiffOptions::defaults(),
        },
        ..add
    };
    let (status, text) = console.add_to_suite(&read).await;
    assert_eq!(status, 200, "{text}");
    let run = console.run_suite("from the page").await;
    assert_eq!(run.compares.len(), 1);
    assert_eq!(run.compares[0].counts.type_changed, 2);
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_request_budget_holds_a_run_until_the_injected_clock_frees_it_and_one_suite_runs_once_at_a_time() {
    let clock = ManualClock::new();
    let console = Arc::new(
        console_with(vec![suite("budget", charge_reads(3))], clock.clone(), |raw| {
            raw.parity.requests_per_minute = 2;
        })
        .await,
    );
    let running = spawn_run(&console, "budget");
    // Two compares fit in the minute; the third waits for the clock.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!running.is_finished(), "the third compare must wait for the budget");
    assert!(console.suites().await[0].running);
    let (status, text) = console.parity_raw("run", &[("suite", "budget")]).await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("suite \\\"budget\\\" is already running"), "{text}");
    clock.advance(Duration::from_secs(61));
    let run = tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap();
    assert_eq!(run.compares.len(), 3);
    assert!(run.compares.iter().all(|c| c.left_status == Some(200) && c.right_status == Some(200)));
    assert!(!console.suites().await[0].running);
}

/// `n` read-only compares of the charge list, told apart by their `limit`.
fn charge_reads(n: usize) -> Vec<RawSuiteCompare> {
    (1..=n)
        .map(|i| {
            read(
                &format!("charges {i}"),
                "/bank/wallet/charges/",
                &[("wallet_uuid", WALLET), ("limit", &i.to_string())],
            )
        })
        .collect()
}

#[tokio::test]
async fn a_run_goes_on_and_is_kept_when_its_caller_leaves_before_it_ends() {
    let clock = ManualClock::new();
    let console = console_with(vec![suite("budget", charge_reads(3))], clock.clone(), |raw| {
        raw.parity.requests_per_minute = 2;
    })
    .await;
    // The caller gives up while the third compare waits for the budget.
    let left = console
        .http
        .post(format!("{}/api/parity/run", console.base))
        .form(&[("suite", "budget")])
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(left.is_err_and(|e| e.is_timeout()), "the run must still be waiting for its budget");
    assert!(console.suites().await[0].running, "the run goes on without its caller");
    clock.advance(Duration::from_secs(61));
    let finished = wait_for_run(&|| async { console.suites().await.remove(0).last_run }, None).await;
    let (status, text) = console.parity_raw("runs/get", &[("id", &finished.id.to_string())]).await;
    assert_eq!(status, 200, "{text}");
    let run: ParityRun = serde_json::from_str(&text).unwrap();
    assert_eq!(run.compares.len(), 3);
    assert!(run.compares.iter().all(|c| c.left_status == Some(200) && c.right_status == Some(200)));
    assert!(!console.suites().await[0].running);
    console.console.shutdown().await;
}

async fn redis_replica(
    redis: &crate::support::redis::RedisServer,
    clock: SharedClock,
    suites: Vec<RawSuite>,
) -> TestConsole {
    let mut raw = RawConfig::default();
    raw.parity.suites = suites;
    raw.parity.requests_per_minute = 2;
    raw.sessions = console_server::config::RawSessions {
        redis_url: Some(redis.url()),
        redis_password_env: Some("IT_REDIS_PASSWORD".into()),
        ..console_server::config::RawSessions::default()
    };
    let mut vars = Vars::default();
    vars.0.insert("IT_REDIS_PASSWORD".into(), redis.password.clone());
    TestConsole::start(raw, vars, clock).await
}

fn spawn_run(console: &Arc<TestConsole>, suite: &'static str) -> tokio::task::JoinHandle<ParityRun> {
    let console = console.clone();
    tokio::spawn(async move { console.run_suite(suite).await })
}

#[tokio::test]
async fn with_two_replicas_on_one_redis_a_suite_runs_once_at_a_time_and_both_draw_on_one_request_budget() {
    let redis = crate::support::redis::RedisServer::start().await;
    let clocks = [ManualClock::new(), ManualClock::new()];
    let suites = || vec![suite("budget", charge_reads(3)), suite("other", charge_reads(1))];
    let a = Arc::new(redis_replica(&redis, clocks[0].clone(), suites()).await);
    let b = Arc::new(redis_replica(&redis, clocks[1].clone(), suites()).await);
    let advance = |by: u64| {
        for clock in &clocks {
            clock.advance(Duration::from_secs(by));
        }
    };
    let on_a = spawn_run(&a, "budget");
    // Two compares take the minute's budget of both environments; the third waits.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!on_a.is_finished(), "the third compare must wait for the budget");
    let (status, text) = b.parity_raw("run", &[("suite", "budget")]).await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("already running on another replica"), "{text}");
    // Another suite on the other replica draws on the same, spent budget.
    let on_b = spawn_run(&b, "other");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!on_b.is_finished(), "replica b must wait for the budget replica a spent");
    advance(61);
    let run_a = tokio::time::timeout(Duration::from_secs(10), on_a).await.unwrap().unwrap();
    let run_b = tokio::time::timeout(Duration::from_secs(10), on_b).await.unwrap().unwrap();
    assert_eq!((run_a.compares.len(), run_b.compares.len()), (3, 1));
    // The lock went with the run: the suite starts again on the other replica (and its third
    // compare waits for the next minute, as before).
    advance(61);
    let again = spawn_run(&b, "budget");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!again.is_finished(), "the run must have started and be waiting for its third request");
    advance(61);
    let again = tokio::time::timeout(Duration::from_secs(10), again).await.unwrap().unwrap();
    assert_eq!(again.compares.len(), 3);
    for replica in [a, b] {
        Arc::into_inner(replica).unwrap().console.shutdown().await;
    }
}

#[tokio::test]
async fn with_replicas_an_on_demand_run_is_refused_while_redis_does_not_answer_and_nothing_is_sent() {
    let mut redis = crate::support::redis::RedisServer::start().await;
    // Both sides in the sandbox: demo mode, which fails closed without Redis, would refuse production.
    let sandbox_only = RawSuite { right: "simulator".into(), ..suite("other", charge_reads(1)) };
    let console = redis_replica(&redis, ManualClock::new(), vec![sandbox_only]).await;
    let before = console.metrics_text().await;
    redis.kill();
    let (status, text) = console.parity_raw("run", &[("suite", "other")]).await;
    redis.restart().await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("cannot make sure this suite runs only once"), "{text}");
    let sent = |metrics: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with("a55_console_upstream_requests_total"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(sent(&console.metrics_text().await), sent(&before), "nothing may be sent upstream");
    console.console.shutdown().await;
}

/// "Add to a parity suite" of charge lists `limit`, named `name`, to saved suite `suite`.
fn add_charges(suite: &str, name: &str, limit: u32) -> AddToSuite {
    AddToSuite {
        suite: suite.into(),
        name: name.into(),
        request: CompareRequest {
            left: list_charges("simulator", limit),
            right: list_charges(PRODUCTION, limit),
            options: DiffOptions::defaults(),
        },
    }
}

#[tokio::test]
async fn a_removed_compare_leaves_its_saved_suite_and_the_suite_goes_with_its_last_compare_and_its_runs() {
    let console = TestConsole::simulator_only().await;
    for (name, limit) in [("two", 2), ("three", 3)] {
        let (status, text) = console.add_to_suite(&add_charges("page", name, limit)).await;
        assert_eq!(status, 200, "{text}");
    }
    let run = console.run_suite("page").await;
    let (status, text) = console.parity_raw("suites/remove", &[("suite", "page"), ("compare", "two")]).await;
    assert_eq!(status, 200, "{text}");
    let suites = console.suites().await;
    let names: Vec<&str> = suites[0].suite.compares.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["three"]);
    assert_eq!(suites[0].last_run.as_ref().map(|r| r.id), Some(run.id), "runs stay while the suite does");
    let (status, text) = console.parity_raw("suites/remove", &[("suite", "page"), ("compare", "two")]).await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("suite \\\"page\\\" has no compare named \\\"two\\\""), "{text}");
    let (status, text) = console.parity_raw("suites/remove", &[("suite", "page"), ("compare", "three")]).await;
    assert_eq!((status, text.as_str()), (200, "null"));
    assert!(console.suites().await.is_empty());
    let (status, _) = console.parity_raw("runs/get", &[("id", &run.id.to_string())]).await;
    assert_eq!(status, 404, "the runs went with the suite");
    let details: Vec<String> =
        audit_rows_of(&console, "parity_suite").await.into_iter().filter_map(|(_, _, detail)| detail).collect();
    assert!(details[2].contains("compare \"two\" removed, 1 left"), "{details:?}");
    assert!(details[3].contains("the last one; suite deleted with 1 kept runs"), "{details:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn deleting_a_saved_suite_takes_its_baseline_and_runs_and_a_configured_suite_is_changed_only_in_its_file() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), |_| {}).await;
    let (status, text) = console.add_to_suite(&add_charges("page", "two", 2)).await;
    assert_eq!(status, 200, "{text}");
    let run = console.run_suite("page").await;
    console.accept(run.id).await;
    let (status, text) = console.parity_raw("suites/delete", &[("suite", "page")]).await;
    assert_eq!(status, 200, "{text}");
    let suites = console.suites().await;
    assert_eq!(suites.iter().map(|s| s.suite.name.as_str()).collect::<Vec<_>>(), ["nightly"]);
    // A new suite of the same name starts afresh: no runs, no baseline.
    console.add_to_suite(&add_charges("page", "two", 2)).await;
    let page = console.suites().await.into_iter().find(|s| s.suite.name == "page").unwrap();
    assert!(page.last_run.is_none() && page.baseline.is_none(), "{page:?}");
    let (status, text) = console.parity_raw("suites/delete", &[("suite", "nightly")]).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("is written in the configuration; change it there"), "{text}");
    let (status, text) = console.parity_raw("suites/delete", &[("suite", "nowhere")]).await;
    assert_eq!(status, 404, "{text}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_viewer_may_not_remove_from_a_suite_or_delete_it_and_an_operator_may() {
    use crate::masking::{call, call_json, login, staff};
    let mut raw = RawConfig::default();
    raw.auth.users = vec![staff("olga", "operator"), staff("victor", "viewer")];
    let console = TestConsole::start(raw, Vars::default(), Arc::new(SystemClock)).await;
    let (olga, victor) = (login(&console, "olga").await, login(&console, "victor").await);
    let (status, text) =
        call_json(&console, Some(&olga), "/api/parity/suites/add", json!({ "request": add_charges("page", "two", 2) }))
            .await;
    assert_eq!(status, 200, "{text}");
    for (path, form) in [
        ("/api/parity/suites/remove", &[("suite", "page"), ("compare", "two")][..]),
        ("/api/parity/suites/delete", &[("suite", "page")][..]),
    ] {
        let (status, text) = call(&console, Some(&victor), path, form).await;
        assert_eq!(status, 403, "{path}: {text}");
        assert!(text.contains("needs the operator or admin role"), "{text}");
    }
    let (status, text) = call(&console, Some(&olga), "/api/parity/suites/delete", &[("suite", "page")]).await;
    assert_eq!(status, 200, "{text}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_saved_suite_scheduled_on_the_page_runs_on_the_injected_clock_until_its_schedule_stops() {
    let clock = ManualClock::new();
    let console = console_with(Vec::new(), clock.clone(), |_| {}).await;
    let (status, text) = console.add_to_suite(&add_charges("page", "two", 2)).await;
    assert_eq!(status, 200, "{text}");
    for (form, problem) in [
        (&[("suite", "page"), ("interval_mins", "0")][..], "between 1 and 10080 minutes"),
        (
            &[("suite", "page"), ("interval_mins", "5"), ("jitter_secs", "300")][..],
            "must be shorter than the interval (300 s)",
        ),
    ] {
        let (status, text) = console.parity_raw("suites/schedule", form).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(problem), "{text}");
    }
    let (status, text) =
        console.parity_raw("suites/schedule", &[("suite", "page"), ("interval_mins", "5"), ("jitter_secs", "0")]).await;
    assert_eq!(status, 200, "{text}");
    let view: ParitySuiteView = serde_json::from_str(&text).unwrap();
    assert_eq!(view.suite.schedule, Some(app::wire::SuiteSchedule { interval_secs: 300, jitter_secs: 0 }));
    let last_run = || async { console.suites().await.remove(0).last_run };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(last_run().await.is_none(), "nothing runs before the interval");
    clock.advance(Duration::from_secs(5 * 60 + 1));
    let run = wait_for_run(&last_run, None).await;
    assert_eq!(run.started_by, "console");
    // Stopped: the clock moves on, and nothing more runs.
    let (status, text) = console.parity_raw("suites/schedule", &[("suite", "page")]).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<ParitySuiteView>(&text).unwrap().suite.schedule, None);
    clock.advance(Duration::from_secs(11 * 60));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(last_run().await.map(|r| r.id), Some(run.id));
    let details: Vec<String> =
        audit_rows_of(&console, "parity_suite").await.into_iter().filter_map(|(_, _, detail)| detail).collect();
    assert!(details.iter().any(|d| d.contains("suite \"page\": runs every 5 min, up to 0 s later")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("schedule stopped")), "{details:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn members_adding_to_one_suite_at_once_all_keep_their_compare() {
    let console = Arc::new(TestConsole::simulator_only().await);
    let adds = (1..=8).map(|n| {
        let console = console.clone();
        tokio::spawn(async move { console.add_to_suite(&add_charges("busy", &format!("compare {n}"), n)).await })
    });
    for added in futures::future::join_all(adds).await {
        let (status, text) = added.unwrap();
        assert_eq!(status, 200, "{text}");
    }
    let suites = console.suites().await;
    assert_eq!(suites[0].suite.compares.len(), 8, "no compare may be lost to another member's add");
    Arc::into_inner(console).unwrap().console.shutdown().await;
}

#[tokio::test]
async fn runs_are_kept_up_to_the_configured_count_per_suite() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), |raw| raw.parity.runs_kept = 2).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(console.run_suite("nightly").await.id);
    }
    let (status, _) = console.parity_raw("runs/get", &[("id", &ids[0].to_string())]).await;
    assert_eq!(status, 404, "the oldest run is gone");
    for id in &ids[1..] {
        assert_eq!(console.parity_raw("runs/get", &[("id", &id.to_string())]).await.0, 200);
    }
    console.console.shutdown().await;
}

#[tokio::test]
async fn runs_older_than_the_configured_age_are_deleted_on_the_injected_clock() {
    let clock = ManualClock::new();
    let console = console_with(vec![known_suite()], clock.clone(), |raw| raw.parity.runs_max_age_days = 7).await;
    let old = console.run_suite("nightly").await.id;
    clock.advance(Duration::from_secs(6 * 86_400));
    let recent = console.run_suite("nightly").await.id;
    assert_eq!(console.parity_raw("runs/get", &[("id", &old.to_string())]).await.0, 200, "six days old is kept");
    clock.advance(Duration::from_secs(86_400 + 1));
    let newest = console.run_suite("nightly").await.id;
    assert_eq!(console.parity_raw("runs/get", &[("id", &old.to_string())]).await.0, 404, "over seven days");
    for id in [recent, newest] {
        assert_eq!(console.parity_raw("runs/get", &[("id", &id.to_string())]).await.0, 200);
    }
    console.console.shutdown().await;
}

/// The figures of the issue: a suite of 20 compares against the simulator and its twin.
#[tokio::test]
async fn a_suite_of_twenty_compares_sends_twenty_requests_per_environment() {
    let console = console_with(vec![suite("twenty", charge_reads(20))], Arc::new(SystemClock), |raw| {
        raw.parity.requests_per_minute = 1_000;
    })
    .await;
    let before = console.metrics_text().await;
    let started = Instant::now();
    let run = console.run_suite("twenty").await;
    let elapsed = started.elapsed();
    let after = console.metrics_text().await;
    let sent = |text: &str, environment: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(&format!("a55_console_upstream_requests_total{{environment=\"{environment}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    for environment in ["simulator", PRODUCTION] {
        assert_eq!(sent(&after, environment) - sent(&before, environment), 20, "{environment}");
    }
    assert_eq!(run.compares.len(), 20);
    let requests: Vec<(String, u32)> = run.requests.iter().map(|r| (r.environment.clone(), r.requests)).collect();
    assert_eq!(requests, [("simulator".to_owned(), 20), (PRODUCTION.to_owned(), 20)]);
    eprintln!(
        "parity figures: 20 compares in {} ms (run's own timing {} ms), requests {:?}, {} new drift items",
        elapsed.as_millis(),
        run.duration_ms,
        requests,
        run.new_drift()
    );
    console.console.shutdown().await;
}

#[tokio::test]
async fn on_postgresql_a_suite_saved_from_the_page_its_runs_and_its_baseline_are_kept_there() {
    let pg = crate::support::postgres::PostgresServer::start().await;
    let database = pg.create_database().await;
    let mut raw = RawConfig::default();
    raw.storage.database_url = Some(pg.url_for(&database));
    raw.storage.database_password_env = Some("A55_IT_DB_PASSWORD".into());
    raw.parity.runs_kept = 1;
    with_live_specs(&mut raw);
    let mut vars = Vars::default();
    vars.0.insert("A55_IT_DB_PASSWORD".into(), pg.password().to_owned());
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let (status, text) = console.add_to_suite(&add_charges("on postgres", "two charges", 2)).await;
    assert_eq!(status, 200, "{text}");
    let first = console.run_suite("on postgres").await;
    assert_eq!(first.new_drift(), 4 + 5, "{:#?} {:#?}", first.drift, first.spec);
    assert_eq!(new_spec(&first), known_spec_drifts());
    console.accept(first.id).await;
    let second = console.run_suite("on postgres").await;
    assert_eq!((second.new_drift(), second.summary().known), (0, 4 + 5));
    let rows = pg.pool(&database).await;
    let count = |sql: &'static str| {
        let rows = rows.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&rows).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM parity_suites").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM parity_baselines").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM parity_runs").await, 1, "runs_kept = 1");
    let (new_spec_column, run_json): (i64, String) =
        sqlx::query_as("SELECT new_spec, run_json FROM parity_runs").fetch_one(&rows).await.unwrap();
    assert_eq!(new_spec_column, 0);
    assert_eq!(serde_json::from_str::<ParityRun>(&run_json).unwrap().spec, second.spec);
    let spec_json: String =
        sqlx::query_scalar("SELECT spec_json FROM parity_baselines").fetch_one(&rows).await.unwrap();
    assert_eq!(serde_json::from_str::<Vec<SpecComparison>>(&spec_json).unwrap()[0].changes.len(), 5);
    assert_eq!(count("SELECT COUNT(*) FROM audit_log WHERE event LIKE 'parity_%'").await, 4);
    // A schedule is kept there, and deleting the suite takes its baseline and runs.
    let form = [("suite", "on postgres"), ("interval_mins", "60"), ("jitter_secs", "5")];
    let (status, text) = console.parity_raw("suites/schedule", &form).await;
    assert_eq!(status, 200, "{text}");
    let schedule = console.suites().await[0].suite.schedule;
    assert_eq!(schedule, Some(app::wire::SuiteSchedule { interval_secs: 3600, jitter_secs: 5 }));
    let (status, text) = console.parity_raw("suites/delete", &[("suite", "on postgres")]).await;
    assert_eq!(status, 200, "{text}");
    for table in ["parity_suites", "parity_baselines", "parity_runs"] {
        let left =
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&rows).await.unwrap();
        assert_eq!(left, 0, "{table}");
    }
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_scheduled_suite_runs_as_the_console_once_its_interval_and_jitter_pass_on_the_injected_clock() {
    let clock = ManualClock::new();
    let mut scheduled = known_suite();
    scheduled.interval_mins = Some(10);
    scheduled.jitter_secs = 30;
    let console = console_with(vec![scheduled], clock.clone(), |_| {}).await;
    let last_run = || async { console.suites().await[0].last_run.clone() };
    let settled = || tokio::time::sleep(Duration::from_millis(400));
    settled().await;
    assert_eq!(last_run().await, None, "nothing runs at start-up");
    clock.advance(Duration::from_secs(9 * 60 + 59));
    settled().await;
    assert_eq!(last_run().await, None, "nor before the interval");
    clock.advance(Duration::from_secs(32));
    let first = wait_for_run(&last_run, None).await;
    assert_eq!(first.started_by, "console");
    assert_eq!(first.new_drift(), 7);
    settled().await;
    assert_eq!(last_run().await.map(|r| r.id), Some(first.id), "one run per interval");
    clock.advance(Duration::from_secs(10 * 60 + 31));
    let second = wait_for_run(&last_run, Some(first.id)).await;
    assert!(second.id > first.id);
    // The run is stored before its audit row is written (the row names the run), so the second
    // row may trail the run by a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let audit = loop {
        let audit = audit_rows_of(&console, "parity_run").await;
        if audit.len() >= 2 || Instant::now() >= deadline {
            break audit;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(audit.iter().map(|(actor, _, _)| actor.as_str()).collect::<Vec<_>>(), ["console", "console"]);
    console.console.shutdown().await;
}

/// The suite's newest run once it is not `after` (waits up to 10 s of real time).
async fn wait_for_run<F, Fut>(last_run: &F, after: Option<i64>) -> app::wire::ParityRunSummary
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<app::wire::ParityRunSummary>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(run) = last_run().await.filter(|r| Some(r.id) != after) {
            return run;
        }
        assert!(Instant::now() < deadline, "no scheduled run came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_two_replicas_on_one_redis_one_of_them_runs_each_scheduled_start() {
    let redis = crate::support::redis::RedisServer::start().await;
    let clocks = [ManualClock::new(), ManualClock::new()];
    let mut replicas = Vec::new();
    for clock in &clocks {
        let mut scheduled = known_suite();
        scheduled.interval_mins = Some(10);
        replicas.push(redis_replica(&redis, clock.clone(), vec![scheduled]).await);
    }
    let runs = |replica: &TestConsole| {
        let pool = replica.console.db.sqlite().unwrap().clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM parity_runs").fetch_one(&pool).await.unwrap() }
    };
    for clock in &clocks {
        clock.advance(Duration::from_secs(10 * 60 + 1));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while runs(&replicas[0]).await + runs(&replicas[1]).await == 0 {
        assert!(Instant::now() < deadline, "no replica ran the schedule");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(runs(&replicas[0]).await + runs(&replicas[1]).await, 1, "exactly one replica ran this start");
    for replica in replicas {
        replica.console.shutdown().await;
    }
}

/// A chat service's incoming webhook: keeps the body of every POST to `/hook/<token>`.
async fn webhook_receiver(token: &str) -> (String, Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = received.clone();
    let app = axum::Router::new().route(
        &format!("/hook/{token}"),
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook/{token}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn a_run_with_new_drift_is_posted_to_the_configured_webhook_and_a_quiet_run_is_not() {
    let token = format!("HOOK-TOKEN-{}", rand::random::<u64>());
    let (url, received) = webhook_receiver(&token).await;
    let mut raw = RawConfig::default();
    raw.parity.suites = vec![known_suite()];
    raw.parity.webhook_url_env = Some("IT_PARITY_WEBHOOK".into());
    let mut vars = Vars::default();
    vars.0.insert("IT_PARITY_WEBHOOK".into(), url);
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let first = console.run_suite("nightly").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "nothing reached the webhook");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let message = received.lock().unwrap()[0]["text"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(&format!(
            "Parity: suite \"nightly\" run #{} found 7 new drift (5 shape, 2 value, 0 spec; 0 known).",
            first.id
        )),
        "{message}"
    );
    assert!(message.contains("• list charges: type changed `$['data'][*]['installment_count']`"), "{message}");
    console.accept(first.id).await;
    console.run_suite("nightly").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received.lock().unwrap().len(), 1, "a run without new drift sends nothing");
    // The URL is a credential: not in the audit trail.
    for (_, _, detail) in audit_rows_of(&console, "parity_run").await {
        assert!(!detail.unwrap_or_default().contains(&token));
    }
    console.console.shutdown().await;
}

#[test]
fn a_webhook_url_that_is_not_https_is_refused_without_repeating_it() {
    let mut raw = RawConfig::default();
    raw.parity.webhook_url_env = Some("IT_PARITY_WEBHOOK".into());
    let vars = Vars(std::collections::HashMap::from([(
        "IT_PARITY_WEBHOOK".to_owned(),
        "http://hooks.example.com/services/T0/B0/SECRET-PART".to_owned(),
    )]));
    let problems = console_server::config::validate(raw, &vars).unwrap_err().0;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("must be https"), "{}", problems[0]);
    assert!(!problems[0].contains("SECRET-PART"), "{}", problems[0]);
}

// ---------------------------------------------------------------- spec drift

/// Both simulator environments with their live OpenAPI documents (`{api_base}/swagger.json`).
fn with_live_specs(raw: &mut RawConfig) {
    live_environments(raw, true);
}

/// The simulator with its live spec; production with one only when `production_live`.
fn live_environments(raw: &mut RawConfig, production_live: bool) {
    raw.environments.insert(
        "simulator".into(),
        RawEnvironment {
            kind: Some("simulator".into()),
            live_spec: Some(RawLiveSpec::Enabled(true)),
            ..RawEnvironment::default()
        },
    );
    raw.environments.insert(
        PRODUCTION.into(),
        RawEnvironment {
            kind: Some("production".into()),
            simulator: Some("production".into()),
            live_spec: production_live.then_some(RawLiveSpec::Enabled(true)),
            ..RawEnvironment::default()
        },
    );
}

type SpecKey = (SpecChangeKind, String, String);

fn new_spec(run: &ParityRun) -> Vec<SpecKey> {
    run.new_spec().map(|c| (c.kind, c.operation.clone(), c.pointer.clone())).collect()
}

fn spec_item(kind: SpecChangeKind, operation: &str, pointer: &str) -> SpecKey {
    (kind, operation.to_owned(), pointer.to_owned())
}

/// The production twin's known spec drifts (`simulator/production.rs`), ranked breaking first.
fn known_spec_drifts() -> Vec<SpecKey> {
    let charges = "GET /bank/wallet/charges/";
    vec![
        spec_item(SpecChangeKind::ResponseRemoved, charges, "responses/429"),
        spec_item(SpecChangeKind::ParameterRequired, charges, "parameters/query/limit"),
        spec_item(SpecChangeKind::TypeChanged, charges, "responses/200/body/data/[]/installment_count"),
        spec_item(SpecChangeKind::EnumValueRemoved, charges, "responses/200/body/data/[]/status/enum/refunded"),
        spec_item(SpecChangeKind::OperationAdded, "GET /bank/wallet/payout/", ""),
    ]
}

fn requests_of(run: &ParityRun) -> Vec<(String, u32)> {
    run.requests.iter().map(|r| (r.environment.clone(), r.requests)).collect()
}

impl TestConsole {
    async fn spec_view(&self, left: &str, right: &str) -> (u16, String) {
        self.parity_raw("spec", &[("left", left), ("right", right)]).await
    }

    async fn export(&self, run: i64, format: &str) -> String {
        let url = format!("{}/parity/export/{run}?format={format}", self.base);
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

#[tokio::test]
async fn a_suite_over_two_live_specs_finds_exactly_the_known_spec_drifts_with_one_request_per_environment() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), with_live_specs).await;
    let run = console.run_suite("nightly").await;
    assert_eq!(new_drift(&run), known_drifts(), "the responses drift as before: {:#?}", run.drift);
    assert_eq!(run.spec.len(), 1, "{:#?}", run.spec);
    assert_eq!((run.spec[0].left.as_str(), run.spec[0].right.as_str()), ("simulator", PRODUCTION));
    assert_eq!(run.spec[0].state, SpecState::Compared);
    assert_eq!(new_spec(&run), known_spec_drifts(), "{:#?}", run.spec);
    let typed = &run.spec[0].changes[2];
    assert_eq!((typed.before.as_deref(), typed.after.as_deref()), (Some("integer"), Some("string")));
    assert_eq!(run.spec[0].breaking(), 4);
    let summary = run.summary();
    assert_eq!((summary.new_shape, summary.new_value, summary.new_spec, summary.known), (5, 2, 5, 0));
    // Two compares and one fetch of each document, within the same budget.
    assert_eq!(requests_of(&run), [("simulator".to_owned(), 3), (PRODUCTION.to_owned(), 3)]);
    let (status, text) = console.parity_raw("runs/get", &[("id", &run.id.to_string())]).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<ParityRun>(&text).unwrap(), run, "the spec part is kept with the run");
    let markdown = console.export(run.id, "md").await;
    assert!(markdown.contains("**5 spec**"), "{markdown}");
    assert!(markdown.contains("## New spec drift (5)"), "{markdown}");
    assert!(
        markdown.contains("| type changed (breaking) | `GET /bank/wallet/charges/` | `responses/200/body/data/[]/installment_count` | integer | string |"),
        "{markdown}"
    );
    let exported: ParityRun = serde_json::from_str(&console.export(run.id, "json").await).unwrap();
    assert_eq!(exported.spec, run.spec);
    assert!(console.metrics_text().await.contains("a55_console_parity_new_drift_total{suite=\"nightly\"} 12"));
    let (_, badge) = console.parity_raw("badge", &[]).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(&badge).unwrap(), json!({"suites": 1, "new_drift": 12}));
    let audit = audit_rows_of(&console, "parity_run").await;
    assert!(audit[0].2.as_deref().unwrap().contains("2 new value and 5 new spec drift"), "{audit:?}");
    assert!(audit[0].2.as_deref().unwrap().contains("requests simulator 3, simulator-production 3"), "{audit:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_baseline_silences_the_known_spec_drifts_and_an_operation_production_drops_is_reported_as_new() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), with_live_specs).await;
    let first = console.run_suite("nightly").await;
    let view = console.accept(first.id).await;
    assert_eq!(view.baseline.unwrap().items, 7 + 5, "response drift and spec changes");
    let quiet = console.run_suite("nightly").await;
    assert_eq!((quiet.new_drift(), quiet.summary().known), (0, 12), "{:#?}", quiet.spec);
    assert_eq!(quiet.spec[0].changes.len(), 5, "known changes stay listed");

    console.builtin().simulator().drop_production_operation("GET", "/wallets");
    let drifted = console.run_suite("nightly").await;
    assert_eq!(new_spec(&drifted), [spec_item(SpecChangeKind::OperationRemoved, "GET /wallets", "")]);
    assert!(new_drift(&drifted).is_empty(), "the responses did not change: {:#?}", drifted.drift);
    assert_eq!((drifted.summary().new_spec, drifted.summary().known), (1, 12));
    let markdown = console.export(drifted.id, "md").await;
    assert!(markdown.contains("## New spec drift (1)"), "{markdown}");
    assert!(markdown.contains("simulator → simulator-production (5 known)"), "{markdown}");
    assert!(markdown.contains("| operation removed (breaking) | `GET /wallets` |"), "{markdown}");
    let (_, badge) = console.parity_raw("badge", &[]).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(&badge).unwrap(), json!({"suites": 1, "new_drift": 1}));
    console.console.shutdown().await;
}

#[tokio::test]
async fn an_environment_without_a_live_spec_is_reported_as_such_costs_no_request_and_is_not_drift() {
    let console = console_with(vec![known_suite()], Arc::new(SystemClock), |raw| live_environments(raw, false)).await;
    let run = console.run_suite("nightly").await;
    assert_eq!(
        run.spec,
        [SpecComparison {
            left: "simulator".into(),
            right: PRODUCTION.into(),
            state: SpecState::NoLiveSpec { environments: vec![PRODUCTION.into()] },
            changes: Vec::new(),
        }]
    );
    assert_eq!(new_drift(&run), known_drifts());
    assert_eq!((run.summary().new_spec, run.summary().failed_sides), (0, 0));
    assert_eq!(requests_of(&run), [("simulator".to_owned(), 2), (PRODUCTION.to_owned(), 2)]);
    let markdown = console.export(run.id, "md").await;
    assert!(markdown.contains("simulator → simulator-production: not compared, no live spec for simulator-production."));
    // The page says the same, and still compares the simulator with the catalog.
    let (status, text) = console.spec_view("simulator", PRODUCTION).await;
    assert_eq!(status, 200, "{text}");
    let view: SpecDriftView = serde_json::from_str(&text).unwrap();
    let states: Vec<&SpecState> = view.comparisons.iter().map(|c| &c.state).collect();
    let none = SpecState::NoLiveSpec { environments: vec![PRODUCTION.into()] };
    assert_eq!(states, [&none, &SpecState::Compared, &none]);
    console.console.shutdown().await;
}

/// A server that answers every request with `status` and `body` (here: a document that is not YAML).
async fn fixed_server(status: u16, body: &'static str) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app =
        axum::Router::new().fallback(move || async move { (axum::http::StatusCode::from_u16(status).unwrap(), body) });
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn the_spec_view_compares_two_environments_and_each_with_the_catalog_and_names_a_document_it_cannot_read() {
    let broken = fixed_server(200, "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: [\n").await;
    let mut vars = Vars::default();
    vars.0.insert("IT_BROKEN_SECRET".into(), "broken-canary-secret".into());
    let mut raw = RawConfig::default();
    with_live_specs(&mut raw);
    raw.environments.insert(
        "broken".into(),
        RawEnvironment {
            kind: Some("sandbox".into()),
            api_base: Some(format!("http://{broken}/api/v1")),
            token_url: Some(format!("http://{broken}/oauth2/token")),
            client_id: Some("partner-client".into()),
            client_secret_env: Some("IT_BROKEN_SECRET".into()),
            live_spec: Some(RawLiveSpec::Enabled(true)),
            ..RawEnvironment::default()
        },
    );
    raw.parity.suites = vec![RawSuite {
        name: "broken".into(),
        left: "simulator".into(),
        right: "broken".into(),
        compares: vec![read("wallets", "/wallets", &[])],
        ..RawSuite::default()
    }];
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;

    let (status, text) = console.spec_view("simulator", PRODUCTION).await;
    assert_eq!(status, 200, "{text}");
    let view: SpecDriftView = serde_json::from_str(&text).unwrap();
    let sides: Vec<(&str, &str)> = view.comparisons.iter().map(|c| (c.left.as_str(), c.right.as_str())).collect();
    assert_eq!(sides, [("simulator", PRODUCTION), ("catalog", "simulator"), ("catalog", PRODUCTION)]);
    let pair: Vec<SpecKey> =
        view.comparisons[0].changes.iter().map(|c| (c.kind, c.operation.clone(), c.pointer.clone())).collect();
    assert_eq!(pair, known_spec_drifts());
    // What the catalog documents that the simulator does not serve, and the other way round.
    let catalog = &view.comparisons[1];
    assert_eq!(catalog.state, SpecState::Compared);
    assert!(catalog.changes.iter().any(|c| c.kind == SpecChangeKind::OperationRemoved), "{catalog:#?}");
    assert!(
        catalog.changes.iter().any(|c| c.kind == SpecChangeKind::OperationAdded && c.operation == "GET /sim/large"),
        "{catalog:#?}"
    );
    assert!(!view.comparisons[2]
        .changes
        .iter()
        .any(|c| c.operation == "GET /sim/large" && c.kind == SpecChangeKind::OperationRemoved));

    let (status, text) = console.spec_view("simulator", "broken").await;
    assert_eq!(status, 200, "{text}");
    let view: SpecDriftView = serde_json::from_str(&text).unwrap();
    let SpecState::Unavailable { reason } = &view.comparisons[0].state else { panic!("{view:#?}") };
    assert!(reason.starts_with("broken: broken (live spec): not a valid OpenAPI 3 document:"), "{reason}");
    assert!(reason.contains("at line 4 column 1"), "the place of the error: {reason}");
    assert!(reason.contains(&format!("fetched from http://{broken}/api/v1/swagger.json")), "{reason}");
    assert_eq!(view.comparisons[1].state, SpecState::Compared);
    assert_eq!(view.comparisons[2].state, view.comparisons[0].state);

    // A run with that document completes and says why its specs were not compared.
    let run = console.run_suite("broken").await;
    assert!(
        matches!(&run.spec[0].state, SpecState::Unavailable { reason } if reason.starts_with("broken: ")),
        "{:#?}",
        run.spec
    );
    assert_eq!(run.summary().new_spec, 0);

    let (status, text) = console.spec_view("simulator", "simulator").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("choose two different environments"), "{text}");
    let (status, _) = console.spec_view("simulator", "nowhere").await;
    assert_eq!(status, 404);
    console.console.shutdown().await;
}

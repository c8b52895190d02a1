//! Overhead benchmark (`make bench`): the same upstream request sent directly (reqwest -> simulator)
//! and through the console (HTTP API -> console -> simulator), interleaved in one run; the added
//! latency (median, p99, ratio) and the requests per second through the console.

// A benchmark measures real elapsed time from outside the console.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark that cannot run should stop")]

mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use support::{ms, quantile, Rig, RigOptions, StaffSession};

const WARM_UP: usize = 300;
const PAIRS: usize = 5_000;
/// Pairs of the same request for one charge (an answer of about 1.6 KB instead of 16 KB): what the
/// console adds whatever the size of the answer.
const SMALL_PAIRS: usize = 2_000;
const THROUGHPUT_CLIENTS: usize = 32;
const THROUGHPUT_TIME: Duration = Duration::from_secs(10);
/// Targets: what the console may add to the median and the 90th percentile request on loopback,
/// and the requests per second it must carry with `THROUGHPUT_CLIENTS` senders.
const TARGET_MEDIAN_ADDED: Duration = Duration::from_micros(300);
const TARGET_P90_ADDED: Duration = Duration::from_millis(1);
const TARGET_THROUGHPUT: f64 = 5_000.0;

/// `A55_OVERHEAD_PAIRS=n`: a profiling run (for instance with `A55_CONSOLE_BIN` naming a wrapper
/// that starts the console under callgrind): n pairs, no throughput run, no section, no verdict.
fn profiling_pairs() -> Option<usize> {
    std::env::var("A55_OVERHEAD_PAIRS").ok().and_then(|n| n.parse().ok())
}

/// The request the console sends upstream for `support::list_charges()`, sent by hand with the
/// same headers (see the Request tab's record): only the console in between is missing.
struct Direct {
    http: reqwest::Client,
    url: String,
    authorization: String,
}

impl Direct {
    /// `limit`: how many charges the page asks for (the console's request must ask the same).
    async fn new(rig: &Rig, limit: usize) -> Self {
        let http = reqwest::Client::builder().no_proxy().gzip(true).build().unwrap();
        let token: serde_json::Value = http
            .post(rig.sim.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", support::CLIENT_ID),
                ("client_secret", rig.client_secret()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = token["access_token"].as_str().expect("an access token").to_owned();
        let url = format!("{}bank/wallet/charges/?wallet_uuid={}&limit={limit}", rig.sim.api_base(), support::WALLET);
        Self { http, url, authorization: format!("Bearer {access}") }
    }

    async fn send(&self) {
        let response = self
            .http
            .get(&self.url)
            .header("authorization", &self.authorization)
            .header("accept", "*/*")
            .header("user-agent", concat!("a55-console/", env!("CARGO_PKG_VERSION")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        std::hint::black_box(response.bytes().await.unwrap());
    }
}

async fn through_console(session: &StaffSession, request: &app::wire::ExecuteRequest) {
    let answer = session.execute(request).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
}

fn summary(label: &str, sorted: &[Duration]) -> String {
    format!(
        "| {label} | {} | {} | {} |",
        ms(quantile(sorted, 0.5)),
        ms(quantile(sorted, 0.9)),
        ms(quantile(sorted, 0.99))
    )
}

/// Requests completed per second by `THROUGHPUT_CLIENTS` concurrent senders of `send`.
async fn throughput<F, Fut>(send: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let deadline = started + THROUGHPUT_TIME;
    let mut tasks = Vec::new();
    for _ in 0..THROUGHPUT_CLIENTS {
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                send().await;
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Per-pair times of the interleaved run, each sorted.
struct Pairs {
    direct: Vec<Duration>,
    console: Vec<Duration>,
    /// Console minus direct, per pair, in seconds.
    added: Vec<f64>,
    whoami: Vec<Duration>,
}

async fn interleaved(
    direct: &Direct,
    session: &StaffSession,
    request: &app::wire::ExecuteRequest,
    pairs: usize,
    whoamis: usize,
) -> Pairs {
    for _ in 0..WARM_UP.min(pairs) {
        direct.send().await;
        through_console(session, request).await;
    }
    let mut direct_times = Vec::with_capacity(pairs);
    let mut console_times = Vec::with_capacity(pairs);
    let mut added = Vec::with_capacity(pairs);
    for pair in 0..pairs {
        // Alternate which goes first, so neither always finds the caches the other just warmed.
        let mut time_direct = Duration::ZERO;
        let mut time_console = Duration::ZERO;
        for turn in 0..2 {
            let start = Instant::now();
            if (pair + turn) % 2 == 0 {
                direct.send().await;
                time_direct = start.elapsed();
            } else {
                through_console(session, request).await;
                time_console = start.elapsed();
            }
        }
        direct_times.push(time_direct);
        console_times.push(time_console);
        added.push(time_console.as_secs_f64() - time_direct.as_secs_f64());
    }
    // What the staff gate and a server function cost on their own: the part of "added" that is not
    // the execute path's own work.
    let mut whoami = Vec::with_capacity(whoamis);
    for _ in 0..whoamis {
        let start = Instant::now();
        session.whoami().await;
        whoami.push(start.elapsed());
    }
    whoami.sort_unstable();
    direct_times.sort_unstable();
    console_times.sort_unstable();
    added.sort_unstable_by(f64::total_cmp);
    Pairs { direct: direct_times, console: console_times, added, whoami }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "missed"
    }
}

fn report(pairs: &Pairs, small: Option<&Pairs>, console_rate: f64, direct_rate: f64) -> String {
    let (median_added, p90_added) = (quantile(&pairs.added, 0.5), quantile(&pairs.added, 0.9));
    let ratio = quantile(&pairs.console, 0.5).as_secs_f64() / quantile(&pairs.direct, 0.5).as_secs_f64();
    let mut report = String::new();
    writeln!(report, "| {} interleaved pairs | p50 | p90 | p99 |\n| --- | --- | --- | --- |", pairs.added.len())
        .unwrap();
    writeln!(report, "{}", summary("direct: reqwest -> simulator", &pairs.direct)).unwrap();
    writeln!(report, "{}", summary("through the console: `POST /api/execute` -> console -> simulator", &pairs.console))
        .unwrap();
    if !pairs.whoami.is_empty() {
        writeln!(
            report,
            "{}",
            summary("for comparison: `POST /api/whoami` (session checks, no upstream request)", &pairs.whoami)
        )
        .unwrap();
    }
    writeln!(
        report,
        "| added by the console (per pair: console - direct) | {:.2} ms | {:.2} ms | {:.2} ms |",
        median_added * 1e3,
        p90_added * 1e3,
        quantile(&pairs.added, 0.99) * 1e3
    )
    .unwrap();
    if let Some(small) = small {
        writeln!(
            report,
            "| added for a one-charge answer (about 1.6 KB; {} more pairs) | {:.2} ms | {:.2} ms | {:.2} ms |",
            small.added.len(),
            quantile(&small.added, 0.5) * 1e3,
            quantile(&small.added, 0.9) * 1e3,
            quantile(&small.added, 0.99) * 1e3
        )
        .unwrap();
    }
    writeln!(
        report,
        "\nRatio of the medians (console / direct): {ratio:.1}×. Median added: {:.2} ms (target: at most {:.1} ms, {}). \
         p90 added: {:.2} ms (target: at most {} ms, {}).",
        median_added * 1e3,
        TARGET_MEDIAN_ADDED.as_secs_f64() * 1e3,
        verdict(median_added <= TARGET_MEDIAN_ADDED.as_secs_f64()),
        p90_added * 1e3,
        TARGET_P90_ADDED.as_millis(),
        verdict(p90_added <= TARGET_P90_ADDED.as_secs_f64()),
    )
    .unwrap();
    writeln!(
        report,
        "\nThroughput with {THROUGHPUT_CLIENTS} concurrent senders for {} s: {console_rate:.0} requests/s through the console \
         (target: at least {TARGET_THROUGHPUT:.0}, {}), {direct_rate:.0} requests/s direct.",
        THROUGHPUT_TIME.as_secs(),
        verdict(console_rate >= TARGET_THROUGHPUT),
    )
    .unwrap();
    report
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let load = support::machine_load();
    let rig = Rig::start(&RigOptions {
        staff: 1,
        token_lifetime: Duration::from_secs(3_600),
        refresh_skew: Duration::from_secs(300),
        replicas: 1,
        backends: None,
    })
    .await;
    let session = StaffSession::login(&rig.base, &support::staff_name(0)).await;
    let direct = std::sync::Arc::new(Direct::new(&rig, 10).await);
    let request = support::list_charges();

    if let Some(pairs) = profiling_pairs() {
        let pairs = interleaved(&direct, &session, &request, pairs, 0).await;
        rig.shutdown().await;
        println!("{}", report(&pairs, None, 0.0, 0.0));
        return;
    }
    let pairs = interleaved(&direct, &session, &request, PAIRS, PAIRS).await;
    let small = {
        let direct = Direct::new(&rig, 1).await;
        let mut request = request.clone();
        for (name, value) in &mut request.query {
            if name == "limit" {
                *value = "1".into();
            }
        }
        interleaved(&direct, &session, &request, SMALL_PAIRS, 0).await
    };
    let console_rate = {
        let (session, request) = (session.clone(), request.clone());
        throughput(move || {
            let (session, request) = (session.clone(), request.clone());
            async move { through_console(&session, &request).await }
        })
        .await
    };
    let direct_rate = {
        let direct = direct.clone();
        throughput(move || {
            let direct = direct.clone();
            async move { direct.send().await }
        })
        .await
    };
    rig.shutdown().await;

    let report = report(&pairs, Some(&small), console_rate, direct_rate);
    println!("{report}");
    if support::is_bench_run() {
        let section = format!(
            "## Overhead (`server/benches/overhead.rs`)\n\n\
             How to rerun: `make bench-overhead` (or `cargo bench -p server --bench overhead`).\n\n\
             One run, one logged-in staff session, {PAIRS} pairs after {WARM_UP} warm-up pairs, one request at a\n\
             time: the same upstream request (`GET /bank/wallet/charges/?limit=10`, about 16 KB of JSON, with\n\
             the same Bearer token and headers) sent directly with reqwest to the simulator, and through the\n\
             console binary (`bench` profile, its own process) as `POST /api/execute` with the session cookie\n\
             and anti-CSRF header. The order inside each pair alternates. \"Added\" is the per-pair\n\
             difference, so both sides see the same moment of a busy machine. {SMALL_PAIRS} more pairs ask for one\n\
             charge (about 1.6 KB of JSON), so that what the console adds whatever the answer's size shows apart. Through the console a request\n\
             also passes the session and login checks, guard rails, the token cache, the body store, the\n\
             history row in SQLite, the audit queue and one log line; the direct side skips all of that.\n\
             The throughput run shares the machine's cores between the 32 senders, the simulator (both in\n\
             the benchmark's process) and the console.\n\n\
             Measured {date} ({rustc}); {load}.\n\n{report}\n{WHERE_THE_TIME_GOES}",
            date = support::today(),
            rustc = support::rustc_version(),
        );
        support::write_section("40-overhead.md", &section);
    }
    let (median_added, p90_added) = (quantile(&pairs.added, 0.5), quantile(&pairs.added, 0.9));
    assert!(
        median_added <= TARGET_MEDIAN_ADDED.as_secs_f64(),
        "the console adds {:.2} ms to the median request (target: at most {:.1} ms)",
        median_added * 1e3,
        TARGET_MEDIAN_ADDED.as_secs_f64() * 1e3
    );
    assert!(
        p90_added <= TARGET_P90_ADDED.as_secs_f64(),
        "the console adds {:.2} ms to the 90th percentile request (target: at most {} ms)",
        p90_added * 1e3,
        TARGET_P90_ADDED.as_millis()
    );
    assert!(
        console_rate >= TARGET_THROUGHPUT,
        "the console carries {console_rate:.0} requests/s (target: at least {TARGET_THROUGHPUT:.0})"
    );
}

/// Where each microsecond goes, before and after: measured by hand with callgrind and perf (see the
/// text), so kept here as written rather than generated.
const WHERE_THE_TIME_GOES: &str = include_str!("overhead_profile.md");

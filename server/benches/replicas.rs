//! Replica benchmark (`make bench-replicas`): two console processes sharing one Redis and one
//! PostgreSQL (real servers started here, as the integration tests start them), 200 logged-in
//! staff sessions alternating between them for 60 s. Reports requests/s, latency, token requests
//! at the simulator across both replicas, and Redis commands and PostgreSQL statements per
//! request. `cargo test --bench replicas` runs 20 sessions for 10 s with the same assertions.

// A benchmark measures real elapsed time from outside the console.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark that cannot run should stop")]

mod support;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use support::postgres::PostgresServer;
use support::redis::RedisServer;
use support::{ms, quantile, staff_name, Backends, Rig, RigOptions, StaffSession};

struct Plan {
    sessions: usize,
    duration: Duration,
    token_lifetime: Duration,
    refresh_skew: Duration,
}

const FULL: Plan = Plan {
    sessions: 200,
    duration: Duration::from_secs(60),
    token_lifetime: Duration::from_secs(10),
    refresh_skew: Duration::from_secs(2),
};

const SMOKE: Plan = Plan {
    sessions: 20,
    duration: Duration::from_secs(10),
    token_lifetime: Duration::from_secs(6),
    refresh_skew: Duration::from_secs(2),
};

const REDIS_PASSWORD_VAR: &str = "A55_BENCH_REDIS_PASSWORD";
const STATE_KEY_VAR: &str = "A55_BENCH_STATE_KEY";
const VAULT_KEY_VAR: &str = "A55_BENCH_VAULT_KEY";

/// Calls per command since Redis started (`INFO commandstats`), including the commands a Lua
/// script runs inside Redis (one client round trip for the whole script).
async fn redis_commands(redis: &RedisServer) -> std::collections::BTreeMap<String, u64> {
    let mut connection = redis.client().await;
    let info: String = ::redis::cmd("INFO").arg("commandstats").query_async(&mut connection).await.unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split("calls=").nth(1)?.split(',').next()?.parse().ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// Statements run on the console's database (`pg_stat_statements`) and transactions committed.
async fn postgres_work(pool: &sqlx::PgPool, database: &str) -> (i64, i64) {
    let statements: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(calls), 0)::BIGINT FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = $1 AND s.query NOT ILIKE '%pg_stat%'",
    )
    .bind(database)
    .fetch_one(pool)
    .await
    .unwrap();
    let commits: i64 = sqlx::query_scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = $1")
        .bind(database)
        .fetch_one(pool)
        .await
        .unwrap();
    (statements, commits)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let bench = support::is_bench_run();
    let plan = if bench { FULL } else { SMOKE };
    let (redis, pg) = tokio::join!(RedisServer::start(), PostgresServer::start());
    let database = pg.create_database().await;
    let password_file = pg.password_file();
    let state_key = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    };
    let toml = format!(
        "[storage]\ndatabase_url = {url:?}\ndatabase_password_file = {file:?}\n\n[sessions]\nredis_url = {redis:?}\n\
         redis_password_env = \"{REDIS_PASSWORD_VAR}\"\nstate_key_env = \"{STATE_KEY_VAR}\"\n\
         vault_key_env = \"{VAULT_KEY_VAR}\"\nkey_prefix = \"bench:\"\n",
        url = pg.url_for(&database),
        file = password_file.display().to_string(),
        redis = redis.url(),
    );
    let backends = Backends {
        toml,
        env: vec![
            (REDIS_PASSWORD_VAR.into(), redis.password.clone()),
            (STATE_KEY_VAR.into(), state_key),
            (VAULT_KEY_VAR.into(), redis.vault_key.clone()),
        ],
    };
    let rig = Rig::start(&RigOptions {
        staff: plan.sessions,
        token_lifetime: plan.token_lifetime,
        refresh_skew: plan.refresh_skew,
        replicas: 2,
        backends: Some(backends),
    })
    .await;
    let bases = [rig.base.clone(), format!("http://{}", rig.others[0].addr)];
    // Each staff member logs in on one replica and then alternates: every other request of a
    // session goes to the replica it did not log in on.
    let sessions: Vec<(StaffSession, StaffSession)> = futures::stream::iter(0..plan.sessions)
        .map(|i| {
            let bases = &bases;
            async move {
                let home = StaffSession::login(&bases[i % 2], &staff_name(i)).await;
                let away = home.on(&bases[(i + 1) % 2]);
                (home, away)
            }
        })
        .buffered(4)
        .collect()
        .await;
    let superuser = pg.superuser_pool(&database).await;
    let (redis_before, pg_before) = (redis_commands(&redis).await, postgres_work(&superuser, &database).await);

    let started = Instant::now();
    let deadline = started + plan.duration;
    let request = Arc::new(support::list_charges());
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|(home, away)| {
            let request = request.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut turn) = (Vec::new(), Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let session = if turn % 2 == 0 { &home } else { &away };
                    turn += 1;
                    let sent = Instant::now();
                    match session.execute(&request).await {
                        Ok(answer) if answer.status == 200 => latencies.push(sent.elapsed()),
                        Ok(answer) => errors.push(format!("upstream answered {}", answer.status)),
                        Err(error) => errors.push(error),
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), Vec::new());
    for (n, task) in tasks.into_iter().enumerate() {
        let Ok(joined) = tokio::time::timeout_at((deadline + Duration::from_secs(60)).into(), task).await else {
            panic!(
                "session {n} was still running a minute after the deadline; replica A's log:\n{}\nreplica B's log:\n{}",
                rig.console.log_tail(),
                rig.others[0].log_tail()
            );
        };
        let (l, e) = joined.expect("session task");
        latencies.extend(l);
        errors.extend(e);
    }
    let elapsed = started.elapsed();
    let (redis_after, pg_after) = (redis_commands(&redis).await, postgres_work(&superuser, &database).await);
    let token_requests = rig.sim.simulator().token_requests();
    let log_tail = rig.console.log_tail();
    rig.shutdown().await;

    latencies.sort_unstable();
    let answered = latencies.len().max(1) as f64;
    let throughput = latencies.len() as f64 / elapsed.as_secs_f64();
    let refresh = plan.token_lifetime - plan.refresh_skew;
    let expected_tokens = 1 + (plan.duration.as_millis() / refresh.as_millis()) as u64;
    let per_request = |after: i64, before: i64| (after - before) as f64 / answered;
    let mut report = String::new();
    writeln!(report, "| Measure | Value |\n| --- | --- |").unwrap();
    writeln!(report, "| replicas / staff sessions | 2 / {} (each alternating between both) |", plan.sessions).unwrap();
    writeln!(report, "| run | {:.1} s |", elapsed.as_secs_f64()).unwrap();
    writeln!(report, "| requests answered 200 / errors | {} / {} |", latencies.len(), errors.len()).unwrap();
    writeln!(report, "| throughput, both replicas | {throughput:.0} requests/s |").unwrap();
    writeln!(
        report,
        "| latency p50 / p90 / p99 | {} / {} / {} |",
        ms(quantile(&latencies, 0.5)),
        ms(quantile(&latencies, 0.9)),
        ms(quantile(&latencies, 0.99))
    )
    .unwrap();
    writeln!(
        report,
        "| token requests at the simulator, both replicas (one per refresh period: {expected_tokens}) | {token_requests} |"
    )
    .unwrap();
    let mut commands: Vec<(String, f64)> = redis_after
        .iter()
        .map(|(name, after)| (name.clone(), (after - redis_before.get(name).copied().unwrap_or(0)) as f64 / answered))
        .filter(|(name, per)| *per >= 0.01 && name != "info")
        .collect();
    commands.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Commands a replica sends itself on this path; the others (PEXPIRE, ZADD, HSET, the eviction's
    // DEL …) run inside the body store's Lua script, one round trip for all of them.
    let sent = ["get", "set", "evalsha", "eval", "hmget", "mget", "publish", "lrange"];
    let round_trips: f64 = commands.iter().filter(|(name, _)| sent.contains(&name.as_str())).map(|(_, n)| n).sum();
    let breakdown: Vec<String> =
        commands.iter().map(|(name, per)| format!("{} {per:.2}", name.to_uppercase())).collect();
    writeln!(report, "| Redis round trips per request (commands the replicas send) | {round_trips:.2} |").unwrap();
    writeln!(report, "| Redis commands per request, by name (with those inside scripts) | {} |", breakdown.join(", "))
        .unwrap();
    writeln!(
        report,
        "| PostgreSQL statements / commits per request | {:.2} / {:.2} |",
        per_request(pg_after.0, pg_before.0),
        per_request(pg_after.1, pg_before.1)
    )
    .unwrap();
    println!("{report}");

    if bench {
        let section = format!(
            "## Two replicas on Redis and PostgreSQL (`server/benches/replicas.rs`)\n\n\
             How to rerun: `make bench-replicas` (or `cargo bench -p server --bench replicas`); `make test`\n\
             runs the smoke version (20 sessions for 10 s) as `cargo test -p server --bench replicas`.\n\n\
             Two console processes (this build, `bench` profile) share one `redis-server` and one\n\
             PostgreSQL 15 started by the benchmark on loopback (`fsync=off`, as in the tests), with\n\
             sessions, stored bodies, the token cache (encrypted) and the demo switch in Redis, and\n\
             history, audit and logins in PostgreSQL (each audit row committed before its answer). {sessions}\n\
             staff members log in on one replica each and then alternate between both; each request is\n\
             `POST /api/execute` (`GET /bank/wallet/charges/?limit=10` upstream, about 16 KB of JSON) against\n\
             the simulator served from the benchmark. Redis commands come from `INFO commandstats`,\n\
             statements from `pg_stat_statements`, commits from `pg_stat_database`, each read before and\n\
             after the run and divided by the answered requests.\n\n\
             Measured {date} ({rustc}); the load generator, the simulator, Redis and PostgreSQL share\n\
             the machine's 2 cores with both replicas.\n\n{report}",
            sessions = plan.sessions,
            date = support::today(),
            rustc = support::rustc_version(),
        );
        support::write_section("32-replicas.md", &section);
    }

    assert!(
        errors.is_empty(),
        "{} requests failed; first ones:\n{}\nreplica A's log:\n{log_tail}",
        errors.len(),
        errors.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        (1..=expected_tokens).contains(&token_requests),
        "two replicas share one token per refresh period: {token_requests} requests, at most {expected_tokens} expected"
    );
}

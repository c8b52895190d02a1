//! Counters of what the console does upstream, rendered in the Prometheus text format on `/metrics`.
//!
//! Labels carry environment ids, outcomes and status classes only: never a URL, path, token or secret.
//! Updates take one short lock; nothing on the cached-token path touches it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Every metric the console exports: name, type and help text, in output order.
const FAMILIES: [(&str, &str, &str); 12] = [
    (
        "a55_console_token_requests_total",
        "counter",
        "Requests sent to a token endpoint, by environment and outcome (success, rejected, endpoint_error, timeout, unreachable, bad_response).",
    ),
    (
        "a55_console_token_refreshes_total",
        "counter",
        "Token requests by the reason they were made (cold, stale, expired, unauthorized, manual, rotation).",
    ),
    (
        "a55_console_token_fast_failures_total",
        "counter",
        "Callers answered with an error at once because the token endpoint is backing off, by environment.",
    ),
    (
        "a55_console_upstream_requests_total",
        "counter",
        "Requests sent to an environment's API, by environment and status class (2xx, 3xx, 4xx, 5xx, timeout, unreachable).",
    ),
    (
        "a55_console_upstream_retries_total",
        "counter",
        "Requests re-sent once after a 401 and a forced token refresh, by environment.",
    ),
    (
        "a55_console_session_store_operations_total",
        "counter",
        "Commands sent to the shared session store, by store and operation (create, save, load, delete, ttl).",
    ),
    (
        "a55_console_redis_errors_total",
        "counter",
        "Redis commands that failed or timed out, by operation (create, save, load, delete, ttl, ping; shared_put, shared_get, shared_usage, throttle_check, throttle_fail, throttle_clear, demo_get, demo_set for the shared stores; token_load, token_store, token_lock, token_unlock, token_wait, token_invalidate, token_fail, token_backoff, token_watch, token_event, token_history for the shared token cache; parity_lease for scheduled parity runs).",
    ),
    (
        "a55_console_shared_store_operations_total",
        "counter",
        "Commands sent to Redis for the stores replicas share, by store (body, vault, throttle, demo) and operation (put, get, usage; check, fail, clear; get, set).",
    ),
    (
        "a55_console_token_shared_locks_total",
        "counter",
        "Token leases asked of the shared cache, by environment and outcome (won: this replica requested the token; waited: another replica held the lease).",
    ),
    (
        "a55_console_token_shared_adopted_total",
        "counter",
        "Tokens this replica took from the shared cache instead of requesting one, by environment.",
    ),
    (
        "a55_console_parity_new_drift_total",
        "counter",
        "Drift items parity runs found that their suite's baseline does not know, by suite.",
    ),
    (
        "a55_console_token_shared_fallback_total",
        "counter",
        "Times the shared token cache failed and this replica requested its own token (per-replica single-flight), by environment.",
    ),
];

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(&'static str, Labels), u64>>,
}

impl Metrics {
    fn add(&self, family: &'static str, labels: Labels) {
        self.add_n(family, labels, 1);
    }

    fn add_n(&self, family: &'static str, labels: Labels, n: u64) {
        let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *series.entry((family, labels)).or_default() += n;
    }

    /// New drift found by one run of `suite`.
    pub fn parity_new_drift(&self, suite: &str, n: u64) {
        self.add_n("a55_console_parity_new_drift_total", vec![("suite", suite.to_owned())], n);
    }

    pub fn token_request(&self, environment: &str, outcome: &'static str) {
        self.add(
            "a55_console_token_requests_total",
            vec![("environment", environment.to_owned()), ("outcome", outcome.to_owned())],
        );
    }

    pub fn token_refresh(&self, environment: &str, reason: &'static str) {
        self.add(
            "a55_console_token_refreshes_total",
            vec![("environment", environment.to_owned()), ("reason", reason.to_owned())],
        );
    }

    pub fn token_fast_failure(&self, environment: &str) {
        self.add("a55_console_token_fast_failures_total", vec![("environment", environment.to_owned())]);
    }

    /// `status` is the upstream HTTP status; `None` with `failure` for requests that got no answer.
    pub fn upstream_request(&self, environment: &str, status: Result<u16, &'static str>) {
        let class = match status {
            Ok(status) => match status {
                100..=199 => "1xx",
                200..=299 => "2xx",
                300..=399 => "3xx",
                400..=499 => "4xx",
                _ => "5xx",
            },
            Err(failure) => failure,
        };
        self.add(
            "a55_console_upstream_requests_total",
            vec![("environment", environment.to_owned()), ("class", class.to_owned())],
        );
    }

    pub fn upstream_retry(&self, environment: &str) {
        self.add("a55_console_upstream_retries_total", vec![("environment", environment.to_owned())]);
    }

    pub fn session_store_operation(&self, store: &'static str, operation: &'static str) {
        self.add(
            "a55_console_session_store_operations_total",
            vec![("store", store.to_owned()), ("operation", operation.to_owned())],
        );
    }

    /// One command of a store shared through Redis (`body` or `vault`).
    pub fn shared_store_operation(&self, store: &'static str, operation: &'static str) {
        self.add(
            "a55_console_shared_store_operations_total",
            vec![("store", store.to_owned()), ("operation", operation.to_owned())],
        );
    }

    pub fn token_shared_lock(&self, environment: &str, outcome: &'static str) {
        self.add(
            "a55_console_token_shared_locks_total",
            vec![("environment", environment.to_owned()), ("outcome", outcome.to_owned())],
        );
    }

    pub fn token_shared_adopted(&self, environment: &str) {
        self.add("a55_console_token_shared_adopted_total", vec![("environment", environment.to_owned())]);
    }

    pub fn token_shared_fallback(&self, environment: &str) {
        self.add("a55_console_token_shared_fallback_total", vec![("environment", environment.to_owned())]);
    }

    pub fn redis_error(&self, operation: &'static str) {
        self.add("a55_console_redis_errors_total", vec![("operation", operation.to_owned())]);
    }

    /// The current value of one series; for tests and the benchmark.
    pub fn value(&self, family: &str, labels: &[(&str, &str)]) -> u64 {
        let series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        series
            .iter()
            .filter(|((name, l), _)| {
                *name == family
                    && l.len() == labels.len()
                    && l.iter().zip(labels).all(|((k1, v1), (k2, v2))| k1 == k2 && v1 == v2)
            })
            .map(|(_, v)| *v)
            .sum()
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        for (family, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {family} {help}");
            let _ = writeln!(out, "# TYPE {family} {kind}");
            for ((_, labels), value) in series.iter().filter(|((name, _), _)| *name == family) {
                let labels =
                    labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect::<Vec<_>>().join(",");
                let _ = writeln!(out, "{family}{{{labels}}} {value}");
            }
        }
        out
    }
}

/// What the in-memory stores hold at the moment of a scrape: read then, never counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Response bodies kept for the inspector: entries and bytes.
    pub body_store: (usize, usize),
    /// Masked originals kept for reveals: entries and bytes.
    pub reveal_vault: (usize, usize),
    pub runs_in_flight: usize,
    pub pending_sign_ins: usize,
    /// Bytes of runs waiting for the history writer.
    pub history_queue: usize,
}

impl Gauges {
    /// The gauges in the text format, each with its help and type; the store bounds beside them.
    pub fn render(&self) -> String {
        let families: [(&str, &str, usize); 10] = [
            ("a55_console_body_store_bytes", "Bytes of response bodies kept for the inspector.", self.body_store.1),
            ("a55_console_body_store_entries", "Response bodies kept for the inspector.", self.body_store.0),
            (
                "a55_console_body_store_limit_bytes",
                "The body store's bound in bytes (oldest bodies go first beyond it).",
                crate::bodies::MAX_TOTAL_BYTES,
            ),
            ("a55_console_reveal_vault_bytes", "Bytes of masked originals kept for reveals.", self.reveal_vault.1),
            ("a55_console_reveal_vault_entries", "Masked originals kept for reveals.", self.reveal_vault.0),
            (
                "a55_console_reveal_vault_limit_bytes",
                "The reveal vault's bound in bytes.",
                crate::masking::vault::VAULT_MAX_BYTES,
            ),
            (
                "a55_console_runs_in_flight",
                "Runs waiting for an API that their staff member may cancel.",
                self.runs_in_flight,
            ),
            (
                "a55_console_pending_sign_ins",
                "Sign-ins started at the identity provider and not finished yet.",
                self.pending_sign_ins,
            ),
            ("a55_console_history_queue_bytes", "Bytes of runs waiting to be written to history.", self.history_queue),
            (
                "a55_console_history_queue_limit_bytes",
                "The history queue's bound: beyond it, a run waits for the writer.",
                crate::history::QUEUE_BYTES as usize,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in families {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

/// Label values escape `\`, `"` and newlines, as the exposition format requires.
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_the_prometheus_text_format_with_help_and_type() {
        let metrics = Metrics::default();
        metrics.token_request("sandbox", "success");
        metrics.token_request("sandbox", "success");
        metrics.token_request("production", "rejected");
        metrics.upstream_request("sandbox", Ok(503));
        metrics.upstream_request("sandbox", Err("timeout"));
        let text = metrics.render();
        assert!(text.contains("# TYPE a55_console_token_requests_total counter\n"));
        assert!(text.contains("a55_console_token_requests_total{environment=\"sandbox\",outcome=\"success\"} 2\n"));
        assert!(text.contains("a55_console_token_requests_total{environment=\"production\",outcome=\"rejected\"} 1\n"));
        assert!(text.contains("a55_console_upstream_requests_total{environment=\"sandbox\",class=\"5xx\"} 1\n"));
        assert!(text.contains("a55_console_upstream_requests_total{environment=\"sandbox\",class=\"timeout\"} 1\n"));
        assert_eq!(
            metrics.value("a55_console_token_requests_total", &[("environment", "sandbox"), ("outcome", "success")]),
            2
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<u64>().unwrap();
        }
    }

    #[test]
    fn store_gauges_render_with_their_bounds() {
        let text = Gauges {
            body_store: (2, 1500),
            reveal_vault: (1, 12),
            runs_in_flight: 3,
            pending_sign_ins: 0,
            history_queue: 0,
        }
        .render();
        assert!(
            text.contains("# TYPE a55_console_body_store_bytes gauge\na55_console_body_store_bytes 1500\n"),
            "{text}"
        );
        assert!(text.contains("a55_console_body_store_entries 2\n"));
        assert!(text.contains(&format!("a55_console_body_store_limit_bytes {}\n", crate::bodies::MAX_TOTAL_BYTES)));
        assert!(text.contains("a55_console_reveal_vault_bytes 12\n"));
        assert!(text.contains("a55_console_runs_in_flight 3\n"));
        assert!(text.contains("a55_console_pending_sign_ins 0\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

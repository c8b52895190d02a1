//! The optional webhook: a run with new drift is posted as Slack-compatible JSON (`{"text": …}`) to
//! the configured URL, through the console's plain HTTP client (no redirects, no proxy, timeouts).
//! The URL is configuration, never user input, and a credential: it is never logged or shown.

use std::fmt::Write as _;
use std::time::Duration;

use app::wire::ParityRun;
use secrecy::{ExposeSecret as _, SecretString};

/// Drift items listed in a message; the rest is counted.
const LISTED: usize = 10;

pub struct Webhook {
    url: SecretString,
    http: reqwest::Client,
}

impl Webhook {
    pub fn new(url: SecretString) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { url, http })
    }

    /// Posts the run; a failure is logged (without the URL) and otherwise ignored.
    pub async fn send(&self, run: &ParityRun) {
        let sent = self.http.post(self.url.expose_secret()).json(&message(run)).send().await;
        match sent {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) => {
                tracing::warn!(suite = %run.suite, status = answer.status().as_u16(), "the parity webhook refused a message")
            }
            Err(error) => {
                tracing::warn!(suite = %run.suite, error = %error.without_url(), "the parity webhook could not be reached")
            }
        }
    }
}

/// `{"text": …}`: Slack, Mattermost, Teams' Slack-compatible hooks and most chat tools read it.
pub fn message(run: &ParityRun) -> serde_json::Value {
    let s = run.summary();
    let mut text = format!(
        "Parity: suite \"{}\" run #{} found {} new drift ({} shape, {} value, {} spec; {} known).",
        run.suite,
        run.id,
        s.new_drift(),
        s.new_shape,
        s.new_value,
        s.new_spec,
        s.known
    );
    let drift = run.drift.iter().filter(|d| d.new).map(|d| format!("{}: {} `{}`", d.compare, d.kind.label(), d.path));
    let spec = run.spec.iter().flat_map(|p| p.changes.iter().filter(|c| c.new).map(move |c| (p, c))).map(|(p, c)| {
        let at = if c.pointer.is_empty() { String::new() } else { format!(" `{}`", c.pointer) };
        format!("spec {} → {}: {} `{}`{at}", p.left, p.right, c.kind.label(), c.operation)
    });
    for line in drift.chain(spec).take(LISTED) {
        let _ = write!(text, "\n• {line}");
    }
    if s.new_drift() > LISTED {
        let _ = write!(text, "\n… and {} more", s.new_drift() - LISTED);
    }
    serde_json::json!({ "text": text })
}

#[cfg(test)]
mod tests {
    use app::wire::{ParityRun, SpecChange, SpecChangeKind, SpecComparison, SpecState};

    use super::message;

    fn change(kind: SpecChangeKind, operation: &str, pointer: &str, new: bool) -> SpecChange {
        SpecChange {
            key: format!("{kind:?}|{operation}|{pointer}"),
            kind,
            operation: operation.into(),
            pointer: pointer.into(),
            before: None,
            after: None,
            new,
        }
    }

    #[test]
    fn new_spec_changes_are_counted_and_listed_and_known_ones_are_not() {
        let run = ParityRun {
            id: 7,
            suite: "nightly".into(),
            started_by: "console".into(),
            started_at_ms: 0,
            duration_ms: 1,
            compares: Vec::new(),
            drift: Vec::new(),
            requests: Vec::new(),
            baseline_at_ms: None,
            spec: vec![SpecComparison {
                left: "sandbox".into(),
                right: "production".into(),
                state: SpecState::Compared,
                changes: vec![
                    change(SpecChangeKind::OperationRemoved, "GET /wallets", "", true),
                    change(SpecChangeKind::TypeChanged, "GET /charges", "responses/200/body/n", false),
                ],
            }],
        };
        let text = message(&run)["text"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            text,
            "Parity: suite \"nightly\" run #7 found 1 new drift (0 shape, 0 value, 1 spec; 1 known).\n\
             • spec sandbox → production: operation removed `GET /wallets`"
        );
    }
}

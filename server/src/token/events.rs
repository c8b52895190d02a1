//! The token history of one cache slot: why each token request happened and how it ended.

use std::collections::VecDeque;

use app::wire::{TokenEvent, TokenEventOutcome, TokenEventReason};

/// Events kept per environment: enough to see a pattern, bounded so memory stays flat.
pub const KEPT_EVENTS: usize = 50;

/// Newest first, at most `KEPT_EVENTS`.
#[derive(Debug, Default)]
pub struct EventLog {
    events: VecDeque<TokenEvent>,
}

impl EventLog {
    /// Keeps the event and answers it, for whoever else is told of token events. `replica` names
    /// this process when replicas share the history.
    pub fn push(
        &mut self,
        at_ms: i64,
        reason: TokenEventReason,
        latency_ms: Option<f64>,
        outcome: TokenEventOutcome,
        replica: Option<&str>,
    ) -> TokenEvent {
        if self.events.len() == KEPT_EVENTS {
            self.events.pop_back();
        }
        let event = TokenEvent { at_ms, reason, latency_ms, outcome, replica: replica.map(str::to_owned) };
        self.events.push_front(event.clone());
        event
    }

    pub fn snapshot(&self) -> Vec<TokenEvent> {
        self.events.iter().cloned().collect()
    }
}

/// The history every replica shows: the shared list, plus this replica's own events that have not
/// reached it yet (they are written in the background), newest first, at most `KEPT_EVENTS`.
pub fn merged(shared: Vec<TokenEvent>, local: Vec<TokenEvent>) -> Vec<TokenEvent> {
    // Latency is left out of the comparison: a float that went through JSON may differ in its last bit.
    let same = |a: &TokenEvent, b: &TokenEvent| {
        (a.at_ms, a.reason, &a.outcome, &a.replica) == (b.at_ms, b.reason, &b.outcome, &b.replica)
    };
    let mut events = shared;
    let missing: Vec<TokenEvent> = local.into_iter().filter(|l| !events.iter().any(|s| same(s, l))).collect();
    events.extend(missing);
    // Stable: events of one millisecond keep the order each list had.
    events.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
    events.truncate(KEPT_EVENTS);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_newest_events_first_and_forgets_the_oldest() {
        let mut log = EventLog::default();
        for i in 0..(KEPT_EVENTS as i64 + 5) {
            log.push(i, TokenEventReason::Cold, None, TokenEventOutcome::Forgotten, None);
        }
        let events = log.snapshot();
        assert_eq!(events.len(), KEPT_EVENTS);
        assert_eq!(events[0].at_ms, KEPT_EVENTS as i64 + 4);
        assert_eq!(events[KEPT_EVENTS - 1].at_ms, 5);
    }

    fn event(at_ms: i64, replica: &str, latency_ms: Option<f64>) -> TokenEvent {
        let outcome = TokenEventOutcome::Obtained { fingerprint: "ab12cd34".into(), lifetime_secs: 3_600 };
        TokenEvent { at_ms, reason: TokenEventReason::Cold, latency_ms, outcome, replica: Some(replica.into()) }
    }

    #[test]
    fn the_shared_history_gains_this_replicas_events_not_written_yet_newest_first_without_doubles() {
        let shared = vec![event(30, "b", None), event(20, "a", Some(12.5)), event(10, "b", None)];
        // A's event of 20 ms came back from JSON with another last bit; its event of 40 is not there yet.
        let local = vec![event(40, "a", None), event(20, "a", Some(12.500_000_000_000_002))];
        let merged = merged(shared, local);
        let seen: Vec<(i64, &str)> = merged.iter().map(|e| (e.at_ms, e.replica.as_deref().unwrap())).collect();
        assert_eq!(seen, [(40, "a"), (30, "b"), (20, "a"), (10, "b")]);
        let many = (0..KEPT_EVENTS as i64).map(|i| event(i, "b", None)).collect();
        assert_eq!(merged_len(many), KEPT_EVENTS, "still bounded");
    }

    fn merged_len(shared: Vec<TokenEvent>) -> usize {
        merged(shared, vec![event(1_000, "a", None)]).len()
    }
}

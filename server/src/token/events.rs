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
    /// Keeps the event and answers it, for whoever else is told of token events.
    pub fn push(
        &mut self,
        at_ms: i64,
        reason: TokenEventReason,
        latency_ms: Option<f64>,
        outcome: TokenEventOutcome,
    ) -> TokenEvent {
        if self.events.len() == KEPT_EVENTS {
            self.events.pop_back();
        }
        let event = TokenEvent { at_ms, reason, latency_ms, outcome };
        self.events.push_front(event.clone());
        event
    }

    pub fn snapshot(&self) -> Vec<TokenEvent> {
        self.events.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_newest_events_first_and_forgets_the_oldest() {
        let mut log = EventLog::default();
        for i in 0..(KEPT_EVENTS as i64 + 5) {
            log.push(i, TokenEventReason::Cold, None, TokenEventOutcome::Forgotten);
        }
        let events = log.snapshot();
        assert_eq!(events.len(), KEPT_EVENTS);
        assert_eq!(events[0].at_ms, KEPT_EVENTS as i64 + 4);
        assert_eq!(events[KEPT_EVENTS - 1].at_ms, 5);
    }
}

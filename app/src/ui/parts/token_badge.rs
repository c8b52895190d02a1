//! The top bar's token badge: state colour and a live countdown to expiry, from server metadata only.

use leptos::prelude::*;

use crate::format;
use crate::ui::parts::clock::BrowserClock;
use crate::wire::{TokenState, TokenView};

/// Token metadata plus the browser time at which it was received, so the countdown can run locally.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncedToken {
    pub view: TokenView,
    /// Browser time (ms) when `view.seconds_left` was true.
    pub received_at_ms: f64,
}

impl SyncedToken {
    pub fn seconds_left(&self, now_ms: f64) -> Option<f64> {
        self.view.seconds_left.map(|left| left - (now_ms - self.received_at_ms) / 1000.0)
    }

    /// The state as of `now_ms`: the server's answer ages while the page stays open.
    pub fn state_at(&self, now_ms: f64) -> TokenState {
        let elapsed = (now_ms - self.received_at_ms) / 1000.0;
        match (self.view.state, self.seconds_left(now_ms), self.view.refresh_in_secs) {
            (TokenState::Empty, _, _) => TokenState::Empty,
            (_, Some(left), _) if left <= 0.0 => TokenState::Expired,
            (_, _, Some(refresh_in)) if refresh_in - elapsed <= 0.0 => TokenState::Stale,
            (state, _, _) => state,
        }
    }
}

/// Red while the token endpoint is failing, whatever the state: staff should know before the token runs out.
fn state_class(state: TokenState, failing: bool) -> &'static str {
    if failing {
        return "token-badge failing";
    }
    match state {
        TokenState::Empty => "token-badge empty",
        TokenState::Fresh => "token-badge fresh",
        TokenState::Stale => "token-badge stale",
        TokenState::Expired => "token-badge expired",
    }
}

#[component]
pub fn TokenBadge(token: RwSignal<Option<SyncedToken>>) -> impl IntoView {
    let clock = use_context::<BrowserClock>();
    let now = move || clock.and_then(|c| c.0.get());
    let state = move || match (token.get(), now()) {
        (Some(synced), Some(now)) => synced.state_at(now),
        (Some(synced), None) => synced.view.state,
        (None, _) => TokenState::Empty,
    };
    let label = move || match token.get() {
        None => "no token yet".to_owned(),
        Some(synced) => match (synced.view.state, now()) {
            (TokenState::Empty, _) if synced.view.last_error.is_some() => "unavailable".to_owned(),
            (TokenState::Empty, _) => "no token yet".to_owned(),
            (_, Some(now)) => match synced.seconds_left(now) {
                Some(left) if left > 0.0 => format!("expires in {}", format::countdown(left)),
                Some(_) => "expired".to_owned(),
                None => "unknown expiry".to_owned(),
            },
            (_, None) => synced
                .view
                .seconds_left
                .map(|left| format!("expires in {}", format::countdown(left)))
                .unwrap_or_default(),
        },
    };
    let title = move || {
        token
            .get()
            .map(|synced| {
                let mut parts = vec![format!("state: {:?}", synced.view.state)];
                if let Some(fp) = &synced.view.fingerprint {
                    parts.push(format!("fingerprint: {fp}"));
                }
                if let Some(lifetime) = synced.view.lifetime_secs {
                    parts.push(format!("lifetime: {lifetime} s"));
                }
                if let Some(error) = &synced.view.last_error {
                    parts.push(format!("last error: {error}"));
                }
                parts.join(" · ")
            })
            .unwrap_or_else(|| "No token requested yet: one is fetched on the first request.".to_owned())
    };
    let failing = move || token.get().is_some_and(|synced| synced.view.last_error.is_some());
    view! {
        <a href="/token" class=move || state_class(state(), failing()) data-testid="token-badge" title=title>
            <span class="token-dot" aria-hidden="true"></span>
            <span class="token-label">"Token "</span>
            <span class="token-countdown" data-testid="token-countdown">{label}</span>
            {move || {
                token
                    .get()
                    .and_then(|synced| synced.view.fingerprint)
                    .map(|fp| view! { <code class="token-fingerprint" data-testid="token-fingerprint">{fp}</code> })
            }}
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced(state: TokenState, left: f64, refresh_in: f64) -> SyncedToken {
        SyncedToken {
            view: TokenView {
                environment: "simulator".into(),
                state,
                obtained_at_ms: Some(0),
                expires_at_ms: Some(3_600_000),
                seconds_left: Some(left),
                lifetime_secs: Some(3600),
                refresh_in_secs: Some(refresh_in),
                fingerprint: Some("abc123".into()),
                claims: None,
                last_error: None,
            },
            received_at_ms: 1_000_000.0,
        }
    }

    #[test]
    fn the_countdown_runs_from_the_time_the_metadata_arrived() {
        let token = synced(TokenState::Fresh, 100.0, 40.0);
        assert_eq!(token.seconds_left(1_010_000.0), Some(90.0));
    }

    #[test]
    fn a_fresh_token_turns_stale_then_expired_as_browser_time_passes() {
        let token = synced(TokenState::Fresh, 100.0, 40.0);
        assert_eq!(token.state_at(1_000_000.0), TokenState::Fresh);
        assert_eq!(token.state_at(1_041_000.0), TokenState::Stale);
        assert_eq!(token.state_at(1_101_000.0), TokenState::Expired);
    }

    #[test]
    fn a_failing_token_endpoint_turns_the_badge_red_even_before_expiry() {
        assert_eq!(state_class(TokenState::Stale, true), "token-badge failing");
        assert_eq!(state_class(TokenState::Empty, true), "token-badge failing");
        assert_eq!(state_class(TokenState::Stale, false), "token-badge stale");
        assert_eq!(state_class(TokenState::Expired, false), "token-badge expired");
    }

    #[test]
    fn an_empty_token_stays_empty() {
        let token = synced(TokenState::Empty, 0.0, 0.0);
        assert_eq!(token.state_at(2_000_000.0), TokenState::Empty);
    }
}

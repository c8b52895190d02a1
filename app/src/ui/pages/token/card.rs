//! One environment's token card: state and countdown, lifetime bar, times and client, the
//! decoded JWT header and claims, the history of token requests, and the refresh/forget actions.

use leptos::prelude::*;

use crate::api::{get_token_details, ForgetToken, RefreshToken};
use crate::format;
use crate::ui::parts::clock::{repeat_while_mounted, BrowserClock};
use crate::ui::parts::token_badge::SyncedToken;
use crate::wire::{
    EnvironmentView, TokenCache, TokenDetails, TokenEvent, TokenEventOutcome, TokenEventReason, TokenState,
};

/// The details last received and the browser time they arrived, so the countdown runs locally.
#[derive(Clone, Copy)]
struct Card {
    details: RwSignal<Option<(TokenDetails, f64)>>,
    clock: Option<BrowserClock>,
}

impl Card {
    fn now(self) -> Option<f64> {
        self.clock.and_then(|c| c.0.get())
    }

    fn received(self, details: TokenDetails) {
        let at = self.clock.and_then(|c| c.0.get_untracked()).unwrap_or(0.0);
        self.details.set(Some((details, at)));
    }

    fn synced(self) -> Option<SyncedToken> {
        self.details.get().map(|(d, at)| SyncedToken { view: d.token, received_at_ms: at })
    }

    fn state(self) -> TokenState {
        match (self.synced(), self.now()) {
            (Some(s), Some(now)) => s.state_at(now),
            (Some(s), None) => s.view.state,
            (None, _) => TokenState::Empty,
        }
    }

    fn failing(self) -> bool {
        self.details.get().is_some_and(|(d, _)| d.token.last_error.is_some())
    }

    fn state_text(self) -> String {
        let text = match self.state() {
            TokenState::Empty => "no token",
            TokenState::Fresh => "fresh",
            TokenState::Stale => "stale (refresh window)",
            TokenState::Expired => "expired",
        };
        if self.failing() {
            format!("{text}, token endpoint failing")
        } else {
            text.to_owned()
        }
    }

    fn seconds_left(self) -> Option<f64> {
        let synced = self.synced()?;
        self.now().and_then(|now| synced.seconds_left(now)).or(synced.view.seconds_left)
    }

    fn used_fraction(self) -> Option<f64> {
        let (d, _) = self.details.get()?;
        let lifetime = d.token.lifetime_secs? as f64;
        Some(((lifetime - self.seconds_left()?.max(0.0)) / lifetime).clamp(0.0, 1.0))
    }

    /// A field of the details, or "—" before they arrive or when absent.
    fn show(self, f: impl Fn(&TokenDetails, bool) -> Option<String>) -> String {
        let in_browser = self.now().is_some();
        self.details.get().and_then(|(d, _)| f(&d, in_browser)).unwrap_or_else(|| "—".to_owned())
    }
}

#[component]
pub fn TokenCard(env: EnvironmentView) -> impl IntoView {
    let card = Card { details: RwSignal::new(None), clock: use_context::<BrowserClock>() };
    let id = StoredValue::new(env.id.clone());
    let reload = RwSignal::new(0u32);
    let fetched = crate::codec::load(move || reload.get(), move |_| get_token_details(id.get_value()));
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match fetched.get() {
        Some(Ok(d)) => card.received(d),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    // The history may change because of other staff's requests: re-read it now and then.
    repeat_while_mounted(std::time::Duration::from_secs(15), move || reload.update(|n| *n += 1));
    let refresh = ServerAction::<RefreshToken>::new();
    let forget = ServerAction::<ForgetToken>::new();
    for action in [refresh.value(), forget.value()] {
        Effect::new(move |_| match action.get() {
            Some(Ok(d)) => {
                error.set(None);
                card.received(d);
            }
            Some(Err(e)) => {
                error.set(Some(e.to_string()));
                reload.update(|n| *n += 1);
            }
            None => {}
        });
    }
    let busy = move || refresh.pending().get() || forget.pending().get();
    let state_class = move || {
        format!("token-state state-{:?}{}", card.state(), if card.failing() { " failing" } else { "" }).to_lowercase()
    };
    view! {
        <section class="token-card" data-testid=format!("token-card-{}", env.id) style=format!("--env-colour: {}", env.colour)>
            <header class="token-card-head">
                <h3>{env.label.clone()}</h3>
                <span class=format!("env-kind kind-{}", env.kind.as_str())>{env.kind.as_str().to_uppercase()}</span>
                <span class=state_class data-testid="token-state">{move || card.state_text()}</span>
                <div class="token-actions">
                    <button type="button" data-testid="token-refresh" disabled=busy
                        on:click=move |_| { refresh.dispatch(RefreshToken { environment: id.get_value() }); }>
                        {move || if refresh.pending().get() { "Refreshing…" } else { "Refresh now" }}
                    </button>
                    <button type="button" class="secondary" data-testid="token-forget" disabled=busy
                        on:click=move |_| { forget.dispatch(ForgetToken { environment: id.get_value() }); }>
                        "Forget token"
                    </button>
                </div>
            </header>
            {move || error.get().map(|e| view! { <p class="console-error" role="alert" data-testid="token-action-error">{e}</p> })}
            {move || card.details.get().and_then(|(d, _)| d.token.last_error).map(|e| view! {
                <p class="warning" data-testid="token-last-error">{format!("Last token request failed: {e}")}</p>
            })}
            <LifetimeBar card />
            <TokenFacts card />
            <TokenJwt card />
            <p class="hint">"The signature and the token itself stay on the server."</p>
            <h4>"History"</h4>
            <TokenHistory card />
        </section>
    }
}

#[component]
fn LifetimeBar(card: Card) -> impl IntoView {
    view! {
        <div class="token-bar" role="progressbar" aria-label="Share of the token's lifetime used"
            aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=move || card.used_fraction().map(|f| format!("{:.0}", f * 100.0)).unwrap_or_default()
            data-testid="token-bar"
        >
            <div class=move || format!("token-bar-fill state-{:?}", card.state()).to_lowercase()
                style=move || format!("width: {:.1}%", card.used_fraction().unwrap_or(0.0) * 100.0)></div>
        </div>
    }
}

#[component]
fn TokenFacts(card: Card) -> impl IntoView {
    let details = card.details;
    let countdown = move || match (card.state(), card.seconds_left()) {
        (TokenState::Empty, _) | (_, None) => "—".to_owned(),
        (_, Some(l)) if l <= 0.0 => "expired".to_owned(),
        (_, Some(l)) => format::countdown(l),
    };
    let refresh_window = move || {
        details
            .get()
            .map(|(d, _)| match d.effective_skew_secs {
                Some(skew) if skew != d.refresh_skew_secs => {
                    format!("last {skew} s (configured {} s, capped at half the lifetime)", d.refresh_skew_secs)
                }
                Some(skew) => format!("last {skew} s"),
                None => format!("last {} s", d.refresh_skew_secs),
            })
            .unwrap_or_default()
    };
    let client = move || {
        details
            .get()
            .map(|(d, _)| {
                let scope = d.scope.map(|s| format!(" · scope {s}")).unwrap_or_default();
                format!("{} · {}{scope}", d.client_id, d.client_auth)
            })
            .unwrap_or_default()
    };
    view! {
        <dl class="token-facts">
            <dt>"Expires in"</dt>
            <dd data-testid="token-countdown">{countdown}</dd>
            <dt>"Obtained at"</dt>
            <dd data-testid="token-obtained">{move || card.show(|d, b| d.token.obtained_at_ms.map(|ms| timestamp(ms, b)))}</dd>
            <dt>"Expires at"</dt>
            <dd data-testid="token-expires">{move || card.show(|d, b| d.token.expires_at_ms.map(|ms| timestamp(ms, b)))}</dd>
            <dt>"Lifetime"</dt>
            <dd data-testid="token-lifetime">{move || card.show(|d, _| d.token.lifetime_secs.map(|s| format!("{s} s ({})", format::countdown(s as f64))))}</dd>
            <dt>"Refresh window"</dt>
            <dd>{refresh_window}</dd>
            <dt>"Fingerprint"</dt>
            <dd><code data-testid="token-fingerprint">{move || card.show(|d, _| d.token.fingerprint.clone())}</code></dd>
            <dt>"Token endpoint"</dt>
            <dd><code>{move || details.get().map(|(d, _)| d.token_url).unwrap_or_default()}</code></dd>
            <dt>"Client"</dt>
            <dd>{client}</dd>
            <dt>"Cache"</dt>
            <dd data-testid="token-cache">{move || details.get().map(|(d, _)| cache_text(d.cache)).unwrap_or_default()}</dd>
            {move || details.get().and_then(|(d, _)| d.retry_in_secs).map(|secs| view! {
                <dt>"Next attempt"</dt>
                <dd data-testid="token-retry-in">{format!("in {} (backing off after failures)", format::countdown(secs))}</dd>
            })}
        </dl>
    }
}

#[component]
fn TokenJwt(card: Card) -> impl IntoView {
    view! {
        <div class="token-jwt">
            <div>
                <h4>"JWT header"</h4>
                <pre class="body json" data-testid="token-header">{move || card.show(|d, _| d.header.as_ref().map(pretty))}</pre>
            </div>
            <div>
                <h4>"JWT claims"</h4>
                <pre class="body json" data-testid="token-claims">{move || card.show(|d, _| d.token.claims.as_ref().map(pretty))}</pre>
            </div>
        </div>
    }
}

#[component]
fn TokenHistory(card: Card) -> impl IntoView {
    // The replica column only when replicas share the history (each event then names its replica).
    let by_replica =
        move || card.details.with(|d| d.as_ref().is_some_and(|(d, _)| d.events.iter().any(|e| e.replica.is_some())));
    view! {
        <table class="token-history" data-testid="token-history">
            <thead><tr>
                <th>"Time"</th><th>"Reason"</th><th>"Latency"</th><th>"Outcome"</th>
                {move || by_replica().then(|| view! { <th>"Replica"</th> })}
            </tr></thead>
            <tbody>
                {move || {
                    let events: Vec<TokenEvent> = card.details.get().map(|(d, _)| d.events).unwrap_or_default();
                    if events.is_empty() {
                        return view! { <tr><td colspan="4" class="hint">"No token requests yet."</td></tr> }.into_any();
                    }
                    let in_browser = card.now().is_some();
                    let by_replica = by_replica();
                    events.into_iter().map(|event| {
                        let (text, class) = outcome_text(&event.outcome);
                        let replica = by_replica.then(|| view! {
                            <td data-testid="token-event-replica">{event.replica.unwrap_or_default()}</td>
                        });
                        view! {
                            <tr class=format!("event-{class}")>
                                <td>{timestamp(event.at_ms, in_browser)}</td>
                                <td><span class="reason">{reason_text(event.reason)}</span></td>
                                <td>{event.latency_ms.map(format::duration_ms).unwrap_or_else(|| "—".to_owned())}</td>
                                <td>{text}</td>
                                {replica}
                            </tr>
                        }
                    }).collect_view().into_any()
                }}
            </tbody>
        </table>
    }
}

fn cache_text(cache: TokenCache) -> &'static str {
    match cache {
        TokenCache::PerReplica => "this replica only",
        TokenCache::Shared => "shared by every replica (Redis)",
        TokenCache::FallingBack => "this replica only right now: Redis did not answer at the latest token request",
    }
}

fn pretty(document: &crate::wire::JsonDocument) -> String {
    serde_json::to_string_pretty(&document.0).unwrap_or_default()
}

/// `ms` as the staff member's local date and time once the page runs in the browser; UTC before that.
fn timestamp(ms: i64, in_browser: bool) -> String {
    if in_browser {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
    } else {
        format::utc_timestamp(ms)
    }
}

fn reason_text(reason: TokenEventReason) -> &'static str {
    match reason {
        TokenEventReason::Cold => "cold",
        TokenEventReason::Stale => "stale",
        TokenEventReason::Expired => "expired",
        TokenEventReason::Unauthorized => "401",
        TokenEventReason::Manual => "manual",
        TokenEventReason::Rotation => "rotation",
    }
}

fn outcome_text(outcome: &TokenEventOutcome) -> (String, &'static str) {
    match outcome {
        TokenEventOutcome::Obtained { fingerprint, lifetime_secs } => {
            (format!("obtained {fingerprint} ({lifetime_secs} s)"), "ok")
        }
        TokenEventOutcome::Failed { error } => (error.clone(), "failed"),
        TokenEventOutcome::Adopted { fingerprint, lifetime_secs } => {
            (format!("taken from the shared cache: {fingerprint} ({lifetime_secs} s)"), "ok")
        }
        TokenEventOutcome::Forgotten => ("token forgotten".to_owned(), "neutral"),
        TokenEventOutcome::Dropped => ("token dropped: the client secret changed".to_owned(), "neutral"),
    }
}

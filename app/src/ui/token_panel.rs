//! The token page (`/token`): per environment, the cached token's state, times, lifetime bar, decoded
//! JWT header and claims, the history of token requests, and "refresh now" / "forget token".
//! Only metadata reaches the browser: never the token, its signature or the client secret.

use leptos::prelude::*;

use crate::api::{get_token_details, list_environments, ForgetToken, RefreshToken};
use crate::format;
use crate::ui::clock::{provide_browser_clock, BrowserClock};
use crate::ui::demo::{demo_resource, DemoBanner};
use crate::ui::token_badge::SyncedToken;
use crate::wire::{EnvironmentView, TokenDetails, TokenEvent, TokenEventOutcome, TokenEventReason, TokenState};

#[component]
pub fn TokenPage() -> impl IntoView {
    let environments = Resource::new(|| (), |_| list_environments());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match environments.await {
                    Ok(environments) => view! { <TokenPanels environments /> }.into_any(),
                    Err(error) => view! {
                        <p class="console-error" role="alert">{format!("The token page could not load: {error}")}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TokenPanels(environments: Vec<EnvironmentView>) -> impl IntoView {
    provide_browser_clock();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let demo = demo_resource();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"a55 console"</a>
            <h2 class="page-title">"Access tokens"</h2>
            <a class="nav-link" href="/" data-testid="back-to-console">"Back to the console"</a>
        </header>
        <DemoBanner demo />
        <main class="token-page" data-hydrated=move || hydrated.get().to_string()>
            <p class="hint">
                "One token per environment is shared by all staff. It is fetched when a request first needs it, \
                 refreshed in the background inside the refresh window, and never refreshed while nobody uses it."
            </p>
            {environments.into_iter().map(|env| view! { <TokenCard env /> }).collect_view()}
        </main>
    }
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
        TokenEventOutcome::Forgotten => ("token forgotten".to_owned(), "neutral"),
        TokenEventOutcome::Dropped => ("token dropped: the client secret changed".to_owned(), "neutral"),
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[component]
fn TokenCard(env: EnvironmentView) -> impl IntoView {
    let clock = use_context::<BrowserClock>();
    let now = move || clock.and_then(|c| c.0.get());
    let id = StoredValue::new(env.id.clone());
    let reload = RwSignal::new(0u32);
    let fetched = Resource::new(move || reload.get(), move |_| get_token_details(id.get_value()));
    let details = RwSignal::new(None::<(TokenDetails, f64)>);
    let error = RwSignal::new(None::<String>);
    let received = move |d: TokenDetails| {
        let at = clock.and_then(|c| c.0.get_untracked()).unwrap_or(0.0);
        details.set(Some((d, at)));
    };
    Effect::new(move |_| match fetched.get() {
        Some(Ok(d)) => received(d),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    // The history may change because of other staff's requests: re-read it now and then.
    crate::ui::clock::repeat_while_mounted(std::time::Duration::from_secs(15), move || reload.update(|n| *n += 1));
    let refresh = ServerAction::<RefreshToken>::new();
    let forget = ServerAction::<ForgetToken>::new();
    for action in [refresh.value(), forget.value()] {
        Effect::new(move |_| match action.get() {
            Some(Ok(d)) => {
                error.set(None);
                received(d);
            }
            Some(Err(e)) => {
                error.set(Some(e.to_string()));
                reload.update(|n| *n += 1);
            }
            None => {}
        });
    }
    let busy = move || refresh.pending().get() || forget.pending().get();

    let synced = move || details.get().map(|(d, at)| SyncedToken { view: d.token, received_at_ms: at });
    let state = move || match (synced(), now()) {
        (Some(s), Some(now)) => s.state_at(now),
        (Some(s), None) => s.view.state,
        (None, _) => TokenState::Empty,
    };
    let failing = move || details.get().is_some_and(|(d, _)| d.token.last_error.is_some());
    let state_text = move || {
        let text = match state() {
            TokenState::Empty => "no token",
            TokenState::Fresh => "fresh",
            TokenState::Stale => "stale (refresh window)",
            TokenState::Expired => "expired",
        };
        if failing() {
            format!("{text}, token endpoint failing")
        } else {
            text.to_owned()
        }
    };
    let left =
        move || synced().zip(now()).and_then(|(s, now)| s.seconds_left(now)).or_else(|| synced()?.view.seconds_left);
    let used_fraction = move || {
        let (d, _) = details.get()?;
        let lifetime = d.token.lifetime_secs? as f64;
        Some(((lifetime - left()?.max(0.0)) / lifetime).clamp(0.0, 1.0))
    };
    let field = move |f: fn(&TokenDetails) -> Option<String>| move || details.get().and_then(|(d, _)| f(&d));

    view! {
        <section class="token-card" data-testid=format!("token-card-{}", env.id) style=format!("--env-colour: {}", env.colour)>
            <header class="token-card-head">
                <h3>{env.label.clone()}</h3>
                <span class=format!("env-kind kind-{}", env.kind.as_str())>{env.kind.as_str().to_uppercase()}</span>
                <span
                    class=move || format!("token-state state-{:?}{}", state(), if failing() { " failing" } else { "" }).to_lowercase()
                    data-testid="token-state"
                >
                    {state_text}
                </span>
                <div class="token-actions">
                    <button
                        type="button"
                        data-testid="token-refresh"
                        disabled=busy
                        on:click=move |_| { refresh.dispatch(RefreshToken { environment: id.get_value() }); }
                    >
                        {move || if refresh.pending().get() { "Refreshing…" } else { "Refresh now" }}
                    </button>
                    <button
                        type="button"
                        class="secondary"
                        data-testid="token-forget"
                        disabled=busy
                        on:click=move |_| { forget.dispatch(ForgetToken { environment: id.get_value() }); }
                    >
                        "Forget token"
                    </button>
                </div>
            </header>
            {move || error.get().map(|e| view! { <p class="console-error" role="alert" data-testid="token-action-error">{e}</p> })}
            {move || details.get().and_then(|(d, _)| d.token.last_error).map(|e| view! {
                <p class="warning" data-testid="token-last-error">{format!("Last token request failed: {e}")}</p>
            })}
            <div class="token-bar" role="progressbar" aria-label="Share of the token's lifetime used"
                aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || used_fraction().map(|f| format!("{:.0}", f * 100.0)).unwrap_or_default()
                data-testid="token-bar"
            >
                <div class=move || format!("token-bar-fill state-{:?}", state()).to_lowercase()
                    style=move || format!("width: {:.1}%", used_fraction().unwrap_or(0.0) * 100.0)></div>
            </div>
            <dl class="token-facts">
                <dt>"Expires in"</dt>
                <dd data-testid="token-countdown">{move || match (state(), left()) {
                    (TokenState::Empty, _) | (_, None) => "—".to_owned(),
                    (_, Some(l)) if l <= 0.0 => "expired".to_owned(),
                    (_, Some(l)) => format::countdown(l),
                }}</dd>
                <dt>"Obtained at"</dt>
                <dd data-testid="token-obtained">{move || field(|d| d.token.obtained_at_ms.map(|ms| ms.to_string()))().and_then(|ms| ms.parse().ok()).map(|ms| timestamp(ms, now().is_some())).unwrap_or_else(|| "—".to_owned())}</dd>
                <dt>"Expires at"</dt>
                <dd data-testid="token-expires">{move || details.get().and_then(|(d, _)| d.token.expires_at_ms).map(|ms| timestamp(ms, now().is_some())).unwrap_or_else(|| "—".to_owned())}</dd>
                <dt>"Lifetime"</dt>
                <dd data-testid="token-lifetime">{move || details.get().and_then(|(d, _)| d.token.lifetime_secs).map(|s| format!("{s} s ({})", format::countdown(s as f64))).unwrap_or_else(|| "—".to_owned())}</dd>
                <dt>"Refresh window"</dt>
                <dd>{move || details.get().map(|(d, _)| match d.effective_skew_secs {
                    Some(skew) if skew != d.refresh_skew_secs => format!("last {skew} s (configured {} s, capped at half the lifetime)", d.refresh_skew_secs),
                    Some(skew) => format!("last {skew} s"),
                    None => format!("last {} s", d.refresh_skew_secs),
                }).unwrap_or_default()}</dd>
                <dt>"Fingerprint"</dt>
                <dd><code data-testid="token-fingerprint">{move || details.get().and_then(|(d, _)| d.token.fingerprint).unwrap_or_else(|| "—".to_owned())}</code></dd>
                <dt>"Token endpoint"</dt>
                <dd><code>{move || details.get().map(|(d, _)| d.token_url).unwrap_or_default()}</code></dd>
                <dt>"Client"</dt>
                <dd>{move || details.get().map(|(d, _)| format!("{} · {}{}", d.client_id, d.client_auth, d.scope.map(|s| format!(" · scope {s}")).unwrap_or_default())).unwrap_or_default()}</dd>
                {move || details.get().and_then(|(d, _)| d.retry_in_secs).map(|secs| view! {
                    <dt>"Next attempt"</dt>
                    <dd data-testid="token-retry-in">{format!("in {} (backing off after failures)", format::countdown(secs))}</dd>
                })}
            </dl>
            <div class="token-jwt">
                <div>
                    <h4>"JWT header"</h4>
                    <pre class="body json" data-testid="token-header">{move || details.get().and_then(|(d, _)| d.header).map(|h| pretty(&h)).unwrap_or_else(|| "—".to_owned())}</pre>
                </div>
                <div>
                    <h4>"JWT claims"</h4>
                    <pre class="body json" data-testid="token-claims">{move || details.get().and_then(|(d, _)| d.token.claims).map(|c| pretty(&c)).unwrap_or_else(|| "—".to_owned())}</pre>
                </div>
            </div>
            <p class="hint">"The signature and the token itself stay on the server."</p>
            <h4>"History"</h4>
            <table class="token-history" data-testid="token-history">
                <thead><tr><th>"Time"</th><th>"Reason"</th><th>"Latency"</th><th>"Outcome"</th></tr></thead>
                <tbody>
                    {move || {
                        let events: Vec<TokenEvent> = details.get().map(|(d, _)| d.events).unwrap_or_default();
                        if events.is_empty() {
                            return view! { <tr><td colspan="4" class="hint">"No token requests yet."</td></tr> }.into_any();
                        }
                        events.into_iter().map(|event| {
                            let (text, class) = outcome_text(&event.outcome);
                            view! {
                                <tr class=format!("event-{class}")>
                                    <td>{timestamp(event.at_ms, now().is_some())}</td>
                                    <td><span class="reason">{reason_text(event.reason)}</span></td>
                                    <td>{event.latency_ms.map(format::duration_ms).unwrap_or_else(|| "—".to_owned())}</td>
                                    <td>{text}</td>
                                </tr>
                            }
                        }).collect_view().into_any()
                    }}
                </tbody>
            </table>
        </section>
    }
}

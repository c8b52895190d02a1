//! The console's top bar: environment switcher, its kind and API base, the token badge, demo
//! mode and the staff menu; and the banner that says production is chosen.

use leptos::prelude::*;

use super::state::ConsoleState;
use crate::ui::parts::demo::{DemoResource, DemoToggle};
use crate::ui::parts::staff::StaffMenu;
use crate::ui::parts::token_badge::TokenBadge;

#[component]
pub fn TopBar(state: ConsoleState, demo: DemoResource) -> impl IntoView {
    let environment = state.environment;
    view! {
        <header class="topbar" class:production=move || state.is_production()>
            <h1 class="brand">"a55 console"</h1>
            <nav class="nav-links">
                <a href="/compare" data-testid="nav-compare" title="Send one request to two environments and diff the answers">"Compare"</a>
                <a href="/parity" data-testid="nav-parity" title="Suites of compares run together: drift between environments">"Parity"</a>
            </nav>
            <label class="env-switcher">
                <span>"Environment"</span>
                <select
                    data-testid="env-select"
                    prop:value=move || environment.get()
                    on:change=move |ev| environment.set(event_target_value(&ev))
                >
                    {state.environments.get_value().into_iter().map(|env| {
                        view! { <option value=env.id.clone()>{format!("{} ({})", env.label, env.kind.as_str())}</option> }
                    }).collect_view()}
                </select>
            </label>
            {move || state.current_env().map(|env| view! {
                <span class=format!("env-kind kind-{}", env.kind.as_str()) style=format!("--env-colour: {}", env.colour) data-testid="env-kind">
                    {env.kind.as_str().to_uppercase()}
                </span>
                <span class="env-base" title="API base">{env.api_base}</span>
            })}
            <TokenBadge token=state.token />
            <DemoToggle demo />
            <StaffMenu />
        </header>
    }
}

/// Shown under the top bar while production is chosen.
#[component]
pub fn ProductionBanner(state: ConsoleState) -> impl IntoView {
    view! {
        {move || state.is_production().then(|| view! {
            <div class="production-banner" role="note" data-testid="production-banner">
                "PRODUCTION: requests act on real accounts. Writes need the environment id typed to confirm."
            </div>
        })}
    }
}

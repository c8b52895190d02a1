//! The token page (`/token`): per environment, the cached token's state, times, lifetime bar, decoded
//! JWT header and claims, the history of token requests, and "refresh now" / "forget token".
//! Only metadata reaches the browser: never the token, its signature or the client secret.

use leptos::prelude::*;

mod card;

use crate::api::list_environments;
use crate::ui::parts::clock::provide_browser_clock;
use crate::ui::parts::demo::{demo_resource, DemoBanner};
use crate::wire::EnvironmentView;
use card::TokenCard;

#[component]
pub fn TokenPage() -> impl IntoView {
    let environments = crate::codec::load(|| (), |_| list_environments());
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
            <h1 class="page-title">"Access tokens"</h1>
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

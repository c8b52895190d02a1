//! The top bar's parity badge: shown while a suite's last run found drift its baseline does not know.

use leptos::prelude::*;

use crate::api::get_parity_badge;

#[component]
pub fn ParityBadge() -> impl IntoView {
    let badge = Resource::new(|| (), |_| get_parity_badge());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                badge.await.ok().filter(|b| b.new_drift > 0).map(|b| view! {
                    <a class="parity-badge" href="/parity" data-testid="parity-badge"
                        title=format!("{} suite(s) found drift their baseline does not know", b.suites)>
                        {format!("Parity: {} new", b.new_drift)}
                    </a>
                })
            })}
        </Suspense>
    }
}

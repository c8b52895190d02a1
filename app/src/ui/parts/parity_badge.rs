//! The top bar's parity badge: shown while a suite's last run found drift its baseline does not know,
//! looked at again every minute (runs end on schedules and on other members' pages) and at once
//! when the Parity page changes a run, a baseline or a suite.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::get_parity_badge;
use crate::ui::parts::clock::repeat_while_mounted;

/// Bumped by the Parity page after each change there; the badge on that page follows it.
#[derive(Clone, Copy)]
pub struct ParityChanged(pub RwSignal<u32>);

#[component]
pub fn ParityBadge() -> impl IntoView {
    let tick = RwSignal::new(0_u32);
    repeat_while_mounted(Duration::from_secs(60), move || tick.update(|n| *n += 1));
    let changed = use_context::<ParityChanged>();
    let badge = crate::codec::load(move || (tick.get(), changed.map(|c| c.0.get())), |_| get_parity_badge());
    view! {
        // A transition: the badge stays as it was while it is looked at again, never blinks out.
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                badge.await.ok().filter(|b| b.new_drift > 0).map(|b| view! {
                    <a class="parity-badge" href="/parity" data-testid="parity-badge"
                        title=format!("{} suite(s) found drift their baseline does not know", b.suites)>
                        {format!("Parity: {} new", b.new_drift)}
                    </a>
                })
            })}
        </Transition>
    }
}

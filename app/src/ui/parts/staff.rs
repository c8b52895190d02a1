//! The staff corner of the top bar: the parity badge, who is logged in, the audit link for admins,
//! and logout.

use leptos::prelude::*;

use crate::api::{get_current_staff, CloseSession};
use crate::wire::Role;

#[component]
pub fn StaffMenu() -> impl IntoView {
    let me = crate::codec::load(|| (), |_| get_current_staff());
    let logout = ServerAction::<CloseSession>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href("/login?signed_out=1");
            }
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                me.await.ok().map(|staff| view! {
                    <crate::ui::parts::parity_badge::ParityBadge />
                    <span class="staff" data-testid="staff-name" title=format!("{} (role: {})", staff.name, staff.role.as_str())>
                        {if staff.local { "local admin".to_owned() } else { format!("{} ({})", staff.name, staff.role.as_str()) }}
                    </span>
                    {(staff.role == Role::Admin).then(|| view! { <a class="staff-link" href="/audit" data-testid="audit-link">"Audit"</a> })}
                    <crate::ui::parts::theme::ThemeSwitch />
                    {(!staff.local).then(|| view! {
                        <button class="staff-logout" data-testid="logout" on:click=move |_| { logout.dispatch(crate::api::CloseSession {}); }>
                            "Log out"
                        </button>
                    })}
                })
            })}
        </Suspense>
    }
}

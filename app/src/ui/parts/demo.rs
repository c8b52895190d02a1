//! Demo mode and masking in the UI: the switch, the "Demo" banner, and the list of secrets the server
//! masked in a response (with reveal for admins). All masking happens on the server; this only shows it.

use leptos::prelude::*;

use crate::api::{get_demo_mode, reveal_secret, set_demo_mode};
use crate::wire::{DemoView, MaskedSecret, MaskingReport};

pub type DemoResource = crate::codec::Loaded<DemoView>;

pub fn demo_resource() -> DemoResource {
    crate::codec::load(|| (), |_| get_demo_mode())
}

/// The top-bar switch. Switching reloads the page, so everything on screen is fetched again under
/// the new policy (nothing masked for the old one lingers in memory).
#[component]
pub fn DemoToggle(demo: DemoResource) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let switch = move |enabled: bool| {
        leptos::task::spawn_local(async move {
            match set_demo_mode(enabled).await {
                Ok(_) => {
                    #[cfg(feature = "hydrate")]
                    {
                        let _ = window().location().reload();
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                demo.await.ok().map(|view| {
                    let title = if view.forced {
                        "This console always runs in demo mode"
                    } else if view.enabled {
                        "Demo mode is on: switch it off to see unmasked data"
                    } else {
                        "Demo mode masks personal data and hides production, for showing the API to partners"
                    };
                    view! {
                        <button
                            class="demo-toggle"
                            class:on=view.enabled
                            data-testid="demo-toggle"
                            aria-pressed=view.enabled.to_string()
                            title=title
                            disabled=view.forced
                            on:click=move |_| switch(!view.enabled)
                        >
                            {if view.enabled { "Demo: on" } else { "Demo: off" }}
                        </button>
                    }
                })
            })}
        </Suspense>
        {move || error.get().map(|e| view! { <span class="demo-error" role="alert" data-testid="demo-error">{e}</span> })}
    }
}

/// The banner shown on every page while demo mode is on; its presence also enlarges the type (CSS).
#[component]
pub fn DemoBanner(demo: DemoResource) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                demo.await.ok().filter(|view| view.enabled).map(|view| view! {
                    <div class="demo-banner" role="note" data-testid="demo-banner">
                        <strong>"Demo"</strong>
                        " · personal data and secrets are masked on the server; production environments are hidden"
                        {view.forced.then_some(" (always on for this console)")}
                    </div>
                })
            })}
        </Suspense>
    }
}

/// What the server masked in this response: the secrets (reveal for admins) and demo counts.
#[component]
pub fn MaskingNotice(report: MaskingReport) -> impl IntoView {
    if report.secret_count == 0 && report.personal.is_empty() && !report.demo {
        return ().into_any();
    }
    let personal =
        report.personal.iter().map(|(kind, n)| format!("{n} {}", kind.replace('_', " "))).collect::<Vec<_>>();
    let unlisted = report.secret_count.saturating_sub(report.secrets.len() as u64);
    view! {
        <div class="masking-notice" data-testid="masking-notice">
            {(report.secret_count > 0).then(|| view! {
                <p>
                    <strong>{format!("{} secret value{} masked by the console", report.secret_count, if report.secret_count == 1 { "" } else { "s" })}</strong>
                    {(unlisted > 0).then(|| format!(" ({unlisted} more not listed)"))}
                </p>
                <ul class="masked-secrets">
                    {report.secrets.into_iter().map(|secret| view! { <MaskedSecretRow secret /> }).collect_view()}
                </ul>
            })}
            {report.demo.then(|| view! {
                <p data-testid="demo-masked">
                    {if personal.is_empty() {
                        "Demo mode: no personal data found in this response.".to_owned()
                    } else {
                        format!("Demo mode masked: {}.", personal.join(", "))
                    }}
                </p>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn MaskedSecretRow(secret: MaskedSecret) -> impl IntoView {
    let revealed = RwSignal::new(None::<Result<String, String>>);
    let location = secret.location.clone();
    let reveal = move |id: String| {
        leptos::task::spawn_local(async move {
            revealed.set(Some(reveal_secret(id).await.map(|r| r.value).map_err(|e| e.to_string())));
        });
    };
    view! {
        <li data-testid="masked-secret">
            <code class="masked-location">{location}</code>
            {match secret.reveal_id {
                Some(id) => view! {
                    <button class="small" data-testid="reveal" on:click=move |_| reveal(id.clone())
                        title="Shows the original once; the reveal is recorded in the audit trail">
                        "Reveal"
                    </button>
                }.into_any(),
                None => view! {
                    <span class="hint" title="Only admins may reveal, and never in demo mode">"admins only"</span>
                }.into_any(),
            }}
            {move || revealed.get().map(|r| match r {
                Ok(value) => view! { <code class="revealed" data-testid="revealed">{value}</code> }.into_any(),
                Err(e) => view! { <span class="console-error" role="alert">{e}</span> }.into_any(),
            })}
        </li>
    }
}

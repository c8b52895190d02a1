//! The Compare form around the shared request editor: the two environment pickers with a swap,
//! the per-side overrides of shared parameters, and the typed confirmation of a guarded write.

use leptos::prelude::*;

use super::link::Override;
use super::state::{CompareState, Side};
use crate::wire::ParamLocation;

#[component]
pub fn EnvironmentPickers(state: CompareState) -> impl IntoView {
    view! {
        <section class="compare-setup" aria-label="Environments">
            <EnvironmentPicker state side="left" env=state.left.env />
            <button class="small" data-testid="compare-swap" title="Swap sides" on:click=move |_| state.swap()>"⇄"</button>
            <EnvironmentPicker state side="right" env=state.right.env />
        </section>
    }
}

#[component]
fn EnvironmentPicker(state: CompareState, side: &'static str, env: RwSignal<String>) -> impl IntoView {
    let options = move || {
        state
            .environments
            .get_value()
            .into_iter()
            .map(|env| {
                view! { <option value=env.id.clone()>{format!("{} ({})", env.label, env.kind.as_str())}</option> }
            })
            .collect_view()
    };
    view! {
        <label class="compare-env">
            <span>{if side == "left" { "Left" } else { "Right" }}</span>
            <select
                data-testid=format!("compare-{side}-env")
                prop:value=move || env.get()
                on:change=move |ev| env.set(event_target_value(&ev))
            >
                {options()}
            </select>
            {move || state.env_view(&env.get()).map(|env| view! {
                <span class=format!("env-kind kind-{}", env.kind.as_str()) style=format!("--env-colour: {}", env.colour)>
                    {env.kind.as_str().to_uppercase()}
                </span>
            })}
        </label>
    }
}

#[component]
pub fn PerSideOverrides(state: CompareState) -> impl IntoView {
    view! {
        <section class="compare-params" aria-label="Per-side overrides">
            <h2>"Per-side overrides"</h2>
            <p class="hint">"Ids differ between environments: give a side its own value; empty uses the shared one."</p>
            <OverridesTable state />
            <ConfirmBox state side="left" which=state.left />
            <ConfirmBox state side="right" which=state.right />
        </section>
    }
}

fn override_value(list: RwSignal<Vec<Override>>, location: ParamLocation, name: &str) -> String {
    list.with(|all| all.iter().find(|o| o.location == location && o.name == name).map(|o| o.value.clone()))
        .unwrap_or_default()
}

fn set_override(list: RwSignal<Vec<Override>>, location: ParamLocation, name: String, value: String) {
    list.update(|all| {
        all.retain(|o| !(o.location == location && o.name == name));
        if !value.is_empty() {
            all.push(Override { location, name, value });
        }
    });
}

/// One row per parameter of the form, an input per side (empty = shared value).
#[component]
fn OverridesTable(state: CompareState) -> impl IntoView {
    let override_input = move |side: &'static str, list: RwSignal<Vec<Override>>, location, name: String| {
        let (shown, changed) = (name.clone(), name.clone());
        view! {
            <td><input
                data-testid=format!("override-{side}-{name}")
                placeholder="shared"
                prop:value=move || override_value(list, location, &shown)
                on:change=move |ev| set_override(list, location, changed.clone(), event_target_value(&ev))
            /></td>
        }
    };
    move || {
        let fields = state.draft.fields.get();
        if fields.is_empty() {
            return view! { <p class="hint">"No parameters: both sides send the same request."</p> }.into_any();
        }
        view! {
            <table class="compare-overrides" data-testid="compare-overrides">
                <thead><tr><th>"Parameter"</th><th>"Shared value"</th><th>"Left override"</th><th>"Right override"</th></tr></thead>
                <tbody>
                    {fields.into_iter().map(|field| {
                        let param = field.param.get_value();
                        let (location, name) = (param.location, param.name.clone());
                        let loc = match location { ParamLocation::Path => "path", ParamLocation::Query => "query", ParamLocation::Header => "header" };
                        view! {
                            <tr>
                                <td><code>{name.clone()}</code>" "<span class="hint">{loc}</span></td>
                                <td class="shared">{move || field.value.get()}</td>
                                {override_input("left", state.left.overrides, location, name.clone())}
                                {override_input("right", state.right.overrides, location, name)}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    }
}

/// Asks for the environment id before a write is sent to an environment that confirms writes.
#[component]
fn ConfirmBox(state: CompareState, side: &'static str, which: Side) -> impl IntoView {
    let Side { env, confirm: typed, .. } = which;
    move || {
        state.needs_confirm(&env.get()).then(|| {
            let id = env.get();
            view! {
                <label class="compare-confirm" data-testid=format!("compare-{side}-confirm-box")>
                    {format!("{id} confirms writes: type ")} <code>{id.clone()}</code> " to send this write there"
                    <input
                        data-testid=format!("compare-{side}-confirm")
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                </label>
            }
        })
    }
}

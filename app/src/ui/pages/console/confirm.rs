//! The production write confirmation: staff type the environment id before a write is sent.

use leptos::prelude::*;

use crate::wire::ExecuteRequest;

/// Shown while `pending` holds a write waiting for confirmation; `on_confirm` gets the typed id.
#[component]
pub fn ConfirmWrite(
    pending: RwSignal<Option<ExecuteRequest>>,
    environment_label: Signal<String>,
    on_confirm: Callback<ExecuteRequest>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    view! {
        {move || pending.get().map(|request| {
            let expected = request.environment.clone();
            let matches = {
                let expected = expected.clone();
                move || typed.get().trim() == expected
            };
            let send = {
                let request = request.clone();
                let matches = matches.clone();
                move || {
                    if matches() {
                        on_confirm.run(ExecuteRequest { confirm: Some(typed.get_untracked().trim().to_owned()), ..request.clone() });
                        typed.set(String::new());
                        pending.set(None);
                    }
                }
            };
            let send_on_enter = send.clone();
            view! {
                <div class="confirm-write" role="dialog" aria-modal="true" aria-labelledby="confirm-title" data-testid="confirm-write"
                    on:keydown=move |ev| if ev.key() == "Escape" { typed.set(String::new()); pending.set(None); }>
                    <h2 id="confirm-title">{format!("Send {} to {}?", request.method, environment_label.get())}</h2>
                    <p>"This environment confirms writes. Type " <code>{expected.clone()}</code> " to send "
                        <code>{format!("{} {}", request.method, request.path)}</code> "."</p>
                    <input
                        data-testid="confirm-input"
                        autofocus
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" { send_on_enter() }
                    />
                    <div class="confirm-actions">
                        <button class="confirm-send" data-testid="confirm-send" disabled=move || !matches() on:click=move |_| send()>"Send"</button>
                        <button data-testid="confirm-cancel" on:click=move |_| { typed.set(String::new()); pending.set(None); }>"Cancel"</button>
                    </div>
                </div>
            }
        })}
    }
}

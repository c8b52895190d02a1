//! Light, dark, or the system's: the staff member's choice, kept on the server (so it follows them
//! to another browser) and in this browser's localStorage (so a page paints in it before the app
//! has started: a small inline script in the page head applies it).

use leptos::prelude::*;

use crate::api::{get_preferences, set_theme};

const STORAGE_KEY: &str = "a55-theme";

/// Runs in the page head before the first paint (with the page's CSP nonce).
pub const EARLY_SCRIPT: &str = "try{var t=localStorage.getItem('a55-theme');\
if(t==='light'||t==='dark'){document.documentElement.dataset.theme=t}}catch(e){}";

/// Applies `theme` to this page and remembers it in this browser.
fn apply(theme: Option<&str>) {
    let root = document().document_element();
    let storage = window().local_storage().ok().flatten();
    match theme {
        Some(theme @ ("light" | "dark")) => {
            if let Some(root) = root {
                let _ = root.set_attribute("data-theme", theme);
            }
            if let Some(storage) = storage {
                let _ = storage.set_item(STORAGE_KEY, theme);
            }
        }
        _ => {
            if let Some(root) = root {
                let _ = root.remove_attribute("data-theme");
            }
            if let Some(storage) = storage {
                let _ = storage.remove_item(STORAGE_KEY);
            }
        }
    }
}

/// The switch in the staff menu. After hydration it takes the staff member's saved choice (which
/// wins over what this browser remembered), and each change is saved for them.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let choice = RwSignal::new(String::new());
    let saved = LocalResource::new(get_preferences);
    Effect::new(move |_| {
        if let Some(Ok(preferences)) = saved.get() {
            let theme = preferences.theme.unwrap_or_default();
            apply(Some(theme.as_str()).filter(|t| !t.is_empty()));
            choice.set(theme);
        }
    });
    let change = move |theme: String| {
        choice.set(theme.clone());
        let chosen = Some(theme).filter(|t| !t.is_empty());
        apply(chosen.as_deref());
        leptos::task::spawn_local(async move {
            let _ = set_theme(chosen).await;
        });
    };
    view! {
        <label class="theme-switch">
            <span class="visually-hidden">"Theme"</span>
            <select data-testid="theme-select" aria-label="Theme" title="Theme: the system's, light or dark"
                prop:value=move || choice.get()
                on:change=move |ev| change(event_target_value(&ev))>
                <option value="">"◐ Auto"</option>
                <option value="light">"☀ Light"</option>
                <option value="dark">"☾ Dark"</option>
            </select>
        </label>
    }
}

//! The `?` overlay: every keyboard shortcut of the console in one list. `?` opens it from anywhere
//! but a text field; Esc or the close button shuts it and gives focus back.

use leptos::ev;
use leptos::html::Button;
use leptos::prelude::*;

use super::clock::window_listener_while_mounted;

const SHORTCUTS: [(&str, &str); 10] = [
    ("?", "Show this list"),
    ("/", "Search the endpoints (console and compare)"),
    ("Esc", "Close this list, a confirmation or the value panel"),
    ("Ctrl+Enter / ⌘+Enter", "Run the request (console)"),
    ("↑ ↓ then Enter", "Move through the endpoints while searching, and pick one"),
    ("Tab / Shift+Tab", "Move between controls; the focused one has a blue ring"),
    ("↑ ↓ Home End PageUp PageDown", "Move through the rows of the JSON tree"),
    ("→ ←", "Open or close a node of the JSON tree (← goes to its parent)"),
    ("Enter / Space", "Open a node of the JSON tree, or show a whole value"),
    ("Enter / Shift+Enter", "Next or previous match of the tree search"),
];

/// True when the key press is typing, not a shortcut.
fn typing(event: &ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast as _;
    let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || target.has_attribute("contenteditable")
}

#[component]
pub fn ShortcutsHelp() -> impl IntoView {
    let open = RwSignal::new(false);
    let close_button = NodeRef::<Button>::new();
    window_listener_while_mounted(ev::keydown, move |event| {
        if event.key() == "?" && !event.ctrl_key() && !event.meta_key() && !event.alt_key() && !typing(&event) {
            event.prevent_default();
            open.set(true);
        } else if event.key() == "Escape" && open.get_untracked() {
            open.set(false);
        }
    });
    Effect::new(move |_| {
        if open.get() {
            if let Some(button) = close_button.get() {
                let _ = button.focus();
            }
        }
    });
    move || {
        open.get().then(|| {
            view! {
                <div class="shortcuts-backdrop" on:click=move |_| open.set(false)></div>
                <div class="shortcuts" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" data-testid="shortcuts">
                    <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                    <table>
                        <tbody>
                            {SHORTCUTS.iter().map(|(keys, what)| view! {
                                <tr><th scope="row"><kbd>{*keys}</kbd></th><td>{*what}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <button node_ref=close_button data-testid="shortcuts-close" on:click=move |_| open.set(false)>"Close (Esc)"</button>
                </div>
            }
        })
    }
}

//! The login page: name and password, sent by the `OpenSession` server function (never as a plain form
//! post, which the server's CSRF check would refuse), then a full reload of where staff were going.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::OpenSession;

/// Only same-origin paths: `/x` but never `//host` or `/\host`, so `next` cannot send staff elsewhere.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']))
        .unwrap_or_else(|| "/".to_owned())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<OpenSession>::new();
    let query = use_query_map();
    // Before hydration the form cannot add the anti-CSRF header, so it stays disabled until then.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href(&next);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = next;
        }
    });
    view! {
        <main class="login" data-hydrated=move || hydrated.get().to_string()>
            <h1 class="brand">"a55 console"</h1>
            <ActionForm action=login attr:class="login-form" attr:data-testid="login-form">
                <label>
                    <span>"Name"</span>
                    <input name="name" autocomplete="username" required data-testid="login-name" />
                </label>
                <label>
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="current-password" required data-testid="login-password" />
                </label>
                <button type="submit" data-testid="login-submit" disabled=move || !hydrated.get() || login.pending().get()>
                    "Log in"
                </button>
            </ActionForm>
            {move || login.value().get().and_then(Result::err).map(|error| view! {
                <p class="login-error" role="alert" data-testid="login-error">{error.to_string()}</p>
            })}
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_kept_only_when_it_is_a_path_on_this_origin() {
        assert_eq!(safe_next(Some("/audit?actor=x".into())), "/audit?actor=x");
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "", "/a\r\nb"] {
            assert_eq!(safe_next(Some(bad.into())), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

//! The login page: "Sign in with <identity provider>" first when one is configured, then a local
//! account's name and password, sent by the `OpenSession` server function (never as a plain form
//! post, which the server's CSRF check would refuse), then a full reload of where staff were going.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{get_login_options, OpenSession};
use crate::wire::LoginOptions;

/// Only same-origin paths: `/x` but never `//host` or `/\host`, so `next` cannot send staff elsewhere.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']))
        .unwrap_or_else(|| "/".to_owned())
}

/// What the login page says after the identity provider sent someone back without a session.
pub fn sign_in_problem(code: &str) -> &'static str {
    match code {
        "expired" => "That sign-in expired, was already used, or was started in another browser. Start again.",
        "idp" => "The identity provider did not sign you in. Try again, or ask your IT team.",
        "exchange" => "The console could not finish the sign-in with the identity provider. Try again; if it keeps failing, tell the console's admins.",
        "token" => "The identity provider's answer failed the console's checks, so you were not signed in. Tell the console's admins: the audit trail has the reason.",
        "name" => "Your account at the identity provider has no name the console can use. Ask the console's admins.",
        "role" => "You are signed in at the identity provider, but none of your groups gives access to the console. Ask for access.",
        "taken" => "Your name at the identity provider belongs to a local console account. Ask the console's admins.",
        "off" => "Sign-in through an identity provider is not configured here.",
        _ => "The console could not record the sign-in. Try again in a moment.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_login_options());
    let query = use_query_map();
    let (next, problem, signed_out) = query.with_untracked(|q| {
        (safe_next(q.get("next")), q.get("sso").map(|code| sign_in_problem(&code)), q.get("signed_out").is_some())
    });
    // Before hydration the form cannot add the anti-CSRF header, so it stays disabled until then.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let next = StoredValue::new(next);
    view! {
        <main class="login" data-hydrated=move || hydrated.get().to_string()>
            <h1 class="brand">"a55 console"</h1>
            {problem.map(|p| view! { <p class="login-error" role="alert" data-testid="sign-in-problem">{p}</p> })}
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // Without the options the password form is still offered: the server decides.
                    let options = options.await.unwrap_or(LoginOptions { provider: None, password: true });
                    let both = options.provider.is_some() && options.password;
                    view! {
                        {options.provider.map(|provider| view! { <ProviderSignIn provider next=next.get_value() signed_out /> })}
                        {both.then(|| view! { <p class="login-divider">"or, with a local account"</p> })}
                        {options.password.then(|| view! { <PasswordForm hydrated next=next.get_value() /> })}
                    }
                })}
            </Suspense>
        </main>
    }
}

/// "Sign in with <provider>" (a plain link: the page's CSP allows forms to this origin only), and
/// after a sign-out the offer to sign out at the provider too.
#[component]
fn ProviderSignIn(provider: crate::wire::ProviderSignIn, next: String, signed_out: bool) -> impl IntoView {
    let start = format!("/auth/oidc/start?next={}", crate::ui::parts::link::encode_component(&next));
    view! {
        // `rel="external"`: a full navigation to the server, not a route of this app.
        <a class="button sso" href=start rel="external" data-testid="sso-sign-in">{format!("Sign in with {}", provider.name)}</a>
        {signed_out.then(|| view! {
            <p class="hint" data-testid="signed-out">
                "You signed out of the console. "
                {provider.logout_url.map(|url| view! {
                    <a href=url data-testid="idp-sign-out">{format!("Sign out of {} too", provider.name)}</a>
                })}
            </p>
        })}
    }
}

/// A local account's name and password, sent by the `OpenSession` server function.
#[component]
fn PasswordForm(hydrated: RwSignal<bool>, next: String) -> impl IntoView {
    let login = ServerAction::<OpenSession>::new();
    let next = StoredValue::new(next);
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href(&next.get_value());
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = next;
        }
    });
    view! {
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

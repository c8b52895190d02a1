//! The login page: plain server-rendered HTML without the app's WASM, so a cold `/login` costs the
//! document and the stylesheet. "Sign in with <identity provider>" first when one is configured, then
//! a local account's name and password as an ordinary form posted to `POST /login`, which the server
//! answers with a redirect to where staff were going, or with this page again and the reason.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::wire::LoginOptions;

/// Where the page lives and where its form posts.
pub const LOGIN_PATH: &str = "/login";

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

/// A login the server refused, shown again on the page it re-renders: the name typed (never the
/// password), where staff were going, and the same message the `OpenSession` server function gives.
/// The form's handler provides it as context.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RefusedLogin {
    pub name: String,
    pub next: String,
    pub message: String,
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let refused = use_context::<RefusedLogin>();
    let (next, problem, signed_out) = query.with_untracked(|q| {
        (safe_next(q.get("next")), q.get("sso").map(|code| sign_in_problem(&code)), q.get("signed_out").is_some())
    });
    // After a refused post the address is the bare `/login`: `next` travelled in the form.
    let next = refused.as_ref().map_or(next, |r| safe_next(Some(r.next.clone())));
    let (name, message) = refused.map_or((String::new(), None), |r| (r.name, Some(r.message)));
    let options = login_options();
    view! {
        // Ready as soon as it is shown: nothing here waits for WASM (tests and the cold-load
        // benchmark wait for this attribute on every page).
        <main class="login" data-hydrated="true">
            <h1 class="brand">"a55 console"</h1>
            {problem.map(|p| view! { <p class="login-error" role="alert" data-testid="sign-in-problem">{p}</p> })}
            {move || match options.get() {
                None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                Some(options) => {
                    let both = options.provider.is_some() && options.password;
                    let (next, name) = (next.clone(), name.clone());
                    view! {
                        {options.provider.map(|provider| view! { <ProviderSignIn provider next=next.clone() signed_out /> })}
                        {both.then(|| view! { <p class="login-divider">"or, with a local account"</p> })}
                        {options.password.then(|| view! { <PasswordForm next name /> })}
                    }
                    .into_any()
                }
            }}
            // Outside the form: a post can be refused because password sign-in is off, and then
            // there is no form to show it under.
            {message.map(|message| view! {
                <p class="login-error" role="alert" data-testid="login-error">{message}</p>
            })}
        </main>
    }
}

/// How staff may sign in. On the server they are read at once, so the page is complete HTML with
/// nothing left to load; only when the app's client router shows this page (never on a cold load)
/// are they fetched. Without them the password form is still offered: the server decides.
fn login_options() -> RwSignal<Option<LoginOptions>> {
    #[cfg(feature = "ssr")]
    let now = Some(crate::backend::login_options().unwrap_or(LoginOptions { provider: None, password: true }));
    #[cfg(not(feature = "ssr"))]
    let now = None;
    let options = RwSignal::new(now);
    #[cfg(feature = "hydrate")]
    if options.get_untracked().is_none() {
        leptos::task::spawn_local(async move {
            let fetched = crate::api::get_login_options().await;
            options.set(Some(fetched.unwrap_or(LoginOptions { provider: None, password: true })));
        });
    }
    options
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

/// A local account's name and password: an ordinary form, so it works before (and without) any
/// WASM. The server checks that it was sent from this page (`Sec-Fetch-Site`, `Origin` or
/// `Referer`) instead of the `x-a55-csrf` header a form cannot add. The client router never
/// intercepts a plain form, so inside the app it is a full page load too.
#[component]
fn PasswordForm(next: String, name: String) -> impl IntoView {
    view! {
        <form method="post" action=LOGIN_PATH class="login-form" data-testid="login-form">
            <input type="hidden" name="next" value=next />
            <label>
                <span>"Name"</span>
                <input name="name" value=name autocomplete="username" required data-testid="login-name" />
            </label>
            <label>
                <span>"Password"</span>
                // Never given a value: a refused password is not sent back.
                <input type="password" name="password" autocomplete="current-password" required data-testid="login-password" />
            </label>
            <button type="submit" data-testid="login-submit">"Log in"</button>
        </form>
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

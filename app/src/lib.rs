//! a55 console UI: the HTML shell, the app and its pages, the wire types and the server functions.
//!
//! Built twice: with `ssr` it is linked into the server and renders HTML; with `hydrate` it is the
//! browser's WASM. Server-only code sits behind `cfg(feature = "ssr")`.
// The page's nested view types exceed the default query depth in release WASM builds.
#![recursion_limit = "256"]

/// Name of the generated site files: `/pkg/a55-console.js`, `.wasm`, `.css`.
pub const OUTPUT_NAME: &str = "a55-console";

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod codec;
pub mod csrf;
pub mod format;
pub mod inspect;
pub mod schema;
pub mod ui;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

/// Pages served as plain HTML, without the hydration scripts and so without the app's WASM: the
/// login page is a form that works on its own, and the WASM is nearly all a cold load would cost.
pub fn is_plain_page(path: &str) -> bool {
    path == ui::pages::login::LOGIN_PATH
}

/// Whether the page being rendered gets the hydration scripts (decided from the request's path).
fn hydrates() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_none_or(|parts| !is_plain_page(parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let scripts = hydrates().then(|| {
        view! {
            <AutoReload options=options.clone() />
            <HydrationScripts options=options.clone() />
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // The theme this browser last used, before the first paint (no flash of the other one).
                <script nonce=leptos::nonce::use_nonce() inner_html=ui::parts::theme::EARLY_SCRIPT></script>
                <HashedStylesheet options id="leptos" />
                {scripts}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="a55 console" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=path!("/") view=ui::pages::console::ConsolePage />
                // Rendered whole before it is sent (no streamed placeholder waits for a script).
                <Route path=path!("/login") view=ui::pages::login::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} />
                <Route path=path!("/token") view={Lazy::<TokenRoute>::new()} />
                <Route path=path!("/compare") view={Lazy::<CompareRoute>::new()} />
                <Route path=path!("/parity") view={Lazy::<ParityRoute>::new()} />
            </Routes>
        </Router>
        <ui::parts::shortcuts::ShortcutsHelp />
    }
}

/// A lazy route showing one page component: `lazy_page!(Route, page::Component)`.
macro_rules! lazy_page {
    ($route:ident, $($page:ident)::+) => {
        struct $route;
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }
            fn view(_this: Self) -> AnyView {
                view! { <$($page)::+ /> }.into_any()
            }
        }
    };
}

// The pages loaded only when visited: with `--split`, each is a WASM chunk of its own. The console
// page stays in the main module: made lazy too, it took `/login` from 610 to 214 KB but `/` from
// 610 to 707 KB (brotli), since the code it shares with the other pages moves into chunks that are
// optimised apart, and `/` is the page staff open every day.
lazy_page!(AuditRoute, ui::pages::audit::AuditPage);
lazy_page!(TokenRoute, ui::pages::token::TokenPage);
lazy_page!(CompareRoute, ui::pages::compare::ComparePage);
lazy_page!(ParityRoute, ui::pages::parity::ParityPage);

/// Browser entry point: attaches the WASM app to the server-rendered HTML (asynchronously: a lazy
/// route's chunk is fetched before its part of the page hydrates).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_lazy(App);
}

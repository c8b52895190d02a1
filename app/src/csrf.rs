//! The server-function client: the browser's `fetch` client plus the header the server's CSRF check requires.
//!
//! Leptos server functions have no CSRF defence of their own, and their default encoding
//! (`application/x-www-form-urlencoded`) is one a cross-site form can send without a preflight. The
//! server refuses every state-changing request that lacks [`CSRF_HEADER`]; a cross-origin page cannot
//! add a custom header without a CORS preflight, which the server never grants.

use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

/// Name of the anti-CSRF request header; its value must be [`CSRF_VALUE`].
pub const CSRF_HEADER: &str = "x-a55-csrf";
pub const CSRF_VALUE: &str = "1";

/// Every server function of the console names this client (`#[server(output = crate::codec::LiteJson, client = CsrfClient)]`).
pub struct CsrfClient;

impl<E, IS, OS> Client<E, IS, OS> for CsrfClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl std::future::Future<Output = Result<Self::Response, E>> + Send {
        // A request's `Headers` object is live until it is sent, so setting it here reaches the wire.
        req.headers().set(CSRF_HEADER, CSRF_VALUE);
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::type_complexity, reason = "the signature is the trait's")]
    fn open_websocket(
        path: &str,
    ) -> impl std::future::Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<bytes::Bytes, bytes::Bytes>> + Send + 'static,
                impl futures::Sink<bytes::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

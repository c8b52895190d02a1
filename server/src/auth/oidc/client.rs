//! The HTTP client for the identity provider (discovery, JWKS, token exchange): no redirects, no
//! proxies from the environment, timeouts, and a size cap on every answer. The issuer comes from
//! configuration, never from a request, and this client is used for nothing else.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Discovery documents, key sets and token answers are a few KiB; anything larger is refused.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum IdpHttpError {
    #[error("{0}")]
    Transport(String),
    #[error("the answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

#[derive(Clone)]
pub struct SafeHttp {
    client: reqwest::Client,
}

impl SafeHttp {
    pub fn new() -> Result<Self, reqwest::Error> {
        let client = crate::upstream::http_client(CONNECT_TIMEOUT)?;
        Ok(Self { client })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, IdpHttpError> {
        let (parts, body) = request.into_parts();
        let mut outgoing = self.client.request(parts.method, parts.uri.to_string()).timeout(REQUEST_TIMEOUT).body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let mut response = outgoing.send().await.map_err(|e| IdpHttpError::Transport(describe(&e)))?;
        let mut answer = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| IdpHttpError::Transport(describe(&e)))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(IdpHttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer.body(body).map_err(|e| IdpHttpError::Transport(e.to_string()))
    }
}

/// reqwest's message without the URL's query (which may carry a code).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    match error.url() {
        Some(url) => format!("{kind}: {}://{}{}", url.scheme(), url.host_str().unwrap_or("?"), url.path()),
        None => kind.to_owned(),
    }
}

impl<'c> AsyncHttpClient<'c> for SafeHttp {
    type Error = IdpHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, IdpHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

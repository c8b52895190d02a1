//! Staff sign-in through the company's OpenID Connect provider: discovery at start-up, the
//! authorization code flow with PKCE (S256), state and nonce, and every ID token check (issuer,
//! audience, expiry with a small skew, nonce, an asymmetric-only algorithm allowlist, `at_hash`).
//!
//! The pending sign-in (state -> PKCE verifier, nonce, page to return to) is kept on the server
//! for five minutes and used once. It is bound to the browser that started it by a `SameSite=Lax`
//! cookie: the callback is a cross-site navigation from the identity provider, so the `Strict`
//! session cookie is not sent with it, and without a binding anyone could make a victim's browser
//! finish a sign-in the attacker started (login CSRF). The store is the `ExpiringStore` seam, so a
//! store shared by replicas can hold it and the callback may land on any of them.

mod claims;
mod client;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use app::wire::Role;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKeySet, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse as _,
};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::clock::SharedClock;
use crate::config::OidcSettings;
use crate::expiring::{ExpiringStore as _, Limits, MemoryStore, Weighed};
use client::SafeHttp;

/// How long a sign-in may take at the identity provider.
pub const PENDING_TTL: Duration = Duration::from_secs(300);
/// Clock difference tolerated between the identity provider and the console.
const SKEW_MS: i64 = 60_000;
/// Pending sign-ins kept at once (oldest dropped first).
const MAX_PENDING: usize = 10_000;
/// Never `none`, never HMAC: a shared-secret signature would let anyone holding the client secret
/// mint ID tokens.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];
/// The path the identity provider sends people back to.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

type RelyingParty =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A sign-in waiting for the identity provider's answer.
struct PendingLogin {
    verifier: SecretString,
    nonce: SecretString,
    next: String,
}

impl Weighed for Arc<PendingLogin> {
    fn weight(&self) -> usize {
        160 + self.next.len()
    }
}

/// What the identity provider's callback carries.
#[derive(Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The code is a credential until it is exchanged, and the state names a pending sign-in.
impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("CallbackParams")
            .field("code", &shown(&self.code))
            .field("state", &shown(&self.state))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// A person the identity provider vouched for, with the roles their groups give.
#[derive(Debug)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    pub environment_roles: Vec<(String, Option<Role>)>,
    /// Where they were going when they signed in.
    pub next: String,
}

/// Why a sign-in was refused: `code` is what the login page explains, `reason` goes to the
/// audit trail and the log (never a token or the code).
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub reason: String,
    /// The person's name, when the ID token was good enough to say it.
    pub name: Option<String>,
}

impl Refusal {
    fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into(), name: None }
    }
}

/// The error and every cause under it, one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

pub struct OidcProvider {
    settings: OidcSettings,
    redirect: RedirectUrl,
    /// Where staff land after signing out at the identity provider.
    signed_out: String,
    http: SafeHttp,
    metadata: RwLock<Arc<ProviderMetadataWithLogout>>,
    /// Bumped each time the signing keys are fetched again.
    keys_generation: AtomicU64,
    refetch: tokio::sync::Mutex<()>,
    pending: MemoryStore<Arc<PendingLogin>>,
    clock: SharedClock,
}

impl OidcProvider {
    /// Reads the provider's discovery document and signing keys; the error names the issuer.
    pub async fn discover(settings: OidcSettings, origin: &Url, clock: SharedClock) -> Result<Self, String> {
        let issuer = settings.issuer.clone();
        let fail = |what: String| format!("OpenID Connect issuer {issuer}: {what}");
        let http = SafeHttp::new().map_err(|e| fail(format!("no HTTP client: {e}")))?;
        let issuer_url = IssuerUrl::new(issuer.clone()).map_err(|e| fail(e.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer_url, &http)
            .await
            .map_err(|e| fail(format!("discovery failed ({})", chain(&e))))?;
        if metadata.token_endpoint().is_none() {
            return Err(fail("the discovery document names no token_endpoint".into()));
        }
        let callback = origin.join(CALLBACK_PATH).map_err(|e| fail(e.to_string()))?;
        let redirect = RedirectUrl::from_url(callback);
        let signed_out = origin.join("/login?signed_out=1").map(String::from).unwrap_or_default();
        let pending = MemoryStore::new(
            clock.clone(),
            Limits { ttl: PENDING_TTL, max_entries: MAX_PENDING, max_bytes: MAX_PENDING * 1024 },
        );
        Ok(Self {
            settings,
            redirect,
            signed_out,
            http,
            metadata: RwLock::new(Arc::new(metadata)),
            keys_generation: AtomicU64::new(0),
            refetch: tokio::sync::Mutex::new(()),
            pending,
            clock,
        })
    }

    /// Sign-ins started and not finished (expired ones not counted).
    pub fn pending_sign_ins(&self) -> usize {
        self.pending.usage().0
    }

    pub fn display_name(&self) -> &str {
        &self.settings.display_name
    }

    fn metadata(&self) -> Arc<ProviderMetadataWithLogout> {
        match self.metadata.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn client(&self, metadata: &ProviderMetadataWithLogout) -> RelyingParty {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// RP-initiated logout at the identity provider, when it publishes `end_session_endpoint`.
    pub fn logout_url(&self) -> Option<String> {
        let metadata = self.metadata();
        let endpoint = metadata.additional_metadata().end_session_endpoint.as_ref()?;
        let mut url = endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("post_logout_redirect_uri", &self.signed_out);
        Some(url.into())
    }

    /// Starts a sign-in: the identity provider's authorization URL, and the value of the cookie
    /// that binds the sign-in to this browser.
    pub fn start(&self, next: String) -> Result<(Url, String), Refusal> {
        let binding = hex::encode(rand::random::<[u8; 32]>());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = Nonce::new_random();
        let pending = Arc::new(PendingLogin {
            verifier: SecretString::from(verifier.secret().clone()),
            nonce: SecretString::from(nonce.secret().clone()),
            next,
        });
        let state = self
            .pending
            .put(&binding_owner(&binding), pending)
            .ok_or_else(|| Refusal::new("unavailable", "the pending sign-in could not be kept"))?;
        let client = self.client(&self.metadata());
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, move || CsrfToken::new(state), move || nonce)
            .set_pkce_challenge(challenge);
        // `openid` is always sent by the request itself.
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, _) = request.url();
        Ok((url, binding))
    }

    /// Finishes a sign-in: the pending sign-in of this browser, the code exchanged (with the PKCE
    /// verifier), the ID token checked, and the person's name and roles read from it.
    pub fn finish<'a>(
        &'a self,
        params: CallbackParams,
        binding: Option<&'a str>,
    ) -> impl std::future::Future<Output = Result<Identity, Refusal>> + Send + 'a {
        self.finish_inner(params, binding)
    }

    async fn finish_inner(&self, params: CallbackParams, binding: Option<&str>) -> Result<Identity, Refusal> {
        if let Some(error) = params.error {
            let description = params.error_description.unwrap_or_default();
            let error: String = error.chars().filter(|c| !c.is_control()).take(64).collect();
            let description: String = description.chars().filter(|c| !c.is_control()).take(200).collect();
            return Err(Refusal::new("idp", format!("the identity provider answered {error}: {description}")));
        }
        let pending = match (params.state.as_deref(), binding) {
            (Some(state), Some(binding)) => self.pending.take(state, &binding_owner(binding)),
            _ => None,
        }
        .ok_or_else(|| {
            Refusal::new("expired", "unknown, expired or already used sign-in, or one started in another browser")
        })?;
        let code = params.code.ok_or_else(|| Refusal::new("idp", "the identity provider sent no code"))?;
        let client = self.client(&self.metadata());
        let exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Refusal::new("exchange", format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.expose_secret().to_owned()));
        let answer = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| Refusal::new("exchange", format!("the code exchange failed: {}", chain(&e))))?;
        let id_token = answer.id_token().ok_or_else(|| Refusal::new("token", "the token answer has no ID token"))?;
        let nonce = Nonce::new(pending.nonce.expose_secret().to_owned());
        self.verify_with_fresh_keys_if_needed(id_token, &nonce, answer.access_token()).await?;
        let claims = claims::payload(&id_token.to_string())
            .ok_or_else(|| Refusal::new("token", "the ID token's claims could not be read"))?;
        let name =
            claims::name(&claims, &self.settings.username_claim).map_err(|reason| Refusal::new("name", reason))?;
        let groups = claims::groups(&claims, &self.settings.groups_claim);
        let Some((role, environment_roles)) = self.settings.roles.resolve(&groups) else {
            return Err(Refusal {
                code: "role",
                reason: format!(
                    "none of the groups in the {} claim maps to a console role ({})",
                    self.settings.groups_claim,
                    if groups.is_empty() { "no groups".to_owned() } else { groups.join(", ") }
                ),
                name: Some(name),
            });
        };
        Ok(Identity { name, role, environment_roles, next: pending.next.clone() })
    }

    /// Verifies the ID token; when its key id is unknown the provider may have rotated its keys,
    /// so they are fetched once more (one fetch at a time) and the token checked again.
    async fn verify_with_fresh_keys_if_needed(
        &self,
        id_token: &CoreIdToken,
        nonce: &Nonce,
        access_token: &AccessToken,
    ) -> Result<(), Refusal> {
        let generation = self.keys_generation.load(Ordering::Acquire);
        match self.verify(&self.metadata(), id_token, nonce, access_token) {
            Err(Check::Claims(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ))) => {}
            other => return other.map_err(Check::refusal),
        }
        {
            let _one_at_a_time = self.refetch.lock().await;
            if self.keys_generation.load(Ordering::Acquire) == generation {
                self.refetch_keys().await?;
            }
        }
        self.verify(&self.metadata(), id_token, nonce, access_token).map_err(Check::refusal)
    }

    async fn refetch_keys(&self) -> Result<(), Refusal> {
        let current = self.metadata();
        let keys = JsonWebKeySet::fetch_async(current.jwks_uri(), &self.http).await.map_err(|e| {
            Refusal::new("token", format!("the signing keys could not be fetched again: {}", chain(&e)))
        })?;
        let fresh = (*current).clone().set_jwks(keys);
        match self.metadata.write() {
            Ok(mut guard) => *guard = Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
        }
        self.keys_generation.fetch_add(1, Ordering::AcqRel);
        tracing::info!(issuer = %self.settings.issuer, "fetched the identity provider's signing keys again (unknown key id)");
        Ok(())
    }

    fn verify(
        &self,
        metadata: &ProviderMetadataWithLogout,
        id_token: &CoreIdToken,
        nonce: &Nonce,
        access_token: &AccessToken,
    ) -> Result<(), Check> {
        let client = self.client(metadata);
        let clock = self.clock.clone();
        let now = move || chrono::DateTime::from_timestamp_millis(clock.wall_ms()).unwrap_or_default();
        let latest_issue = now() + chrono::Duration::milliseconds(SKEW_MS);
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(ALLOWED_ALGS)
            .set_time_fn(move || now() - chrono::Duration::milliseconds(SKEW_MS))
            .set_issue_time_verifier_fn(move |issued| {
                if issued > latest_issue {
                    Err(format!("issued in the future ({issued})"))
                } else {
                    Ok(())
                }
            });
        let claims = id_token.claims(&verifier, nonce).map_err(Check::Claims)?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| Check::Other(e.to_string()))?;
            let key = id_token.signing_key(&verifier).map_err(|e| Check::Other(e.to_string()))?;
            let actual =
                AccessTokenHash::from_token(access_token, alg, key).map_err(|e| Check::Other(e.to_string()))?;
            if actual != *expected {
                return Err(Check::Other("at_hash does not match the access token".into()));
            }
        }
        Ok(())
    }
}

/// Why an ID token failed its checks.
enum Check {
    Claims(ClaimsVerificationError),
    Other(String),
}

impl Check {
    fn refusal(self) -> Refusal {
        let reason = match self {
            Self::Claims(error) => chain(&error),
            Self::Other(reason) => reason,
        };
        Refusal::new("token", format!("the ID token was refused: {reason}"))
    }
}

/// The store keeps a pending sign-in under the hash of the browser's binding cookie.
fn binding_owner(binding: &str) -> String {
    hex::encode(Sha256::digest(binding.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_prints_without_its_code_or_state() {
        let params = CallbackParams {
            code: Some("the-one-time-code".into()),
            state: Some("0123456789abcdef".into()),
            ..CallbackParams::default()
        };
        let printed = format!("{params:?}");
        assert!(!printed.contains("the-one-time-code") && !printed.contains("0123456789abcdef"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }
}

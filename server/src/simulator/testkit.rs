//! Test helpers: a simulator on a loopback port plus a client that knows its credentials.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;

use super::{spawn, RunningSimulator, Simulator, SimulatorSettings};

pub(crate) struct Kit {
    pub(crate) running: RunningSimulator,
    pub(crate) client: reqwest::Client,
    pub(crate) client_id: String,
    pub(crate) secret: String,
}

pub(crate) fn form_body(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

impl Kit {
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(configure: impl FnOnce(&mut SimulatorSettings)) -> Self {
        let mut settings = SimulatorSettings::with_random_secret("sim-test-client", Duration::from_secs(3600));
        configure(&mut settings);
        let client_id = settings.client_id.clone();
        let secret = settings.client_secret.expose_secret().to_owned();
        let running = spawn(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        Self { running, client: reqwest::Client::new(), client_id, secret }
    }

    pub(crate) fn sim(&self) -> &Simulator {
        self.running.simulator()
    }

    /// A token obtained over HTTP with client_secret_post.
    pub(crate) async fn token(&self) -> String {
        let response = self
            .client
            .post(self.running.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", &self.secret),
            ]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `path` is relative to `/api/v1/`, e.g. `bank/wallet/charges/?wallet_uuid=…`.
    pub(crate) fn url(&self, path: &str) -> url::Url {
        self.running.api_base().join(path).unwrap()
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub(crate) async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).bearer_auth(token).json(body);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.unwrap()
    }
}

pub(crate) fn valid_charge_body() -> Value {
    serde_json::json!({
        "wallet_uuid": "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60",
        "merchant_id": "7b2e1d4f-1a3c-4d6e-9f80-b1c2d3e4f5a6",
        "payer_name": "Cliente 12",
        "payer_email": "cliente12@example.com.br",
        "payer_tax_id": "00000000012",
        "payer_cell_phone": "+5511900000012",
        "installment_value": 100.5,
        "installment_count": 2,
        "currency": "BRL",
        "due_date": "2026-11-20",
        "description": "Pedido 12",
        "type_charge": "credit_card",
        "payer_address": {
            "street": "Rua Exemplo", "address_number": 12, "neighborhood": "Centro",
            "city": "Sao Paulo", "state": "SP", "postal_code": "01000-000", "country": "BR"
        }
    })
}

//! The masking port: demo mode per session and admin reveals, both audited.

use app::backend::{Caller, MaskingBackend};
use app::wire::{ConsoleError, DemoView, RevealedSecret};

use super::ConsoleService;
use crate::audit::AuditEvent;

impl ConsoleService {
    /// The caller's demo mode for one request when it lives in Redis (one read); `None` when this
    /// process keeps it.
    pub async fn read_demo_mode(&self, caller: &Caller) -> Option<bool> {
        self.masking.demo.read(caller).await
    }
}

#[async_trait::async_trait]
impl MaskingBackend for ConsoleService {
    fn demo_mode(&self, caller: &Caller) -> DemoView {
        self.masking.demo.view(caller)
    }

    async fn set_demo_mode(&self, caller: &Caller, enabled: bool) -> Result<DemoView, ConsoleError> {
        let result = self.masking.demo.set(caller, enabled).await;
        self.record(
            caller,
            AuditEvent {
                event: "demo_mode",
                outcome: if result.is_ok() { "ok" } else { "refused" },
                detail: Some(match &result {
                    Ok(_) => format!("demo mode switched {}", if enabled { "on" } else { "off" }),
                    Err(error) => error.to_string(),
                }),
                ..AuditEvent::default()
            },
        )
        .await;
        result
    }

    async fn reveal(&self, caller: &Caller, reveal_id: &str) -> Result<RevealedSecret, ConsoleError> {
        let result = self.masking.reveal(caller, reveal_id).await;
        self.record(
            caller,
            AuditEvent {
                event: "reveal",
                outcome: match &result {
                    Ok(_) => "ok",
                    Err(ConsoleError::Forbidden(_)) => "refused",
                    Err(_) => "error",
                },
                // Where the value was, never the value.
                detail: Some(match &result {
                    Ok(kept) => format!("revealed the masked value at {}", kept.location),
                    Err(error) => error.to_string(),
                }),
                ..AuditEvent::default()
            },
        )
        .await;
        if let Ok(kept) = &result {
            tracing::info!(staff = %caller.name, location = %kept.location, "masked secret revealed");
        }
        result.map(|kept| RevealedSecret { location: kept.location, value: kept.value })
    }
}

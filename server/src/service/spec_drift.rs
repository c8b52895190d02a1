//! `ConsoleService`'s spec drift: environments' live OpenAPI documents fetched now (through the
//! live-spec client, within each environment's parity request budget) and compared with each other
//! and with the bundled catalog by `parity/spec.rs`.

use std::collections::BTreeMap;

use app::backend::Caller;
use app::wire::{ConsoleError, SpecComparison, SpecDriftView, SpecState, CATALOG_SIDE};
use serde_json::Value;

use super::ConsoleService;
use crate::catalog::{self, live};
use crate::parity::{spec, Parity};

/// One side of a comparison.
pub(super) enum Document {
    Loaded(Value),
    NoLiveSpec,
    Failed(String),
}

/// Documents fetched during one run or one view, each environment's at most once, and the
/// requests that took per environment.
#[derive(Default)]
pub(super) struct Documents {
    fetched: BTreeMap<String, Document>,
    pub(super) requests: BTreeMap<String, u32>,
}

enum Missing {
    NoLiveSpec(String),
    Failed(String),
}

impl Documents {
    fn side(&self, name: &str) -> Result<&Value, Missing> {
        if name == CATALOG_SIDE {
            return catalog::bundled_document().map_err(|e| Missing::Failed(format!("the bundled catalog: {e}")));
        }
        match self.fetched.get(name) {
            Some(Document::Loaded(value)) => Ok(value),
            Some(Document::Failed(reason)) => Err(Missing::Failed(reason.clone())),
            Some(Document::NoLiveSpec) | None => Err(Missing::NoLiveSpec(name.to_owned())),
        }
    }
}

impl ConsoleService {
    pub(super) fn has_live_spec(&self, environment: &str) -> bool {
        self.catalog.live_path(environment).is_some()
    }

    /// `environment`'s live document, fetched now unless this run already has it.
    pub(super) async fn spec_document(&self, parity: &Parity, documents: &mut Documents, environment: &str) {
        if documents.fetched.contains_key(environment) {
            return;
        }
        let document = match (
            self.catalog.live_path(environment),
            self.environments.iter().find(|e| e.config.id == environment),
        ) {
            (Some(path), Some(env)) => {
                parity.limiter.acquire(environment).await;
                *documents.requests.entry(environment.to_owned()).or_default() += 1;
                match live::fetch_document(env, &path).await {
                    Ok(value) => Document::Loaded(value),
                    Err(reason) => {
                        tracing::warn!(environment, %reason, "live spec not fetched for spec drift");
                        Document::Failed(format!("{environment}: {reason}"))
                    }
                }
            }
            _ => Document::NoLiveSpec,
        };
        documents.fetched.insert(environment.to_owned(), document);
    }

    /// Compares two sides by name: environments fetched into `documents`, or [`CATALOG_SIDE`].
    pub(super) fn spec_comparison(&self, documents: &Documents, left: &str, right: &str) -> SpecComparison {
        let (state, changes) = match (documents.side(left), documents.side(right)) {
            (Ok(l), Ok(r)) => (SpecState::Compared, spec::diff(l, r)),
            (l, r) => {
                let (mut missing, mut failed) = (Vec::new(), Vec::new());
                for problem in [l.err(), r.err()].into_iter().flatten() {
                    match problem {
                        // A side left unfetched because the other has no live spec is not named.
                        Missing::NoLiveSpec(environment) if !self.has_live_spec(&environment) => {
                            missing.push(environment);
                        }
                        Missing::NoLiveSpec(_) => {}
                        Missing::Failed(reason) => failed.push(reason),
                    }
                }
                // No live spec is a configuration choice, not a failure: it is named first.
                if missing.is_empty() {
                    (SpecState::Unavailable { reason: failed.join("; ") }, Vec::new())
                } else {
                    (SpecState::NoLiveSpec { environments: missing }, Vec::new())
                }
            }
        };
        SpecComparison { left: left.to_owned(), right: right.to_owned(), state, changes }
    }

    /// The Parity page's view: `left` against `right`, then the catalog against each.
    pub(super) async fn spec_drift_view(
        &self,
        caller: &Caller,
        left: &str,
        right: &str,
    ) -> Result<SpecDriftView, ConsoleError> {
        let parity = self.parity()?;
        let (left, right) = (left.trim(), right.trim());
        self.environment(caller, left)?;
        self.environment(caller, right)?;
        if left == right {
            return Err(ConsoleError::InvalidRequest(format!(
                "both sides are {left}: choose two different environments"
            )));
        }
        let mut documents = Documents::default();
        self.spec_document(parity, &mut documents, left).await;
        self.spec_document(parity, &mut documents, right).await;
        let comparisons = vec![
            self.spec_comparison(&documents, left, right),
            self.spec_comparison(&documents, CATALOG_SIDE, left),
            self.spec_comparison(&documents, CATALOG_SIDE, right),
        ];
        Ok(SpecDriftView { left: left.to_owned(), right: right.to_owned(), comparisons })
    }
}

//! `ConsoleService`'s parity watch: a suite's compares run one after another, each side through
//! `execute` within the environment's request budget, the drift judged against the baseline, the
//! run kept, counted and audited.

use std::collections::{BTreeMap, HashSet};

use app::backend::{Caller, ExecuteBackend as _, ParityBackend};
use app::wire::{
    AddToSuite, ConsoleError, DriftItem, EnvironmentRequests, ParityBadge, ParityCompare, ParityCompareOutcome,
    ParityRun, ParitySuite, ParitySuiteView, Role, SpecChange, SpecComparison, SpecDriftView, SuiteSource,
    MAX_RUN_CHANGES,
};

use super::compare::{same_request, side};
use super::spec_drift::Documents;
use super::ConsoleService;
use crate::audit::AuditEvent;
use crate::clock::Stopwatch;
use crate::history::storable_request;
use crate::parity::{drift, spec, suites, Parity};

#[async_trait::async_trait]
impl ParityBackend for ConsoleService {
    async fn parity_suites(&self, _caller: &Caller) -> Result<Vec<ParitySuiteView>, ConsoleError> {
        let parity = self.parity()?;
        let mut views = Vec::new();
        for suite in self.all_suites().await? {
            views.push(self.suite_view(parity, suite).await?);
        }
        Ok(views)
    }

    async fn add_to_suite(&self, caller: &Caller, request: AddToSuite) -> Result<ParitySuite, ConsoleError> {
        let parity = self.parity()?;
        let name = request.suite.trim().to_owned();
        suites::check_name("suite", &name).map_err(ConsoleError::InvalidRequest)?;
        if parity.settings.suites.iter().any(|s| s.name == name) {
            return Err(ConsoleError::InvalidRequest(format!(
                "suite {name:?} is written in the configuration; change it there, or add this compare to a suite of \
                 another name"
            )));
        }
        let mut compare = ParityCompare { name: request.name.trim().to_owned(), request: request.request };
        for side in [&mut compare.request.left, &mut compare.request.right] {
            *side = storable_request(side);
            side.confirm = None;
        }
        suites::check_compare(&name, &compare).map_err(ConsoleError::InvalidRequest)?;
        same_request(&compare.request.left, &compare.request.right)?;
        // Only environments the member may use: a saved suite is run by whoever opens it.
        self.admit(caller, &compare.request.left)?;
        self.admit(caller, &compare.request.right)?;
        let compares = self
            .change_saved_suite(caller, &name, |mut compares| {
                if compares.iter().any(|c| c.name == compare.name) {
                    return Err(ConsoleError::InvalidRequest(format!(
                        "suite {name:?} already has a compare named {:?}: give this one another name",
                        compare.name
                    )));
                }
                compares.push(compare.clone());
                Ok(compares)
            })
            .await?;
        self.suite_changed(caller, format!("suite {name:?}: compare added, {} in the suite", compares.len())).await;
        Ok(ParitySuite { name, source: SuiteSource::Saved, compares, schedule: None })
    }

    async fn run_suite(&self, caller: &Caller, suite: &str) -> Result<ParityRun, ConsoleError> {
        let parity = self.parity()?;
        let suite = self.find_suite(suite).await?;
        // Checked again at run time: a saved suite may predate a rule, and nothing is sent unless
        // every compare is a read this member may send to both environments.
        for compare in &suite.compares {
            suites::check_compare(&suite.name, compare).map_err(ConsoleError::InvalidRequest)?;
            self.admit(caller, &compare.request.left)?;
            self.admit(caller, &compare.request.right)?;
        }
        let _running = parity.start(&suite.name).await?;
        let outcome = self.run_compares(caller, parity, &suite).await;
        let detail = match &outcome {
            Ok(run) => {
                let s = run.summary();
                let requests: Vec<String> =
                    run.requests.iter().map(|r| format!("{} {}", r.environment, r.requests)).collect();
                format!(
                    "suite {:?}: run #{}, {} compares, {} new shape, {} new value and {} new spec drift, {} known; \
                     requests {}",
                    suite.name,
                    run.id,
                    run.compares.len(),
                    s.new_shape,
                    s.new_value,
                    s.new_spec,
                    s.known,
                    requests.join(", ")
                )
            }
            Err(error) => format!("suite {:?}: {error}", suite.name),
        };
        let (status, outcome_label) = match &outcome {
            Ok(_) => (None, "ok"),
            Err(error) => (Some(error.status_code()), "error"),
        };
        self.record(
            caller,
            AuditEvent {
                event: "parity_run",
                status,
                outcome: outcome_label,
                detail: Some(detail),
                ..AuditEvent::default()
            },
        )
        .await;
        outcome.map(|run| self.run_for(caller, run))
    }

    async fn remove_from_suite(
        &self,
        caller: &Caller,
        suite: &str,
        compare: &str,
    ) -> Result<Option<ParitySuite>, ConsoleError> {
        let name = self.saved_suite_to_change(caller, suite, "remove a compare from")?;
        let left = self
            .change_saved_suite(caller, &name, |mut compares| {
                let before = compares.len();
                compares.retain(|c| c.name != compare);
                if compares.len() == before {
                    return Err(ConsoleError::NotFound(format!("suite {name:?} has no compare named {compare:?}")));
                }
                Ok(compares)
            })
            .await?;
        if left.is_empty() {
            // A suite without compares has nothing to run: it goes, with its runs and baseline.
            let runs = self.parity()?.store.delete_suite(&name).await?;
            self.suite_changed(
                caller,
                format!(
                    "suite {name:?}: compare {compare:?} removed, the last one; suite deleted with {runs} kept runs"
                ),
            )
            .await;
            return Ok(None);
        }
        self.suite_changed(caller, format!("suite {name:?}: compare {compare:?} removed, {} left", left.len())).await;
        Ok(Some(ParitySuite { name, source: SuiteSource::Saved, compares: left, schedule: None }))
    }

    async fn delete_suite(&self, caller: &Caller, suite: &str) -> Result<(), ConsoleError> {
        let name = self.saved_suite_to_change(caller, suite, "delete")?;
        let parity = self.parity()?;
        if parity.store.saved_suite(&name).await?.is_none() {
            return Err(ConsoleError::NotFound(format!("there is no saved parity suite named {name:?}")));
        }
        if parity.is_running(&name) {
            return Err(ConsoleError::Conflict(format!(
                "suite {name:?} is running; delete it once that run has finished"
            )));
        }
        let runs = parity.store.delete_suite(&name).await?;
        self.suite_changed(caller, format!("suite {name:?} deleted with its baseline and {runs} kept runs")).await;
        Ok(())
    }

    async fn schedule_suite(
        &self,
        caller: &Caller,
        suite: &str,
        interval_mins: Option<u64>,
        jitter_secs: u64,
    ) -> Result<ParitySuiteView, ConsoleError> {
        let name = self.saved_suite_to_change(caller, suite, "schedule")?;
        let schedule = interval_mins
            .map(|mins| suites::check_schedule(mins, jitter_secs, "the interval in minutes", "the jitter in seconds"))
            .transpose()
            .map_err(|problem| ConsoleError::InvalidRequest(format!("suite {name:?}: {problem}")))?;
        let parity = self.parity()?;
        if !parity.store.set_schedule(&name, schedule, &caller.name, self.clock.wall_ms()).await? {
            return Err(ConsoleError::NotFound(format!("there is no saved parity suite named {name:?}")));
        }
        parity.schedules_changed.notify_one();
        let detail = match schedule {
            Some(s) => {
                format!("suite {name:?}: runs every {} min, up to {} s later", s.interval_secs / 60, s.jitter_secs)
            }
            None => format!("suite {name:?}: schedule stopped, runs on demand only"),
        };
        self.suite_changed(caller, detail).await;
        let suite = self.find_suite(&name).await?;
        self.suite_view(parity, suite).await
    }

    async fn parity_run(&self, caller: &Caller, id: i64) -> Result<ParityRun, ConsoleError> {
        let run = self.parity()?.store.run(id).await?;
        let run = run.ok_or_else(|| ConsoleError::NotFound(format!("parity run #{id} is not kept (any more)")))?;
        Ok(self.run_for(caller, run))
    }

    async fn accept_baseline(&self, caller: &Caller, run_id: i64) -> Result<ParitySuiteView, ConsoleError> {
        let parity = self.parity()?;
        if !matches!(caller.role, Role::Operator | Role::Admin) {
            return Err(ConsoleError::Forbidden(
                "accepting a baseline silences drift for everyone: that needs the operator or admin role".into(),
            ));
        }
        let run = parity
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| ConsoleError::NotFound(format!("parity run #{run_id} is not kept (any more)")))?;
        let suite = self.find_suite(&run.suite).await?;
        let items: Vec<DriftItem> = run.drift.iter().map(|d| DriftItem { new: false, ..d.clone() }).collect();
        // Accepting a run accepts its spec changes too: one decision, "this is how things are".
        let spec: Vec<SpecComparison> = run
            .spec
            .iter()
            .map(|s| SpecComparison {
                changes: s.changes.iter().map(|c| SpecChange { new: false, ..c.clone() }).collect(),
                ..s.clone()
            })
            .collect();
        parity.store.set_baseline(&suite.name, run.id, &items, &spec, &caller.name, self.clock.wall_ms()).await?;
        let accepted = items.len() + spec.iter().map(|s| s.changes.len()).sum::<usize>();
        self.record(
            caller,
            AuditEvent {
                event: "parity_baseline",
                outcome: "ok",
                detail: Some(format!(
                    "suite {:?}: baseline accepted from run #{}, {} known differences",
                    suite.name, run.id, accepted
                )),
                ..AuditEvent::default()
            },
        )
        .await;
        self.suite_view(parity, suite).await
    }

    async fn parity_badge(&self, _caller: &Caller) -> Result<ParityBadge, ConsoleError> {
        let Ok(parity) = self.parity() else { return Ok(ParityBadge::default()) };
        let mut badge = ParityBadge::default();
        for suite in self.all_suites().await? {
            if let Some(last) = parity.store.runs(&suite.name, 1).await?.into_iter().next() {
                if last.new_drift() > 0 {
                    badge.suites += 1;
                    badge.new_drift += last.new_drift();
                }
            }
        }
        Ok(badge)
    }

    async fn spec_drift(&self, caller: &Caller, left: &str, right: &str) -> Result<SpecDriftView, ConsoleError> {
        self.spec_drift_view(caller, left, right).await
    }
}

impl ConsoleService {
    /// A scheduled run: the console itself runs the suite, with the admin's reach (reads only, as
    /// every suite), audited under its own name.
    pub async fn run_scheduled(&self, suite: &str) -> Result<ParityRun, ConsoleError> {
        let console = Caller {
            name: crate::audit::SYSTEM_ACTOR.to_owned(),
            role: Role::Admin,
            environment_roles: Vec::new(),
            local: false,
            session: None,
            address: None,
            demo: Some(false),
        };
        self.run_suite(&console, suite).await
    }

    /// Every suite that runs on its own (configured or saved), for the scheduler.
    pub async fn scheduled_suites(&self) -> Result<Vec<ParitySuite>, ConsoleError> {
        Ok(self.all_suites().await?.into_iter().filter(|s| s.schedule.is_some()).collect())
    }

    pub(crate) fn parity(&self) -> Result<&Parity, ConsoleError> {
        self.parity.as_deref().ok_or_else(|| ConsoleError::Internal("parity watch is not set up".into()))
    }

    /// Configured suites first (in file order), then saved ones by name.
    async fn all_suites(&self) -> Result<Vec<ParitySuite>, ConsoleError> {
        let parity = self.parity()?;
        let mut all = parity.settings.suites.clone();
        for saved in parity.store.saved_suites().await? {
            if !all.iter().any(|s| s.name == saved.name) {
                all.push(saved);
            }
        }
        Ok(all)
    }

    /// The saved suite `suite` names, if `caller` may change it: operators and admins (a suite is
    /// shared by everyone), and never a configured one.
    fn saved_suite_to_change(&self, caller: &Caller, suite: &str, what: &str) -> Result<String, ConsoleError> {
        let parity = self.parity()?;
        if !matches!(caller.role, Role::Operator | Role::Admin) {
            return Err(ConsoleError::Forbidden(format!(
                "suites are shared by every member: to {what} a suite needs the operator or admin role"
            )));
        }
        let name = suite.trim().to_owned();
        if parity.settings.suites.iter().any(|s| s.name == name) {
            return Err(ConsoleError::InvalidRequest(format!(
                "suite {name:?} is written in the configuration; change it there"
            )));
        }
        Ok(name)
    }

    /// Applies `change` to saved suite `name` (created when missing) and answers its new compares;
    /// read again and retried when another member's change landed in between.
    async fn change_saved_suite(
        &self,
        caller: &Caller,
        name: &str,
        change: impl Fn(Vec<ParityCompare>) -> Result<Vec<ParityCompare>, ConsoleError>,
    ) -> Result<Vec<ParityCompare>, ConsoleError> {
        let store = &self.parity()?.store;
        for attempt in 0..20_u64 {
            if attempt > 0 {
                // Apart, so members changing the suite together do not collide again in step.
                tokio::time::sleep(std::time::Duration::from_millis(rand::random::<u64>() % (5 * attempt) + 1)).await;
            }
            let stored = store.saved_suite(name).await?;
            let (compares, was) = match stored {
                Some((compares, text)) => (compares, Some(text)),
                None => (Vec::new(), None),
            };
            let changed = change(compares)?;
            if changed.is_empty() {
                return Ok(changed);
            }
            if store.replace_suite(name, was.as_deref(), &changed, &caller.name, self.clock.wall_ms()).await? {
                return Ok(changed);
            }
        }
        Err(ConsoleError::Conflict(format!(
            "suite {name:?} is being changed by other members right now; try again in a moment"
        )))
    }

    async fn suite_changed(&self, caller: &Caller, detail: String) {
        let event = AuditEvent { event: "parity_suite", outcome: "ok", detail: Some(detail), ..AuditEvent::default() };
        self.record(caller, event).await;
    }

    async fn find_suite(&self, name: &str) -> Result<ParitySuite, ConsoleError> {
        self.all_suites()
            .await?
            .into_iter()
            .find(|s| s.name == name.trim())
            .ok_or_else(|| ConsoleError::NotFound(format!("there is no parity suite named {name:?}")))
    }

    async fn suite_view(&self, parity: &Parity, suite: ParitySuite) -> Result<ParitySuiteView, ConsoleError> {
        let last_run = parity.store.runs(&suite.name, 1).await?.into_iter().next();
        let baseline = parity.store.baseline(&suite.name).await?.map(|b| b.view);
        let running = parity.is_running(&suite.name);
        Ok(ParitySuiteView { suite, last_run, baseline, running })
    }

    /// A run as `caller` may see it: without value previews in demo mode (the run is shared, and
    /// may have been made outside demo mode).
    fn run_for(&self, caller: &Caller, mut run: ParityRun) -> ParityRun {
        if self.masking.demo.is_on(caller) {
            for item in &mut run.drift {
                (item.left, item.right) = (None, None);
            }
            for compare in &mut run.compares {
                for change in &mut compare.changes {
                    (change.left, change.right) = (None, None);
                }
                for header in &mut compare.headers {
                    (header.left, header.right) = (None, None);
                }
            }
        }
        run
    }

    async fn run_compares(
        &self,
        caller: &Caller,
        parity: &Parity,
        suite: &ParitySuite,
    ) -> Result<ParityRun, ConsoleError> {
        let started_at_ms = self.clock.wall_ms();
        let watch = Stopwatch::start();
        let baseline = parity.store.baseline(&suite.name).await?;
        let baseline_at_ms = baseline.as_ref().map(|b| b.view.accepted_at_ms);
        let known: Option<drift::Known> =
            baseline.as_ref().map(|b| b.items.iter().map(DriftItem::key).collect::<HashSet<_>>());
        let known_spec: Option<spec::KnownSpec> = baseline.as_ref().map(|b| spec::known_of(&b.spec));
        let mut requests: BTreeMap<String, u32> = BTreeMap::new();
        let mut compares = Vec::new();
        let mut all_drift = Vec::new();
        for compare in &suite.compares {
            let (left, right) = (&compare.request.left, &compare.request.right);
            parity.limiter.acquire(&left.environment).await;
            parity.limiter.acquire(&right.environment).await;
            *requests.entry(left.environment.clone()).or_default() += 1;
            *requests.entry(right.environment.clone()).or_default() += 1;
            let one = Stopwatch::start();
            let (left_outcome, right_outcome) =
                futures::future::join(self.execute(caller, left.clone()), self.execute(caller, right.clone())).await;
            let (left_side, right_side) =
                (side(&left.environment, left_outcome), side(&right.environment, right_outcome));
            let (body, all, headers) =
                self.diff_only(caller, &left_side, &right_side, &compare.request.options).await?;
            let outcome = ParityCompareOutcome {
                name: compare.name.clone(),
                method: left.method.trim().to_ascii_uppercase(),
                path: left.path.clone(),
                left_environment: left.environment.clone(),
                right_environment: right.environment.clone(),
                left_status: left_side.response.as_ref().map(|r| r.status),
                right_status: right_side.response.as_ref().map(|r| r.status),
                left_error: left_side.error.as_ref().map(ToString::to_string),
                right_error: right_side.error.as_ref().map(ToString::to_string),
                counts: body.counts,
                headers: headers.into_iter().filter(|h| !h.expected).collect(),
                changes_truncated: body.changes.len() > MAX_RUN_CHANGES,
                changes: body.changes.into_iter().take(MAX_RUN_CHANGES).collect(),
                duration_ms: one.elapsed_ms(),
            };
            all_drift.extend(drift::drift_of(&outcome, &all));
            compares.push(outcome);
        }
        let order: Vec<String> = suite.compares.iter().map(|c| c.name.clone()).collect();
        drift::judge(&mut all_drift, known.as_ref(), &order);
        // Spec drift: each pair of environments the suite compares, their documents fetched now.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for compare in &suite.compares {
            let pair = (compare.request.left.environment.clone(), compare.request.right.environment.clone());
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
        let mut documents = Documents::default();
        let mut spec_drift = Vec::new();
        for (left, right) in &pairs {
            // Only a pair that can be compared costs requests; the other is reported as such.
            if self.has_live_spec(left) && self.has_live_spec(right) {
                self.spec_document(parity, &mut documents, left).await;
                self.spec_document(parity, &mut documents, right).await;
            }
            let mut comparison = self.spec_comparison(&documents, left, right);
            spec::judge(&mut comparison, known_spec.as_ref());
            spec_drift.push(comparison);
        }
        for (environment, n) in &documents.requests {
            *requests.entry(environment.clone()).or_default() += n;
        }
        let mut run = ParityRun {
            id: 0,
            suite: suite.name.clone(),
            started_by: caller.name.clone(),
            started_at_ms,
            duration_ms: watch.elapsed_ms(),
            compares,
            drift: all_drift,
            requests: requests
                .into_iter()
                .map(|(environment, requests)| EnvironmentRequests { environment, requests })
                .collect(),
            baseline_at_ms,
            spec: spec_drift,
        };
        let max_age = i64::try_from(parity.settings.runs_max_age.as_millis()).unwrap_or(i64::MAX);
        let oldest_ms = self.clock.wall_ms().saturating_sub(max_age);
        parity.store.insert_run(&mut run, parity.settings.runs_kept, oldest_ms).await?;
        let new = run.new_drift();
        if new > 0 {
            parity.metrics.parity_new_drift(&suite.name, new as u64);
            if let Some(webhook) = parity.webhook.clone() {
                // In the background: the run's answer never waits for a chat service.
                let posted = run.clone();
                tokio::spawn(async move { webhook.send(&posted).await });
            }
        }
        Ok(run)
    }
}

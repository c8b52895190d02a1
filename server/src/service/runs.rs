//! Runs in flight that their staff member may cancel: a run id (chosen by the browser) per staff
//! member, and the signal that drops the run's future, and with it the upstream request.

use std::collections::HashMap;
use std::sync::Mutex;

use app::wire::ConsoleError;
use tokio::sync::oneshot;

/// Keyed by (staff member, run id): nobody can cancel another member's run, even knowing its id.
#[derive(Default)]
pub struct Runs {
    inner: Mutex<HashMap<(String, String), oneshot::Sender<()>>>,
}

/// Removes its run from the registry when the run ends, however it ends.
pub struct Registered<'a> {
    runs: &'a Runs,
    key: (String, String),
    pub cancelled: oneshot::Receiver<()>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.runs.inner.lock() {
            inner.remove(&self.key);
        }
    }
}

impl Runs {
    /// Registers a run; a second run under an id still in flight is refused.
    pub fn register(&self, staff: &str, run_id: &str) -> Result<Registered<'_>, ConsoleError> {
        let valid = (8..=64).contains(&run_id.len()) && run_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(ConsoleError::InvalidRequest("run_id must be 8-64 letters, digits or '-'".into()));
        }
        let key = (staff.to_owned(), run_id.to_owned());
        let (tx, rx) = oneshot::channel();
        let mut inner = self.inner.lock().map_err(|_| ConsoleError::Internal("the run registry is unusable".into()))?;
        if inner.contains_key(&key) {
            return Err(ConsoleError::InvalidRequest(format!("run {run_id} is already in flight")));
        }
        inner.insert(key.clone(), tx);
        Ok(Registered { runs: self, key, cancelled: rx })
    }

    /// Signals the run to stop; false when `staff` has no such run in flight.
    pub fn cancel(&self, staff: &str, run_id: &str) -> bool {
        let sender = self.inner.lock().ok().and_then(|mut inner| inner.remove(&(staff.to_owned(), run_id.to_owned())));
        sender.is_some_and(|tx| tx.send(()).is_ok())
    }

    pub fn in_flight(&self) -> usize {
        self.inner.lock().map(|inner| inner.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_cancelled_only_by_its_own_staff_member_and_leaves_the_registry_when_it_ends() {
        let runs = Runs::default();
        let mut run = runs.register("ana", "run-0001-abcd").unwrap();
        assert!(runs.register("ana", "run-0001-abcd").is_err(), "one run per id");
        assert!(runs.register("ana", "short").is_err());
        assert!(!runs.cancel("bruno", "run-0001-abcd"), "another member cannot cancel it");
        assert_eq!(run.cancelled.try_recv(), Err(oneshot::error::TryRecvError::Empty));
        assert!(runs.cancel("ana", "run-0001-abcd"));
        assert_eq!(run.cancelled.try_recv(), Ok(()));
        assert!(!runs.cancel("ana", "run-0001-abcd"), "cancelled once");
        drop(run);
        let other = runs.register("ana", "run-0002-abcd").unwrap();
        assert_eq!(runs.in_flight(), 1);
        drop(other);
        assert_eq!(runs.in_flight(), 0);
    }
}

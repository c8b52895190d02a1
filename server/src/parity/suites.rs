//! What a suite may hold: names people can read, compares that only read, and a schedule the
//! environments can bear.

use app::wire::{ParityCompare, SuiteSchedule, READ_ONLY_METHODS};

/// A week: the longest interval between scheduled runs.
pub const MAX_INTERVAL_MINS: u64 = 10_080;

/// A schedule of every `interval_mins` (1 to a week), each start moved by up to `jitter_secs`
/// (shorter than the interval); the problem names the setting by `interval` and `jitter`.
pub fn check_schedule(
    interval_mins: u64,
    jitter_secs: u64,
    interval: &str,
    jitter: &str,
) -> Result<SuiteSchedule, String> {
    if !(1..=MAX_INTERVAL_MINS).contains(&interval_mins) {
        return Err(format!("{interval} = {interval_mins} must be between 1 and {MAX_INTERVAL_MINS} minutes (a week)"));
    }
    if jitter_secs >= interval_mins * 60 {
        return Err(format!("{jitter} = {jitter_secs} must be shorter than the interval ({} s)", interval_mins * 60));
    }
    Ok(SuiteSchedule { interval_secs: interval_mins * 60, jitter_secs })
}

const MAX_NAME: usize = 120;

/// A suite or compare name: not empty, short, no control characters.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("give the {what} a name"));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(format!("the {what} name must be at most {MAX_NAME} characters, without control characters"));
    }
    Ok(())
}

/// A compare a suite may run again and again: named, one method and path on both sides, a
/// read-only method, no body, ignore rules that parse.
pub fn check_compare(suite: &str, compare: &ParityCompare) -> Result<(), String> {
    check_name("compare", &compare.name).map_err(|e| format!("suite {suite:?}: {e}"))?;
    let (left, right) = (&compare.request.left, &compare.request.right);
    let method = left.method.trim().to_ascii_uppercase();
    if !READ_ONLY_METHODS.contains(&method.as_str()) || !right.method.trim().eq_ignore_ascii_case(&method) {
        return Err(format!(
            "suite {suite:?}, compare {:?}: {} {} is a write; a suite may only send {} (it is run again and again, \
             also on a schedule), so take this compare out of the suite",
            compare.name,
            if method.is_empty() { "(no method)" } else { &method },
            left.path,
            READ_ONLY_METHODS.join(", ")
        ));
    }
    if left.path.trim().is_empty() || left.path.trim() != right.path.trim() {
        return Err(format!(
            "suite {suite:?}, compare {:?}: both sides must name the same path (left {:?}, right {:?})",
            compare.name, left.path, right.path
        ));
    }
    if left.body.is_some() || right.body.is_some() {
        return Err(format!("suite {suite:?}, compare {:?}: a read-only compare sends no body", compare.name));
    }
    crate::diff::IgnoreRules::parse(&compare.request.options.ignore)
        .map_err(|e| format!("suite {suite:?}, compare {:?}: {e}", compare.name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use app::wire::{CompareRequest, ExecuteRequest};

    use super::*;

    fn compare(method: &str) -> ParityCompare {
        let side = |environment: &str| ExecuteRequest {
            environment: environment.into(),
            method: method.into(),
            path: "/bank/wallet/charge/".into(),
            ..ExecuteRequest::default()
        };
        ParityCompare {
            name: "create charge".into(),
            request: CompareRequest { left: side("a"), right: side("b"), options: Default::default() },
        }
    }

    #[test]
    fn reads_are_accepted_and_a_write_is_refused_naming_the_suite_and_the_compare() {
        for method in ["GET", "head", "OPTIONS"] {
            check_compare("nightly", &compare(method)).unwrap();
        }
        for method in ["POST", "PUT", "PATCH", "DELETE", ""] {
            let error = check_compare("nightly", &compare(method)).unwrap_err();
            assert!(error.contains("suite \"nightly\", compare \"create charge\""), "{error}");
            assert!(error.contains("may only send GET, HEAD, OPTIONS"), "{error}");
        }
    }
}

//! Parity across replicas on one Redis: the lock that keeps a suite to one run at a time whichever
//! replica starts it, and the per-environment request budget every replica's runs draw from.
//!
//! Keys: `<prefix>parity-run:<SHA-256 of the suite>` (the lock: a random owner, `SET NX PX`, renewed
//! while the run goes on and deleted by its owner only) and `<prefix>parity-budget:<SHA-256 of the
//! environment>` (a sorted set of the requests sent in the last minute, scored by the injected
//! clock's wall time, so replicas agree as far as their clocks do).

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;
use sha2::Digest as _;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;

/// How long a lock outlives a replica that died mid-run; the live run renews it every third of that.
const LOCK_HOLD: Duration = Duration::from_secs(60);

/// KEYS: the budget; ARGV: now (ms), window (ms), limit, a unique member. Answers -1 when the
/// request is taken, otherwise the milliseconds until the oldest request leaves the window.
const TAKE: &str = r"
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return -1
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return math.max(1, oldest + window - now)
";

/// KEYS: the lock; ARGV: owner, hold (ms). Renews the lock only while this owner holds it.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

/// KEYS: the lock; ARGV: owner. Deletes the lock only if this owner still holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// `SET key value NX PX hold_ms`: whether this caller took the key (nobody held it).
pub(super) async fn set_absent(
    connection: &ConnectionManager,
    key: &str,
    value: &str,
    hold_ms: u64,
) -> Result<bool, redis::RedisError> {
    let mut connection = connection.clone();
    let taken = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("NX")
        .arg("PX")
        .arg(hold_ms)
        .query_async::<Option<String>>(&mut connection)
        .await?;
    Ok(taken.is_some())
}

#[derive(Clone)]
pub struct SharedParity {
    connection: ConnectionManager,
    prefix: String,
    metrics: Arc<Metrics>,
    take: Arc<Script>,
}

impl SharedParity {
    pub fn new(connection: ConnectionManager, prefix: &str, metrics: Arc<Metrics>) -> Self {
        Self { connection, prefix: prefix.to_owned(), metrics, take: Arc::new(Script::new(TAKE)) }
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}parity-{kind}:{}", self.prefix, hex::encode(sha2::Sha256::digest(name.as_bytes())))
    }

    fn failed(&self, operation: &'static str, error: &redis::RedisError) {
        self.metrics.redis_error(operation);
        tracing::warn!(%error, operation, "Redis did not answer for the parity watch");
    }

    /// Takes the run lock of `suite`: `Ok(None)` while another run (on any replica) holds it.
    pub async fn lock_run(&self, suite: &str) -> Result<Option<RunLock>, redis::RedisError> {
        let key = self.key("run", suite);
        let owner = hex::encode(rand::random::<[u8; 16]>());
        let hold = u64::try_from(LOCK_HOLD.as_millis()).unwrap_or(u64::MAX);
        let taken = set_absent(&self.connection, &key, &owner, hold)
            .await
            .inspect_err(|error| self.failed("parity_run_lock", error))?;
        if !taken {
            return Ok(None);
        }
        let renewing = {
            let (shared, key, owner) = (self.clone(), key.clone(), owner.clone());
            tokio::spawn(async move {
                let renew = Script::new(RENEW);
                loop {
                    tokio::time::sleep(LOCK_HOLD / 3).await;
                    let mut connection = shared.connection.clone();
                    let renewed = renew.key(&key).arg(&owner).arg(hold).invoke_async::<i64>(&mut connection).await;
                    match renewed {
                        Ok(1) => {}
                        // Lost (Redis restarted, or the hold ran out while Redis was away): the run
                        // finishes, and a second run may start meanwhile; nothing to renew any more.
                        Ok(_) => return,
                        Err(error) => shared.failed("parity_run_lock", &error),
                    }
                }
            })
        };
        Ok(Some(RunLock { shared: self.clone(), key, owner, renewing }))
    }

    /// Takes one request of `environment`'s budget at `now_ms`, or answers how long until one is
    /// free.
    pub async fn take(
        &self,
        environment: &str,
        limit: u32,
        window: Duration,
        now_ms: i64,
    ) -> Result<Result<(), Duration>, redis::RedisError> {
        let member = format!("{now_ms}-{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut connection = self.connection.clone();
        let wait = self
            .take
            .key(self.key("budget", environment))
            .arg(now_ms)
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
            .arg(limit)
            .arg(member)
            .invoke_async::<i64>(&mut connection)
            .await
            .inspect_err(|error| self.failed("parity_budget", error))?;
        Ok(match u64::try_from(wait) {
            Ok(ms) => Err(Duration::from_millis(ms)),
            Err(_) => Ok(()),
        })
    }
}

/// A suite's run lock in Redis; dropping it stops the renewal and deletes the lock (if still ours).
pub struct RunLock {
    shared: SharedParity,
    key: String,
    owner: String,
    renewing: JoinHandle<()>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        self.renewing.abort();
        let (shared, key, owner) =
            (self.shared.clone(), std::mem::take(&mut self.key), std::mem::take(&mut self.owner));
        // Dropped on the runtime (a run's task); without one the lock simply runs out.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut connection = shared.connection.clone();
                let released = Script::new(RELEASE).key(&key).arg(&owner).invoke_async::<i64>(&mut connection).await;
                if let Err(error) = released {
                    shared.failed("parity_run_lock", &error);
                }
            });
        }
    }
}

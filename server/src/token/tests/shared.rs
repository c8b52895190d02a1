//! The broker with a shared cache: two brokers (two replicas) on one in-memory `SharedTokens`, the
//! scripted endpoint and the manual clock.

use std::sync::atomic::Ordering;

use futures::future::join_all;

use super::*;
use crate::token::shared::memory::MemoryShared;
use crate::token::shared::{key_hash, signal};

fn replicas(clock: &Arc<ManualClock>) -> (Arc<MemoryShared>, TokenBroker, TokenBroker) {
    let shared = Arc::new(MemoryShared::new(clock.clone()));
    let a = broker(clock).with_metrics(Arc::new(Metrics::default())).with_shared(shared.clone()).with_replica("a");
    let b = broker(clock).with_metrics(Arc::new(Metrics::default())).with_shared(shared.clone()).with_replica("b");
    (shared, a, b)
}

fn fallbacks(broker: &TokenBroker) -> u64 {
    broker.metrics().value("a55_console_token_shared_fallback_total", &[("environment", "sandbox")])
}

#[tokio::test]
async fn many_cold_callers_on_two_replicas_make_one_token_request_and_share_its_token() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    let calls = (0..200).map(|i| if i % 2 == 0 { a.token(&source) } else { b.token(&source) });
    let tokens = join_all(calls).await;
    assert_eq!(endpoint.requests(), 1);
    let fingerprints: std::collections::BTreeSet<String> =
        tokens.into_iter().map(|t| t.unwrap().fingerprint.clone()).collect();
    assert_eq!(fingerprints.len(), 1, "{fingerprints:?}");
    let won = |broker: &TokenBroker, outcome| {
        broker
            .metrics()
            .value("a55_console_token_shared_locks_total", &[("environment", "sandbox"), ("outcome", outcome)])
    };
    assert_eq!(won(&a, "won") + won(&b, "won"), 1, "one lease for both replicas");
    assert_eq!(
        a.metrics().value("a55_console_token_requests_total", &[("environment", "sandbox"), ("outcome", "success")])
            + b.metrics()
                .value("a55_console_token_requests_total", &[("environment", "sandbox"), ("outcome", "success")]),
        1
    );
}

#[tokio::test]
async fn a_cached_token_is_served_without_asking_the_shared_cache() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (shared, a, _) = replicas(&clock);
    let source = endpoint.source(60);
    a.token(&source).await.unwrap();
    let before = shared.commands.load(Ordering::SeqCst);
    for _ in 0..100 {
        a.token(&source).await.unwrap();
    }
    assert_eq!(shared.commands.load(Ordering::SeqCst), before, "no shared command per cached use");
}

#[tokio::test]
async fn the_other_replica_takes_the_token_from_the_shared_cache_until_it_goes_stale_there() {
    let endpoint = Endpoint::start().await;
    endpoint.always(Reply::Token(600));
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    let first = a.token(&source).await.unwrap();
    clock.advance(Duration::from_secs(500));
    let on_b = b.token(&source).await.unwrap();
    assert_eq!(on_b.fingerprint, first.fingerprint);
    assert_eq!(endpoint.requests(), 1);
    assert_eq!(on_b.state_at(clock.now()), TokenState::Fresh);
    assert!(on_b.expires_at - clock.now() <= Duration::from_secs(100), "timed from when A obtained it");
    // Inside the skew the shared copy is gone: the next leader requests a new one, once.
    clock.advance(Duration::from_secs(50));
    let stale = b.token(&source).await.unwrap();
    assert_eq!(stale.fingerprint, first.fingerprint, "the stale token is served during the refresh");
    settle(&b, &source).await;
    assert_eq!(endpoint.requests(), 2);
    let renewed = a.token(&source).await.unwrap();
    settle(&a, &source).await;
    let renewed = if renewed.fingerprint == first.fingerprint { a.token(&source).await.unwrap() } else { renewed };
    assert_eq!(renewed.fingerprint, b.token(&source).await.unwrap().fingerprint);
    assert_eq!(endpoint.requests(), 2, "A's background refresh took B's new token");
}

#[tokio::test]
async fn a_replica_waiting_on_a_holder_that_died_takes_over_after_the_lease() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (shared, a, _) = replicas(&clock);
    let mut source = endpoint.source(60);
    source.timeout = Duration::from_millis(100);
    let hash = key_hash(&source.key());
    // A holder that took the lease and was killed: it never stores, publishes or releases.
    let dead = shared.lock(&hash, Duration::from_secs(10)).await.unwrap().unwrap();
    let caller = tokio::spawn(async move { a.token(&source).await.map(|t| t.fingerprint.clone()) });
    until(|| shared.holder(&hash).is_some()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(endpoint.requests(), 0, "the lease is respected while it runs");
    clock.advance(Duration::from_secs(11));
    let fingerprint = caller.await.unwrap().unwrap();
    assert_eq!(endpoint.requests(), 1, "taken over once the lease ran out");
    assert_ne!(shared.holder(&hash), Some(dead.owner), "the dead holder's lease is gone");
    assert_eq!(fingerprint.len(), 8);
}

#[tokio::test]
async fn with_the_shared_cache_down_each_replica_requests_once_and_counts_the_fallback() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (shared, a, b) = replicas(&clock);
    shared.down.store(true, Ordering::SeqCst);
    let source = endpoint.source(60);
    let calls = (0..100).map(|i| if i % 2 == 0 { a.token(&source) } else { b.token(&source) });
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(endpoint.requests(), 2, "one request per replica");
    assert_eq!((fallbacks(&a), fallbacks(&b)), (1, 1));
    assert_eq!(a.metrics().value("a55_console_redis_errors_total", &[("operation", "load")]), 1);
    assert_eq!(a.details(&source).cache, app::wire::TokenCache::FallingBack, "the token page says so");
    // Back: the next token request goes through the shared cache again.
    shared.down.store(false, Ordering::SeqCst);
    a.refresh_now(&source, None).await.unwrap();
    assert_eq!(a.details(&source).cache, app::wire::TokenCache::Shared);
    assert_eq!(broker(&clock).details(&source).cache, app::wire::TokenCache::PerReplica, "no shared cache");
}

#[tokio::test]
async fn a_manual_refresh_on_one_replica_makes_the_other_use_the_new_token() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    let old = a.token(&source).await.unwrap();
    assert_eq!(b.token(&source).await.unwrap().fingerprint, old.fingerprint);
    let new = a.refresh_now(&source, Some("alice")).await.unwrap();
    assert_ne!(new.fingerprint, old.fingerprint);
    // What Redis' ready channel tells every replica.
    b.shared_changed(&key_hash(&source.key()), &format!("{}{}", signal::READY, new.fingerprint));
    assert_eq!(b.token(&source).await.unwrap().fingerprint, new.fingerprint);
    assert_eq!(endpoint.requests(), 2);
    // A's own signal does not drop A's copy.
    a.shared_changed(&key_hash(&source.key()), &format!("{}{}", signal::READY, new.fingerprint));
    assert_eq!(a.view(&source).fingerprint.as_deref(), Some(new.fingerprint.as_str()));
}

#[tokio::test]
async fn a_forget_on_one_replica_drops_the_shared_token_for_every_replica() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (shared, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    let old = a.token(&source).await.unwrap();
    b.token(&source).await.unwrap();
    a.forget(&source, Some("alice"));
    let hash = key_hash(&source.key());
    for _ in 0..500 {
        if shared.load(&hash).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(shared.load(&hash).await.unwrap().is_none(), "the shared copy is gone");
    b.shared_changed(&hash, signal::GONE);
    let new = b.token(&source).await.unwrap();
    assert_ne!(new.fingerprint, old.fingerprint);
    assert_eq!(a.token(&source).await.unwrap().fingerprint, new.fingerprint, "A takes B's new token");
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn the_first_request_after_a_forget_never_takes_the_forgotten_shared_copy() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (_, a, _) = replicas(&clock);
    let source = endpoint.source(60);
    let old = a.token(&source).await.unwrap();
    // No waiting for the background deletion: the very next call still gets a new token.
    a.forget(&source, None);
    let new = a.token(&source).await.unwrap();
    assert_ne!(new.fingerprint, old.fingerprint);
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn a_failure_on_one_replica_backs_off_the_other_without_a_request() {
    let endpoint = Endpoint::start().await;
    endpoint.then(Reply::Status(500, "{}"));
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    assert!(matches!(a.token(&source).await, Err(TokenError::Endpoint { status: 500, .. })));
    let error = b.token(&source).await.unwrap_err();
    assert!(matches!(&error, TokenError::CoolingDown { cause, .. } if cause.contains("HTTP 500")), "{error}");
    assert_eq!(endpoint.requests(), 1);
    // B keeps backing off on its own, without asking again.
    assert!(matches!(b.token(&source).await, Err(TokenError::CoolingDown { .. })));
    assert_eq!(endpoint.requests(), 1);
    // A manual refresh ends the shared backoff.
    clock.advance(Duration::from_millis(10));
    assert!(b.refresh_now(&source, None).await.is_ok());
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn a_rotated_secret_on_one_replica_is_not_served_the_token_of_the_old_secret() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    let old = a.token(&source).await.unwrap();
    let mut rotated = source.clone();
    rotated.secret = Arc::new(SecretProvider::fixed(SecretString::from("rotated".to_owned())));
    let new = b.token(&rotated).await.unwrap();
    assert_ne!(new.fingerprint, old.fingerprint);
    assert_eq!(endpoint.requests(), 2);
}

/// The error a replica answers while the shared backoff runs, and the seconds it says to wait.
async fn cooling_secs(broker: &TokenBroker, source: &TokenSource) -> u64 {
    match broker.token(source).await {
        Err(TokenError::CoolingDown { retry_in_secs, .. }) => retry_in_secs,
        other => panic!("expected the shared backoff, got {other:?}"),
    }
}

#[tokio::test]
async fn failures_in_a_row_on_two_replicas_grow_one_shared_backoff_and_a_success_starts_it_again() {
    let endpoint = Endpoint::start().await;
    endpoint.always(Reply::Status(500, "{}"));
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    assert!(matches!(a.token(&source).await, Err(TokenError::Endpoint { status: 500, .. })));
    assert_eq!(cooling_secs(&b, &source).await, 1, "the first step");
    clock.advance(Duration::from_secs(1));
    // B asks once the backoff is over and fails: the second failure in a row, whoever sent it.
    assert!(matches!(b.token(&source).await, Err(TokenError::Endpoint { status: 500, .. })));
    assert_eq!(endpoint.requests(), 2);
    assert_eq!(cooling_secs(&a, &source).await, 2, "A waits the next step");
    assert_eq!(b.details(&source).retry_in_secs, Some(2.0), "B keeps to the same retry time");
    assert_eq!(a.details(&source).retry_in_secs, Some(2.0));
    clock.advance(Duration::from_millis(1_999));
    assert_eq!(cooling_secs(&b, &source).await, 1, "nobody asks before it ends");
    assert_eq!(cooling_secs(&a, &source).await, 1);
    assert_eq!(endpoint.requests(), 2);
    clock.advance(Duration::from_millis(1));
    assert!(a.token(&source).await.is_err());
    assert_eq!(cooling_secs(&b, &source).await, 4, "the third failure in a row: 4 s");
    assert_eq!(endpoint.requests(), 3);

    // A success ends the count: the next failure backs off by the first step again.
    clock.advance(Duration::from_secs(4));
    endpoint.then(Reply::Token(3)).always(Reply::Status(500, "{}"));
    b.token(&source).await.unwrap();
    clock.advance(Duration::from_secs(4));
    assert!(a.token(&source).await.is_err());
    assert_eq!(cooling_secs(&b, &source).await, 1);
}

#[tokio::test]
async fn with_the_shared_cache_down_a_replica_grows_its_own_backoff() {
    let endpoint = Endpoint::start().await;
    endpoint.always(Reply::Status(500, "{}"));
    let clock = ManualClock::new();
    let (shared, a, _) = replicas(&clock);
    shared.down.store(true, Ordering::SeqCst);
    let source = endpoint.source(60);
    assert!(a.token(&source).await.is_err());
    assert_eq!(a.details(&source).retry_in_secs, Some(1.0));
    clock.advance(Duration::from_secs(1));
    assert!(a.token(&source).await.is_err());
    assert_eq!(a.details(&source).retry_in_secs, Some(2.0), "its own second step");
}

/// The history a replica's token page shows, as (replica, reason, what happened), once it holds
/// `count` events (they reach the shared list in the background).
async fn history(broker: &TokenBroker, source: &TokenSource, count: usize) -> Vec<(String, TokenEventReason, String)> {
    for _ in 0..500 {
        let events = broker.details_shared(source).await.events;
        if events.len() >= count {
            return events
                .into_iter()
                .map(|e| {
                    let what = match e.outcome {
                        TokenEventOutcome::Obtained { .. } => "obtained",
                        TokenEventOutcome::Adopted { .. } => "taken from the shared cache",
                        TokenEventOutcome::Failed { .. } => "failed",
                        TokenEventOutcome::Forgotten => "forgotten",
                        TokenEventOutcome::Dropped => "dropped",
                    };
                    (e.replica.unwrap_or_default(), e.reason, what.to_owned())
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("the history never held {count} events");
}

#[tokio::test]
async fn both_replicas_show_every_replicas_token_events_and_a_token_taken_from_the_shared_cache_is_one() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (_, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    let token = a.token(&source).await.unwrap();
    clock.advance(Duration::from_millis(5));
    assert_eq!(b.token(&source).await.unwrap().fingerprint, token.fingerprint);
    clock.advance(Duration::from_millis(5));
    b.forget(&source, Some("alice"));
    let expected = vec![
        ("b".to_owned(), TokenEventReason::Manual, "forgotten".to_owned()),
        ("b".to_owned(), TokenEventReason::Cold, "taken from the shared cache".to_owned()),
        ("a".to_owned(), TokenEventReason::Cold, "obtained".to_owned()),
    ];
    assert_eq!(history(&a, &source, 3).await, expected, "A shows B's events");
    assert_eq!(history(&b, &source, 3).await, expected, "B shows A's");
    assert_eq!(endpoint.requests(), 1);
    // Without a shared cache nothing names a replica.
    let alone = broker(&clock);
    alone.token(&source).await.unwrap();
    assert!(alone.details_shared(&source).await.events.iter().all(|e| e.replica.is_none()));
}

#[tokio::test]
async fn with_the_shared_history_unavailable_the_token_page_shows_this_replicas_events_and_says_so() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let (shared, a, b) = replicas(&clock);
    let source = endpoint.source(60);
    a.token(&source).await.unwrap();
    b.token(&source).await.unwrap();
    assert_eq!(history(&a, &source, 2).await.len(), 2);
    shared.down.store(true, Ordering::SeqCst);
    let details = a.details_shared(&source).await;
    assert_eq!(details.events.len(), 1, "only A's own event");
    assert_eq!(details.events[0].replica.as_deref(), Some("a"));
    assert_eq!(details.cache, app::wire::TokenCache::FallingBack);
    assert_eq!(a.metrics().value("a55_console_redis_errors_total", &[("operation", "history")]), 1);
}

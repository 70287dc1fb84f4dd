use super::*;
use argon2::{PasswordHasher as _, PasswordVerifier as _};

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

#[test]
fn hashes_in_the_reused_work_area_are_standard_phc_strings() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(hashes_and_verifies_in_the_kept_area);
}

fn hashes_and_verifies_in_the_kept_area() {
    assert!(
        rayon::current_thread_index().is_some(),
        "on a hashing thread"
    );
    let ours = hash_now("correct horse battery").unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(
        argon2()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok()
    );
    assert!(argon2().verify_password(b"correct horse", &parsed).is_err());
    let theirs = argon2()
        .hash_password_with_salt(b"correct horse battery", b"0123456789abcdef")
        .unwrap();
    assert!(matches(b"correct horse battery", &theirs));
    assert!(!matches(b"correct horse batterx", &theirs));
    // A second hash on the same thread reuses the area and still verifies.
    let again = hash_now("another password here").unwrap();
    assert!(matches(
        b"another password here",
        &PasswordHash::new(&again).unwrap()
    ));
    assert_ne!(
        again,
        hash_now("another password here").unwrap(),
        "fresh salt"
    );
}

/// Unknown accounts cost a real verification: the dummy hash carries today's parameters
/// (so `matches` runs argon2 with them) and no password opens it.
#[tokio::test]
async fn the_dummy_hash_costs_a_verification_and_opens_nothing() {
    let pool = HasherPool::new(1, 4).unwrap();
    let dummy = PasswordHash::new(&pool.dummy_hash).unwrap();
    assert!(!needs_rehash(&dummy), "{}", pool.dummy_hash);
    assert_eq!(dummy.hash.unwrap().len(), Params::DEFAULT_OUTPUT_LEN);
    assert_ne!(pool.dummy_hash, HasherPool::new(1, 4).unwrap().dummy_hash);
    for password in ["", "correct horse battery"] {
        assert_eq!(
            pool.verify(password.into(), None).await.unwrap(),
            Verified::No
        );
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn hashing_threads_yield_to_request_threads() {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
    };
    let pool = HasherPool::new(1, 4).unwrap();
    let on_pool = pool.run(thread_schedule_policy).await.unwrap().unwrap();
    assert_eq!(
        on_pool,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
    );
    assert_eq!(
        thread_schedule_policy().unwrap(),
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
        "the calling thread is untouched"
    );
}

/// A caller that stops waiting does not free its queue slot while its job is still
/// queued or running; the job of a caller that has gone is skipped.
#[tokio::test]
async fn the_queue_bounds_work_even_when_callers_give_up() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let pool = HasherPool::new(1, 2).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let blocker = tokio::spawn({
        let pool = pool.clone();
        async move { pool.run(move || gate.recv().is_ok()).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let counted = ran.clone();
    let abandoned = pool.run(move || counted.fetch_add(1, Ordering::SeqCst));
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(50), abandoned).await;
    assert!(gave_up.is_err(), "still queued behind the blocker");
    assert_eq!(
        pool.queue.available_permits(),
        0,
        "the abandoned job still holds its slot"
    );
    assert!(matches!(
        tokio::time::timeout(std::time::Duration::from_millis(500), pool.run(|| ())).await,
        Ok(Err(HashError::Busy))
    ));
    release.send(()).unwrap();
    assert!(blocker.await.unwrap().unwrap());
    // The hashing thread runs under SCHED_IDLE: give it time when the machine is busy.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while pool.queue.available_permits() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        pool.queue.available_permits(),
        2,
        "the slots free once the jobs end"
    );
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "the abandoned job was skipped"
    );
}

#[test]
fn production_parameters_are_at_least_owasp() {
    let p = params();
    assert!(p.m_cost() >= 19_456, "memory {} KiB", p.m_cost());
    assert!(p.t_cost() >= 2);
    assert!(p.p_cost() >= 1);
    let h = hash_now("a long enough password").unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
}

#[tokio::test]
async fn verifies_and_upgrades_weak_hashes() {
    let pool = HasherPool::new(1, 4).unwrap();
    let good = pool.hash("correct horse battery".into()).await.unwrap();
    assert_eq!(
        pool.verify("correct horse battery".into(), Some(good.clone()))
            .await
            .unwrap(),
        Verified::Yes
    );
    assert_eq!(
        pool.verify("wrong".into(), Some(good)).await.unwrap(),
        Verified::No
    );
    assert_eq!(
        pool.verify("anything".into(), None).await.unwrap(),
        Verified::No
    );

    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8, 1, 1, None).unwrap(),
    );
    let weak_hash = weak
        .hash_password_with_salt(b"correct horse battery", b"0123456789abcdef")
        .unwrap()
        .to_string();
    match pool
        .verify("correct horse battery".into(), Some(weak_hash))
        .await
        .unwrap()
    {
        Verified::YesRehashed(h) => assert!(h.contains("m=19456,t=2,p=1")),
        other => panic!("expected a rehash, got {other:?}"),
    }
}

use super::*;

/// A worker answers what argon2 computes in-process, for every variant, version, cost and
/// output length a stored hash may carry; a job argon2 refuses comes back as its reason, and
/// the worker goes on answering until its input closes.
#[test]
fn a_worker_answers_what_argon2_computes_in_process() {
    let (job_r, job_w) = std::io::pipe().unwrap();
    let (answer_r, answer_w) = std::io::pipe().unwrap();
    let worker = std::thread::spawn(move || jobs(BufReader::new(job_r), BufWriter::new(answer_w)));
    let mut to_worker = BufWriter::new(job_w);
    let mut from_worker = BufReader::new(answer_r);
    let job = |algorithm, version, params, salt| Job {
        algorithm,
        version,
        params,
        password: b"correct horse battery",
        salt,
    };
    let mut ask_for = |job: &Job, out: &mut [u8]| {
        ask(&mut to_worker, &mut from_worker, job, out).expect("the worker answers")
    };
    let salt = b"sixteen byte salt";
    for algorithm in [Algorithm::Argon2d, Algorithm::Argon2i, Algorithm::Argon2id] {
        for version in [Version::V0x10, Version::V0x13] {
            for (m, t, p, len) in [
                (8, 1, 1, 16),
                (64, 2, 2, 32),
                (19_456, 2, 1, 32),
                (256, 3, 1, 64),
            ] {
                let params = Params::new(m, t, p, Some(len)).unwrap();
                let job = job(algorithm, version, params, &salt[..]);
                let mut answered = vec![0u8; len];
                ask_for(&job, &mut answered).unwrap();
                let mut expected = vec![0u8; len];
                compute(&job, &mut expected, None).unwrap();
                assert_eq!(
                    answered, expected,
                    "{algorithm:?} {version:?} m={m} t={t} p={p}"
                );
            }
        }
    }
    let params = Params::new(8, 1, 1, Some(32)).unwrap();
    let mut out = [0u8; 32];
    let short = job(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        &b"short"[..],
    );
    let refused = ask_for(&short, &mut out);
    assert!(
        refused.is_err_and(|why| why.contains("alt")),
        "argon2 needs 8 salt bytes"
    );
    let fine = job(Algorithm::Argon2id, Version::V0x13, params, &salt[..]);
    ask_for(&fine, &mut out).unwrap();
    drop(to_worker);
    worker
        .join()
        .unwrap()
        .expect("the worker ends when its input closes");
}

/// A worker that says nothing is given up after the limit; one whose pipe closed is seen at
/// once (the read then fails).
#[cfg(target_os = "linux")]
#[test]
fn a_silent_worker_times_out_and_a_closed_one_is_seen_at_once() {
    let (silent, _writer) = std::io::pipe().unwrap();
    let waited = wait_readable(&BufReader::new(silent), Duration::from_millis(100));
    assert_eq!(waited.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    let (closed, writer) = std::io::pipe().unwrap();
    drop(writer);
    let mut closed = BufReader::new(closed);
    wait_readable(&closed, Duration::from_secs(60)).unwrap();
    assert!(read_u32(&mut closed).is_err());
}

//! Hashing workers on CPUs of their own (Linux): see [`pin`].

use std::process::Child;

/// Pins the worker of hashing thread `i` of a pool of `n` to the `i`-th CPU this process may
/// run on, when there are exactly as many threads as such CPUs (the default pool, unless a CPU
/// quota allows fewer). Why: the kernel balances CPUs by weight, and a worker's session weighs
/// 15 against a request thread's 1,024, so a CPU running a request thread looks loaded and its
/// worker is moved next to the other one. When the request thread sleeps, that CPU idles until
/// the next balancing tick (a CPU that is rarely idle skips balancing as it goes idle).
/// Measured on 2 cores while 32 connections register on SQLite: 2.3 % of the CPU idle, in runs
/// of 3-4 ms. The cost: a pinned worker waits behind what runs on its CPU instead of moving to
/// an idle one, which delays the one hash it holds; the other threads take the queued ones.
pub(super) fn pin(child: &Child) {
    #[cfg(target_os = "linux")]
    {
        use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
        let Some(thread) = rayon::current_thread_index() else {
            return;
        };
        let Ok(allowed) = sched_getaffinity(None) else {
            return;
        };
        let Some(cpu) = cpu_for(thread, rayon::current_num_threads(), &allowed) else {
            return;
        };
        let mut one = CpuSet::new();
        one.set(cpu);
        let pid = rustix::process::Pid::from_child(child);
        if let Err(e) = sched_setaffinity(Some(pid), &one) {
            tracing::debug!(error = %e, "hashing worker not pinned");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = child;
}

/// The CPU for the worker of hashing thread `thread` of `threads` (see [`pin`]): the
/// `thread`-th of `allowed`, or none when `threads` is not the number of CPUs allowed.
#[cfg(target_os = "linux")]
fn cpu_for(thread: usize, threads: usize, allowed: &rustix::thread::CpuSet) -> Option<usize> {
    let cpus: Vec<usize> = (0..rustix::thread::CpuSet::MAX_CPU)
        .filter(|&c| allowed.is_set(c))
        .collect();
    (cpus.len() == threads)
        .then(|| cpus.get(thread).copied())
        .flatten()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// With as many hashing threads as CPUs the process may use, each thread's worker gets a CPU
    /// of its own, in order, whichever CPUs those are; with any other number none is pinned.
    #[test]
    fn each_worker_of_a_full_pool_gets_a_cpu_of_its_own() {
        let set = |cpus: &[usize]| {
            let mut s = rustix::thread::CpuSet::new();
            for &c in cpus {
                s.set(c);
            }
            s
        };
        let two = set(&[0, 1]);
        assert_eq!(
            (cpu_for(0, 2, &two), cpu_for(1, 2, &two)),
            (Some(0), Some(1))
        );
        let a_cpuset = set(&[2, 5, 7]);
        let pinned: Vec<_> = (0..3).map(|t| cpu_for(t, 3, &a_cpuset)).collect();
        assert_eq!(pinned, [Some(2), Some(5), Some(7)]);
        assert_eq!(cpu_for(0, 2, &a_cpuset), None, "fewer threads than CPUs");
        assert_eq!(cpu_for(0, 4, &a_cpuset), None, "more threads than CPUs");
    }
}

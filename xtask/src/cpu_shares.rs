//! Where the machine's CPU time went while a scenario ran, from Linux's `/proc` (proc(5)):
//! the hashing workers (the server's child processes; where the server hashes in-process,
//! because Linux does not group CPU time by session there, hashing counts as the server's),
//! the server, the database (processes named `postgres`), the load generator, everything else
//! (other processes, the kernel's interrupt work, the time of processes that ended between the
//! two samples), and the time the CPUs were idle or waiting for I/O, or were stolen by the
//! hypervisor for other guests.
//!
//! The register ratio compares the registrations that the hashing workers' share of the
//! machine computed with what all of it computes (the argon2 ceiling); these shares say where
//! the rest went, which the ratio alone does not.

use std::collections::HashMap;

/// One process: its id, its parent's, its name, when it started (clock ticks after boot) and
/// its CPU time (user and system, all its threads) in clock ticks (`USER_HZ`, 10 ms on Linux).
pub struct Process {
    pub pid: u32,
    pub parent: u32,
    pub name: String,
    pub started: u64,
    pub ticks: u64,
}

/// `/proc/<pid>/stat` read into a [`Process`]; `None` when it has ended.
fn process(pid: u32) -> Option<Process> {
    parse_stat(
        pid,
        &std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?,
    )
}

/// A `/proc/<pid>/stat` line: the name, then the parent (field 4), user and system time
/// (fields 14 and 15) and the start time (field 22).
fn parse_stat(pid: u32, stat: &str) -> Option<Process> {
    // The name may hold spaces and parentheses: it runs from the first '(' to the last ')'.
    let (head, tail) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    let fields: Vec<&str> = tail.split_whitespace().collect();
    let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some(Process {
        pid,
        parent: u32::try_from(number(1)?).ok()?,
        name,
        started: number(19)?,
        ticks: number(11)? + number(12)?,
    })
}

/// Every process running now.
pub fn processes() -> impl Iterator<Item = Process> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter_map(process)
}

/// The parts of the machine a process's time is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Hashing,
    Server,
    Database,
    Load,
}

/// The machine's CPU time from the `cpu` line of `/proc/stat`: all of it, idle (with waiting
/// for I/O) and stolen, in clock ticks. Its columns are user, nice, system, idle, iowait, irq,
/// softirq, steal, guest, guest_nice; the guests' time is counted in user and nice already.
fn machine_times(stat: &str) -> Option<(u64, u64, u64)> {
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let all = cpu.get(..8)?;
    Some((all.iter().sum(), all[3] + all[4], all[7]))
}

/// Cumulative CPU time at one moment, in clock ticks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// All CPUs, all states.
    machine: u64,
    idle: u64,
    stolen: u64,
    /// Each counted process by id and start time (an id can be reused): its part and time.
    processes: HashMap<(u32, u64), (Part, u64)>,
}

/// The machine now: `server`'s children count as hashing, `load` as the load generator (even
/// were it one of them), processes named `postgres` as the database. `None` without `/proc`
/// (not Linux).
pub fn sample(server: u32, load: u32) -> Option<Sample> {
    let (machine, idle, stolen) = machine_times(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let processes = processes()
        .filter_map(|p| {
            let part = if p.pid == server {
                Part::Server
            } else if p.pid == load {
                Part::Load
            } else if p.parent == server {
                Part::Hashing
            } else if p.name == "postgres" {
                Part::Database
            } else {
                return None;
            };
            Some(((p.pid, p.started), (part, p.ticks)))
        })
        .collect();
    Some(Sample {
        machine,
        idle,
        stolen,
        processes,
    })
}

/// Percentages of the machine's CPU time between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shares {
    pub hashing: f64,
    pub server: f64,
    pub database: f64,
    pub load: f64,
    /// Everything not named here, the kernel's interrupt work included.
    pub other: f64,
    /// Idle or waiting for I/O.
    pub idle: f64,
    pub stolen: f64,
}

impl Sample {
    /// What each part took from `self` until `later`, in percent of the machine: for each
    /// process, its time since `self` (all of it when it started since). The clock ticks
    /// of `/proc/stat` and of a process are counted apart, so the named parts may add up to
    /// a little over 100; `other` is then 0.
    pub fn shares_until(&self, later: &Sample) -> Shares {
        let total = later.machine.saturating_sub(self.machine).max(1) as f64;
        let pct = |ticks: u64| 100.0 * ticks as f64 / total;
        let mut ticks = HashMap::new();
        for (key, (part, now)) in &later.processes {
            let before = self.processes.get(key).map_or(0, |(_, t)| *t);
            *ticks.entry(*part).or_insert(0) += now.saturating_sub(before);
        }
        let part = |p: Part| pct(ticks.get(&p).copied().unwrap_or(0));
        let (hashing, server) = (part(Part::Hashing), part(Part::Server));
        let (database, load) = (part(Part::Database), part(Part::Load));
        let idle = pct(later.idle.saturating_sub(self.idle));
        let stolen = pct(later.stolen.saturating_sub(self.stolen));
        let named = hashing + server + database + load + idle + stolen;
        Shares {
            hashing,
            server,
            database,
            load,
            other: (100.0 - named).max(0.0),
            idle,
            stolen,
        }
    }
}

impl std::fmt::Display for Shares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.1} / {:.1} / {:.1} / {:.1} / {:.1} / {:.1} / {:.1}",
            self.hashing, self.server, self.database, self.load, self.other, self.idle, self.stolen
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};
    use std::time::Duration;

    /// Busy shells, killed when dropped (a failed assertion included).
    struct Spinners(Vec<Child>);

    impl Drop for Spinners {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_busy_child_of_the_server_counts_as_hashing_and_the_load_generator_as_load() {
        let me = std::process::id();
        let spin = || {
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .expect("sh")
        };
        let spinners = Spinners(vec![spin(), spin()]);
        let load = spinners.0[1].id();
        let before = sample(me, load).expect("/proc");
        std::thread::sleep(Duration::from_millis(1500));
        let after = sample(me, load).expect("/proc");
        drop(spinners);
        let s = before.shares_until(&after);
        // Each spinner can take one CPU at most: 100/n percent of the machine on n CPUs. The
        // suite's browser tests running meanwhile left a spinner a tenth of a CPU (9.9 % of 2
        // CPUs); a fortieth of one is still far above what a misplaced process would add.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let floor = 2.5 / cpus;
        assert!(s.hashing > floor && s.load > floor, "{s:?}");
        assert!(s.server < s.hashing, "the test process only sleeps: {s:?}");
    }

    fn at(machine: u64, idle: u64, stolen: u64, processes: &[((u32, u64), Part, u64)]) -> Sample {
        Sample {
            machine,
            idle,
            stolen,
            processes: processes.iter().map(|&(k, p, t)| (k, (p, t))).collect(),
        }
    }

    #[test]
    fn each_process_counts_its_time_between_the_samples() {
        let before = at(
            1000,
            100,
            10,
            &[
                ((1, 5), Part::Server, 40),
                ((2, 5), Part::Hashing, 300),
                ((3, 5), Part::Database, 500),
                ((4, 5), Part::Hashing, 900),
            ],
        );
        let after = at(
            2000,
            150,
            20,
            &[
                ((1, 5), Part::Server, 90),
                ((2, 5), Part::Hashing, 900),
                ((3, 5), Part::Database, 600),
                // Started between the samples: all its time is in the window.
                ((5, 1500), Part::Hashing, 100),
                // Id 4 ended: its earlier time is not taken from the others.
                ((6, 1900), Part::Load, 20),
            ],
        );
        let s = before.shares_until(&after);
        let expected = Shares {
            hashing: 70.0,
            server: 5.0,
            database: 10.0,
            load: 2.0,
            other: 7.0,
            idle: 5.0,
            stolen: 1.0,
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let pairs = [
            (s.hashing, expected.hashing),
            (s.server, expected.server),
            (s.database, expected.database),
            (s.load, expected.load),
            (s.other, expected.other),
            (s.idle, expected.idle),
            (s.stolen, expected.stolen),
        ];
        assert!(pairs.iter().all(|&(a, b)| close(a, b)), "{s:?}");
    }

    #[test]
    fn the_machine_is_the_first_eight_columns_of_the_cpu_line() {
        let stat = "cpu  1 2 3 40 5 6 7 8 900 1000\ncpu0 1 1 1 20 2 3 3 4 450 500\n";
        // guest (900) and guest_nice (1000) are inside user and nice already.
        assert_eq!(machine_times(stat), Some((72, 45, 8)));
        assert_eq!(machine_times("cpu  1 2 3\n"), None, "too few columns");
        assert_eq!(machine_times("intr 1 2 3 4 5 6 7 8\n"), None);
    }

    #[test]
    fn a_process_name_with_spaces_and_parentheses_is_read_whole() {
        let p = process(std::process::id()).expect("this process");
        assert_eq!(p.pid, std::process::id());
        assert!(!p.name.is_empty() && !p.name.contains(')'), "{}", p.name);
        let stat = "42 (a (b) c) S 7 42 42 0 -1 0 0 0 0 0 9 5 0 0 20 0 1 0 777 100 5";
        let p = parse_stat(42, stat).expect("parsed");
        assert_eq!(
            (p.name.as_str(), p.parent, p.ticks, p.started),
            ("a (b) c", 7, 14, 777)
        );
    }
}

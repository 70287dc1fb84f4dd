//! Where the machine's CPU time went while a scenario ran, from Linux's `/proc` (proc(5)):
//! the hashing workers (the server's child processes), the server, the database (processes
//! named `postgres`), the load generator, everything else (other processes, the kernel's
//! interrupt work, processes that ended meanwhile), and the time the CPUs were idle or were
//! stolen by the hypervisor for other guests.
//!
//! The register ratio compares the registrations that the hashing workers' share of the
//! machine computed with what all of it computes (the argon2 ceiling); these shares say where
//! the rest went, which the ratio alone does not.

/// One process: its id, its parent's, its name and its CPU time (user and system) in clock
/// ticks (`USER_HZ`, 10 ms on Linux).
pub struct Process {
    pub pid: u32,
    pub parent: u32,
    pub name: String,
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
/// (fields 14 and 15).
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

/// Cumulative CPU time at one moment, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// All CPUs, all states (user, nice, system, idle, iowait, irq, softirq, steal).
    machine: u64,
    /// Idle and waiting for I/O.
    idle: u64,
    /// Taken by the hypervisor for other guests.
    stolen: u64,
    hashing: u64,
    server: u64,
    database: u64,
    load: u64,
}

/// The machine now: `server`'s children count as hashing, `load` as the load generator (even
/// were it one of them), processes named `postgres` as the database. `None` without `/proc`
/// (not Linux).
pub fn sample(server: u32, load: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // Guest time is counted in user time already: the first eight columns are all of it.
    let mut s = Sample {
        machine: cpu.iter().take(8).sum(),
        idle: cpu.get(3)? + cpu.get(4)?,
        stolen: *cpu.get(7)?,
        ..Sample::default()
    };
    for p in processes() {
        let counter = if p.pid == server {
            &mut s.server
        } else if p.pid == load {
            &mut s.load
        } else if p.parent == server {
            &mut s.hashing
        } else if p.name == "postgres" {
            &mut s.database
        } else {
            continue;
        };
        *counter += p.ticks;
    }
    Some(s)
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
    pub idle: f64,
    pub stolen: f64,
}

impl Sample {
    /// What each part took from `self` until `later`, in percent of the machine.
    pub fn shares_until(&self, later: &Sample) -> Shares {
        let delta = |a: u64, b: u64| b.saturating_sub(a) as f64;
        let total = delta(self.machine, later.machine).max(1.0);
        let pct = |a: u64, b: u64| 100.0 * delta(a, b) / total;
        let hashing = pct(self.hashing, later.hashing);
        let server = pct(self.server, later.server);
        let database = pct(self.database, later.database);
        let load = pct(self.load, later.load);
        let idle = pct(self.idle, later.idle);
        let stolen = pct(self.stolen, later.stolen);
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
    use std::process::Command;
    use std::time::Duration;

    #[test]
    fn a_busy_child_of_the_server_counts_as_hashing_and_the_load_generator_as_load() {
        let me = std::process::id();
        let spin = || {
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .expect("sh")
        };
        let (mut child, mut load) = (spin(), spin());
        let before = sample(me, load.id()).expect("/proc");
        std::thread::sleep(Duration::from_millis(1500));
        let after = sample(me, load.id()).expect("/proc");
        for c in [&mut child, &mut load] {
            let _ = c.kill();
            let _ = c.wait();
        }
        let s = before.shares_until(&after);
        // Each spinner can take at most one CPU: on n CPUs, 100/n percent of the machine.
        assert!(s.hashing > 5.0 && s.load > 5.0, "{s:?}");
        assert!(s.server < s.hashing, "the test process only sleeps: {s:?}");
        let sum = s.hashing + s.server + s.database + s.load + s.other + s.idle + s.stolen;
        assert!((sum - 100.0).abs() < 0.5, "the shares add up: {s:?}");
    }

    #[test]
    fn a_process_name_with_spaces_and_parentheses_is_read_whole() {
        let p = process(std::process::id()).expect("this process");
        assert_eq!(p.pid, std::process::id());
        assert!(!p.name.is_empty() && !p.name.contains(')'), "{}", p.name);
        let stat = "42 (a (b) c) S 7 42 42 0 -1 0 0 0 0 0 9 5 0 0 20 0 1 0";
        let p = parse_stat(42, stat).expect("parsed");
        assert_eq!((p.name.as_str(), p.parent, p.ticks), ("a (b) c", 7, 14));
    }
}

//! `<state-dir>/leases.json`: the processes this agent runs (pid and start time), rewritten at each
//! start and end, so the next run can kill what a crashed or SIGKILLed run left behind
//! (`PR_SET_PDEATHSIG` should already have; this is the second line, as on the workers).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mtcp_shared::teleport::proxy::kill_leftover;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One running lease process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub lease_id: Uuid,
    pub pid: i32,
    /// `/proc/<pid>/stat` start time: a reused pid is never killed.
    pub pid_start_time: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    leases: Vec<Entry>,
}

/// The state file and what it holds.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    entries: Mutex<BTreeMap<Uuid, Entry>>,
}

impl StateFile {
    /// The file in `dir` (which exists), and the entries a previous run left in it. An unreadable
    /// file is reported and treated as empty: it must not keep the agent from starting.
    pub fn open(dir: &Path) -> Self {
        let path = dir.join("leases.json");
        let contents = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Contents>(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable state file");
                Contents::default()
            }),
            Err(_) => Contents::default(),
        };
        let entries = contents.leases.into_iter().map(|e| (e.lease_id, e)).collect();
        Self { path, entries: Mutex::new(entries) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<Uuid, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the file lists.
    pub fn list(&self) -> Vec<Entry> {
        self.entries().values().cloned().collect()
    }

    /// Kill the process groups the file lists whose pid still has the recorded start time, then
    /// empty the file. Returns the leases whose processes were killed.
    pub fn kill_leftovers(&self) -> std::io::Result<Vec<Uuid>> {
        let killed = {
            let mut entries = self.entries();
            let killed =
                entries.values().filter(|e| kill_leftover(e.pid, e.pid_start_time)).map(|e| e.lease_id).collect();
            entries.clear();
            killed
        };
        self.save()?;
        Ok(killed)
    }

    /// A lease process started.
    pub fn add(&self, entry: Entry) {
        self.entries().insert(entry.lease_id, entry);
        self.save_or_warn();
    }

    /// A lease process is gone.
    pub fn remove(&self, lease_id: Uuid) {
        if self.entries().remove(&lease_id).is_some() {
            self.save_or_warn();
        }
    }

    fn save_or_warn(&self) {
        if let Err(e) = self.save() {
            tracing::warn!(path = %self.path.display(), error = %e, "could not write the state file");
        }
    }

    /// Write the whole file anew (a temporary file renamed over it: never half written).
    fn save(&self) -> std::io::Result<()> {
        let contents = Contents { leases: self.list() };
        let json = serde_json::to_vec_pretty(&contents).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtcp_shared::teleport::proxy::process_start_time;
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    fn sleeper() -> std::process::Child {
        // Its own group, as the runner starts lease processes: the group is what gets killed.
        std::process::Command::new("sleep").arg("300").process_group(0).spawn().unwrap()
    }

    fn exited(child: &mut std::process::Child) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn entries_survive_a_restart_and_their_processes_are_killed_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = sleeper();
        let pid = child.id() as i32;
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        {
            let state = StateFile::open(dir.path());
            state.add(Entry { lease_id: a, pid, pid_start_time: process_start_time(pid).unwrap() });
            state.add(Entry { lease_id: b, pid: 999_999, pid_start_time: 1 });
            state.remove(b);
        }
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("leases.json")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);

        let next_run = StateFile::open(dir.path());
        assert_eq!(next_run.list().len(), 1);
        assert_eq!(next_run.list()[0].lease_id, a);
        assert_eq!(next_run.kill_leftovers().unwrap(), vec![a]);
        assert!(exited(&mut child), "the leftover process was not killed");
        assert!(StateFile::open(dir.path()).list().is_empty(), "the file is emptied once handled");
    }

    #[test]
    fn a_pid_with_another_start_time_is_not_killed() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = sleeper();
        let pid = child.id() as i32;
        let state = StateFile::open(dir.path());
        let wrong = process_start_time(pid).unwrap() + 1;
        state.add(Entry { lease_id: Uuid::from_u128(3), pid, pid_start_time: wrong });
        assert!(StateFile::open(dir.path()).kill_leftovers().unwrap().is_empty());
        assert!(child.try_wait().unwrap().is_none(), "a reused pid was killed");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn a_corrupt_file_is_treated_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("leases.json"), "{not json").unwrap();
        assert!(StateFile::open(dir.path()).list().is_empty());
    }
}

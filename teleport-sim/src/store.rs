//! The state directory: what the simulated cluster learns while it runs (access requests, the
//! requests each user dropped from their certificates, and locks), shared by every invocation that
//! points at the same directory.
//!
//! Where it is, first match wins:
//! 1. `TELEPORT_SIM_STATE_DIR` (created if missing);
//! 2. `<TELEPORT_SIM_STATE>.sim-state/`, next to the cluster state file;
//! 3. `$TELEPORT_HOME/sim-state/`;
//! 4. `$HOME/.tsh/sim-state/`.
//!
//! The control plane gives each worker its own `TELEPORT_HOME`, so workers that must see the same
//! requests (a test creating a request as `alice` in one process and reviewing it from a worker)
//! need `TELEPORT_SIM_STATE_DIR` set to one directory for all of them.
//!
//! Everything lives in one JSON file, `access_requests.json`. Every change is a
//! read-modify-write under an exclusive lock on `access_requests.lock` (`File::lock`), written
//! to a temporary file and renamed into place, so concurrent invocations never lose an update
//! and a killed process never leaves half a file. Readers take a shared lock. Until the first
//! change, the file does not exist and the state file's `access_requests` are the seed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::env::SimEnv;
use crate::error::SimError;
use crate::value::Value;

const BOOK_FILE: &str = "access_requests.json";
const LOCK_FILE: &str = "access_requests.lock";

/// What the state directory holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Book {
    /// Access requests in Teleport's JSON shape (`access_request`, `v3`).
    pub access_requests: Vec<Value>,
    /// Per user, the IDs of requests dropped from that user's certificates (`tsh request drop`).
    pub dropped: BTreeMap<String, Vec<String>>,
    /// Locks made with `tctl lock` (`lock`, `v2`).
    pub locks: Vec<Value>,
}

impl Book {
    /// The book before anything was written: the seed requests, nothing dropped.
    fn seeded(seed: &[Value]) -> Book {
        Book { access_requests: seed.to_vec(), dropped: BTreeMap::new(), locks: Vec::new() }
    }
}

/// A located state directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Decides where the state directory is (no IO yet).
    pub fn locate(env: &SimEnv) -> Result<Store, SimError> {
        let dir = if let Some(dir) = &env.state_dir {
            PathBuf::from(dir)
        } else if let Some(file) = &env.state_file {
            PathBuf::from(format!("{file}.sim-state"))
        } else if let Some(home) = &env.teleport_home {
            Path::new(home).join("sim-state")
        } else if let Some(home) = &env.home {
            Path::new(home).join(".tsh").join("sim-state")
        } else {
            return Err(SimError::msg(
                "teleport-sim: no state directory: set TELEPORT_SIM_STATE_DIR (or TELEPORT_HOME)",
            ));
        };
        Ok(Store { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current book, read under a shared lock.
    pub fn read(&self, seed: &[Value]) -> Result<Book, SimError> {
        let lock = self.lock_file()?;
        lock.lock_shared().map_err(|err| self.error("cannot lock", &err))?;
        let book = self.load(seed);
        drop(lock);
        book
    }

    /// Applies `change` to the book under an exclusive lock and writes the result back; when
    /// `change` fails nothing is written and its error is returned.
    pub fn update<T>(
        &self,
        seed: &[Value],
        change: impl FnOnce(&mut Book) -> Result<T, SimError>,
    ) -> Result<T, SimError> {
        let lock = self.lock_file()?;
        lock.lock().map_err(|err| self.error("cannot lock", &err))?;
        let mut book = self.load(seed)?;
        let result = change(&mut book)?;
        self.save(&book)?;
        // The lock goes with the file handle; dropping it explicitly documents the scope.
        drop(lock);
        Ok(result)
    }

    fn lock_file(&self) -> Result<File, SimError> {
        std::fs::create_dir_all(&self.dir).map_err(|err| self.error("cannot create", &err))?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(LOCK_FILE))
            .map_err(|err| self.error("cannot open the lock file in", &err))
    }

    fn load(&self, seed: &[Value]) -> Result<Book, SimError> {
        let path = self.dir.join(BOOK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Book::seeded(seed)),
            Err(err) => return Err(self.error("cannot read", &err)),
        };
        serde_json::from_str(&text)
            .map_err(|err| SimError::msg(format!("teleport-sim: invalid {}: {err}", path.display())))
    }

    fn save(&self, book: &Book) -> Result<(), SimError> {
        let path = self.dir.join(BOOK_FILE);
        let tmp = self.dir.join(format!("{BOOK_FILE}.{}.tmp", std::process::id()));
        let mut text = serde_json::to_string_pretty(book).map_err(|err| SimError::msg(err.to_string()))?;
        text.push('\n');
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|err| self.error("cannot write", &err))
    }

    fn error(&self, what: &str, err: &std::io::Error) -> SimError {
        SimError::msg(format!("teleport-sim: {what} state directory {}: {err}", self.dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::obj;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("teleport-sim-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn location_follows_the_documented_precedence() {
        let at = |pairs: &[(&str, &str)]| Store::locate(&SimEnv::from_pairs(pairs)).map(|s| s.dir);
        let all = [
            ("TELEPORT_SIM_STATE_DIR", "/d"),
            ("TELEPORT_SIM_STATE", "/s/c.yaml"),
            ("TELEPORT_HOME", "/h"),
            ("HOME", "/u"),
        ];
        assert_eq!(at(&all).unwrap(), PathBuf::from("/d"));
        assert_eq!(at(&all[1..]).unwrap(), PathBuf::from("/s/c.yaml.sim-state"));
        assert_eq!(at(&all[2..]).unwrap(), PathBuf::from("/h/sim-state"));
        assert_eq!(at(&all[3..]).unwrap(), PathBuf::from("/u/.tsh/sim-state"));
        assert!(at(&[]).unwrap_err().to_string().contains("TELEPORT_SIM_STATE_DIR"));
    }

    #[test]
    fn seed_until_the_first_write_then_the_file_and_failed_changes_write_nothing() {
        let dir = temp_dir("seed");
        let store = Store { dir: dir.clone() };
        let seed = vec![obj! { "kind" => "access_request" }];
        assert_eq!(store.read(&seed).unwrap().access_requests.len(), 1);
        assert!(!dir.join(BOOK_FILE).exists(), "reading writes nothing");

        store
            .update(&seed, |book| {
                book.access_requests.clear();
                Ok(())
            })
            .unwrap();
        assert!(store.read(&seed).unwrap().access_requests.is_empty(), "the file wins over the seed");

        let failed = store.update(&seed, |book| {
            book.dropped.insert("alice".into(), vec!["x".into()]);
            Err::<(), _>(SimError::msg("no"))
        });
        assert!(failed.is_err());
        assert!(store.read(&seed).unwrap().dropped.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Development wiring shared by `mtcp up` and the end-to-end tests: the simulator standing in for
//! `tctl`/`tsh`, and freshly generated API keys per built-in role.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mtcp_shared::config::{ApiKeyEntry, Config};
use mtcp_shared::domain::ActorKind;
use mtcp_shared::policy::BUILTIN_ROLES;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A generated key, shown once.
#[derive(Debug, Clone)]
pub struct DevKey {
    pub actor: String,
    pub role: String,
    pub key: String,
}

/// A new random API key (256 bits, hex) with the `mtcp_` prefix so it is recognisable in a leak.
pub fn new_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("mtcp_{}", hex::encode(bytes))
}

/// SHA-256 hex of a key, as the configuration stores it.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Add one key per built-in role (actors `dev-admin`, `dev-operator`, …) and return them.
pub fn add_dev_keys(config: &mut Config) -> Vec<DevKey> {
    BUILTIN_ROLES
        .iter()
        .map(|role| {
            let key = new_api_key();
            let actor = format!("dev-{role}");
            config.auth.api_keys.push(ApiKeyEntry {
                actor: actor.clone(),
                role: Some((*role).to_owned()),
                sha256: key_hash(&key),
                kind: ActorKind::User,
            });
            DevKey { actor, role: (*role).to_owned(), key }
        })
        .collect()
}

/// The `teleport-sim` binary built beside the running executable.
pub fn simulator_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent();
    // Test binaries live one level down, in target/<profile>/deps.
    for _ in 0..2 {
        if let Some(d) = dir {
            let candidate = d.join("teleport-sim");
            if candidate.is_file() {
                return Ok(candidate);
            }
            dir = d.parent();
        }
    }
    anyhow::bail!(
        "the Teleport simulator `teleport-sim` was not found next to {}; build it with `cargo build --bins`",
        exe.display()
    )
}

/// Point the configuration at the simulator: `tctl`/`tsh` symlinks, an identity file, a proxy
/// address, and the cluster state file if one is given.
pub fn use_simulator(config: &mut Config, dir: &Path, sim_state: Option<&Path>) -> anyhow::Result<()> {
    let sim = simulator_binary()?;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    for name in ["tctl", "tsh"] {
        let link = bin.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&sim, &link).with_context(|| format!("linking {}", link.display()))?;
    }
    let identity = dir.join("sim-identity");
    crate::sim_identity::write(&identity)?;
    config.teleport.tctl_path = bin.join("tctl");
    config.tsh.tsh_path = bin.join("tsh");
    config.teleport.identity_file = Some(identity);
    config.teleport.proxy = Some("teleport.example.com:443".into());
    // Access requests live in one place for every worker (each has its own TELEPORT_HOME).
    config.teleport.env.insert("TELEPORT_SIM_STATE_DIR".into(), dir.join("state").display().to_string());
    if let Some(state) = sim_state {
        let state = std::fs::canonicalize(state).with_context(|| format!("--sim-state {}", state.display()))?;
        config.teleport.env.insert("TELEPORT_SIM_STATE".into(), state.display().to_string());
    }
    Ok(())
}

/// Whether the configuration names no real Teleport (so `up` should use the simulator).
pub fn wants_simulator(config: &Config) -> bool {
    config.teleport.tctl_path == Path::new("tctl")
        && config.tsh.tsh_path == Path::new("tsh")
        && config.teleport.identity_file.is_none()
}

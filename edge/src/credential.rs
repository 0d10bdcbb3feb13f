//! The edge credential: read once from a file only its owner can read (as ssh insists for keys),
//! trimmed, and never printed (its `Debug` hides it).

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the credential file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read the credential file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "permissions {mode:04o} for the credential file {path} are too open: it must be readable by its owner only \
         (chmod 600 {path})"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("the credential file {path} is empty")]
    Empty { path: PathBuf },
}

/// The bearer credential of this agent.
#[derive(Clone)]
pub struct Credential(String);

impl Credential {
    /// Read `path`, refusing a file that group or others may read or write.
    pub fn read(path: &Path) -> Result<Self, CredentialError> {
        let read = |source| CredentialError::Read { path: path.to_owned(), source };
        let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialError::TooOpen { path: path.to_owned(), mode });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(CredentialError::Empty { path: path.to_owned() });
        }
        Ok(Self(secret.to_owned()))
    }

    /// The `Authorization` header value.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(mode: u32, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credential");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn an_owner_only_file_is_read_and_trimmed() {
        let (_dir, path) = file(0o600, "  mtcp_edge_s3cret\n");
        let c = Credential::read(&path).unwrap();
        assert_eq!(c.bearer(), "Bearer mtcp_edge_s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        let (_dir, path) = file(0o400, "x");
        assert!(Credential::read(&path).is_ok());
    }

    #[test]
    fn a_file_others_can_read_is_refused_like_ssh_does() {
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let (_dir, path) = file(mode, "mtcp_edge_s3cret");
            let err = Credential::read(&path).unwrap_err().to_string();
            assert!(err.contains(&format!("permissions {mode:04o}")) && err.contains("chmod 600"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn empty_or_missing_files_say_so() {
        let (_dir, path) = file(0o600, " \n");
        assert!(Credential::read(&path).unwrap_err().to_string().contains("is empty"));
        let err = Credential::read(Path::new("/nonexistent/credential")).unwrap_err().to_string();
        assert!(err.contains("cannot read the credential file /nonexistent/credential"), "{err}");
    }
}

//! The control plane's identity file, as far as the control plane itself needs to read it: does it
//! exist, who may read it, when does its certificate expire, and which cluster is it for. (`tctl`
//! and `tsh` read it for everything else; its private key is never parsed here.)
//!
//! An identity file (`tctl auth sign --format=file`, `tbot`'s `identity` output) holds a private
//! key, an SSH certificate line, the user's TLS certificate and the cluster's TLS CA certificates,
//! each TLS one a PEM `CERTIFICATE` block (Teleport `lib/client/identityfile/identity.go`,
//! `Write` for `FormatFile`). The user's certificate is the first one that is not a CA.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use x509_parser::pem::Pem;

/// OID of the subject attribute that names the Teleport cluster an identity comes from (Teleport
/// `lib/tlsca/ca.go`: `TeleportClusterASN1ExtensionOID`, written by `Identity.Subject`).
const TELEPORT_CLUSTER_OID: &str = "1.3.9999.1.7";

/// An identity file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("identity file {path} does not exist")]
    Missing { path: PathBuf },
    #[error("identity file {path} cannot be read: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("identity file {path} holds no TLS certificate (is it a Teleport identity file?)")]
    NoCertificate { path: PathBuf },
    #[error("identity file {path}: its certificate does not parse: {message}")]
    BadCertificate { path: PathBuf, message: String },
}

/// What the control plane knows of its identity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityInfo {
    /// Permission bits (e.g. 0o600).
    pub mode: u32,
    /// The user's TLS certificate.
    pub cert: IdentityCert,
}

/// The user's TLS certificate of an identity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityCert {
    /// The Teleport user (subject common name).
    pub user: Option<String>,
    /// The cluster it was issued by: the subject's Teleport-cluster attribute, else the issuing
    /// CA's common name (Teleport's CAs are named after their cluster).
    pub cluster: Option<String>,
    /// Its Teleport roles (the subject's organizations: Teleport `lib/tlsca/ca.go`, `Subject`
    /// writes `Groups` there).
    pub roles: Vec<String>,
    /// Its SSH logins (the subject's localities, `Principals`).
    pub logins: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// How close an identity is to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Valid,
    /// In the last part of its life: renewal is overdue, or a file nobody renews nears its end.
    Soon,
    Expired,
}

/// How long before the end an identity is [`Expiry::Soon`]: a quarter of its lifetime, at most a
/// day. `tbot` issues short certificates (an hour by default) and renews them every 20 minutes,
/// so a fixed day would always warn; a quarter of an hour left means two renewals were missed.
pub fn soon_before(cert: &IdentityCert) -> chrono::Duration {
    ((cert.not_after - cert.not_before) / 4).min(chrono::Duration::days(1))
}

impl IdentityCert {
    /// Where the certificate stands at `now`.
    pub fn expiry(&self, now: DateTime<Utc>) -> Expiry {
        let left = self.not_after - now;
        if left <= chrono::Duration::zero() {
            Expiry::Expired
        } else if left < soon_before(self) {
            Expiry::Soon
        } else {
            Expiry::Valid
        }
    }
}

impl IdentityInfo {
    /// Whether anyone but the owner may read or write the file.
    pub fn too_open(&self) -> bool {
        self.mode & 0o077 != 0
    }
}

/// Read `path`'s mode and its user certificate.
pub fn inspect(path: &Path) -> Result<IdentityInfo, IdentityError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => IdentityError::Missing { path: path.to_owned() },
        _ => IdentityError::Unreadable { path: path.to_owned(), source },
    })?;
    let bytes = std::fs::read(path).map_err(|source| IdentityError::Unreadable { path: path.to_owned(), source })?;
    let cert = user_cert(&bytes).map_err(|e| match e {
        None => IdentityError::NoCertificate { path: path.to_owned() },
        Some(message) => IdentityError::BadCertificate { path: path.to_owned(), message },
    })?;
    Ok(IdentityInfo { mode: meta.permissions().mode() & 0o7777, cert })
}

/// The first non-CA certificate; `Err(None)` when there is none, `Err(Some(why))` when one
/// does not parse.
fn user_cert(bytes: &[u8]) -> Result<IdentityCert, Option<String>> {
    let mut first_ca = None;
    for pem in Pem::iter_from_buffer(bytes) {
        // Other blocks (the private key) and stray lines are not ours to read.
        let Ok(pem) = pem else { continue };
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let cert = pem.parse_x509().map_err(|e| Some(e.to_string()))?;
        let info = IdentityCert {
            user: cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned),
            cluster: cluster_attribute(cert.subject())
                .or_else(|| cert.issuer().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned)),
            roles: attributes(cert.subject().iter_organization()),
            logins: attributes(cert.subject().iter_locality()),
            not_before: DateTime::from_timestamp(cert.validity().not_before.timestamp(), 0).unwrap_or_default(),
            not_after: DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0).unwrap_or_default(),
        };
        if !cert.is_ca() {
            return Ok(info);
        }
        first_ca.get_or_insert(info);
    }
    first_ca.ok_or(None)
}

fn attributes<'a>(values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>) -> Vec<String> {
    values.filter_map(|v| v.as_str().ok()).map(str::to_owned).collect()
}

fn cluster_attribute(name: &x509_parser::x509::X509Name<'_>) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == TELEPORT_CLUSTER_OID)
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;

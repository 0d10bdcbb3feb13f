//! The identity file `mtcp up` (and the tests) hand the simulator: laid out as Teleport writes one
//! (a private key, an SSH certificate line, the user's TLS certificate, its CA), with a real
//! certificate, so `mtcp doctor`, `run_health_check` and the expiry metric read it as they would a
//! real one. The simulator itself only checks that the file exists.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;
use chrono::Datelike;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// Write the demo cluster's identity (its control-plane user of `teleport.example.com`) to `path`,
/// readable by its owner only, as Teleport writes identity files.
pub fn write(path: &Path) -> anyhow::Result<()> {
    write_for(path, "teleport.example.com")
}

/// [`write`] for the control plane's user of another simulated cluster.
pub fn write_for(path: &Path, cluster: &str) -> anyhow::Result<()> {
    let text = identity_file(cluster, "mcp-control-plane")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    // `mode` applies only when the file is created.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// An identity of `user` in `cluster`, valid for ten years (an image built with it keeps a valid
/// demo identity). It names no Teleport roles: the demo cluster holds none for the control plane
/// and does not enforce RBAC, so the rights checks say they did not run rather than report roles
/// that are not there.
fn identity_file(cluster: &str, user: &str) -> anyhow::Result<String> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, cluster);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    // Where Teleport puts it (`lib/tlsca/ca.go`, `Identity.Subject`): the user in the common name.
    params.distinguished_name.push(DnType::CommonName, user);
    let day = |d: chrono::DateTime<chrono::Utc>| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    let now = chrono::Utc::now();
    params.not_before = day(now - chrono::Duration::days(1));
    params.not_after = day(now + chrono::Duration::days(3650));
    let cert = params.signed_by(&key, &issuer)?;
    Ok(format!(
        "{}ssh-ed25519-cert-v01@openssh.com AAAAsimulated {user}\n{}{}@cert-authority *.{cluster} ssh-ed25519 AAAAsimulated\n",
        key.serialize_pem(),
        cert.pem(),
        ca_cert.pem()
    ))
}

#[cfg(test)]
mod tests {
    use mtcp_shared::teleport::identity::{Expiry, inspect};

    #[test]
    fn the_demo_identity_reads_as_a_valid_identity_of_the_control_plane_user() {
        let dir = std::env::temp_dir().join(format!("mtcp-sim-identity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("identity");
        super::write(&path).unwrap();
        super::write(&path).unwrap();
        let info = inspect(&path).unwrap();
        assert_eq!(info.mode, 0o600);
        assert_eq!(info.cert.user.as_deref(), Some("mcp-control-plane"));
        assert_eq!(info.cert.cluster.as_deref(), Some("teleport.example.com"));
        assert!(info.cert.roles.is_empty());
        assert_eq!(info.cert.expiry(chrono::Utc::now() + chrono::Duration::days(9 * 365)), Expiry::Valid);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

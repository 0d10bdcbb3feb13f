//! Identity files made with a test CA named after its cluster.

use std::os::unix::fs::PermissionsExt;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use super::*;

/// An identity file as Teleport writes it: key, SSH cert line, user TLS cert, CA cert.
fn identity_file(cluster: &str, user: &str, days: i64) -> String {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, cluster);
    ca.distinguished_name.push(DnType::OrganizationName, cluster);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, user);
    let now = ::time::OffsetDateTime::now_utc();
    params.not_before = now - ::time::Duration::days(1);
    params.not_after = now + ::time::Duration::days(days);
    let cert = params.signed_by(&key, &issuer).unwrap();
    format!(
        "{}ssh-ed25519-cert-v01@openssh.com AAAAexample\n{}{}@cert-authority *.{cluster} ssh-rsa AAAA\n",
        key.serialize_pem(),
        cert.pem(),
        ca_cert.pem()
    )
}

#[test]
fn reads_expiry_cluster_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity");
    std::fs::write(&path, identity_file("prod.example.com", "bot-mtcp", 10)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let info = inspect(&path).unwrap();
    assert_eq!(info.cert.cluster.as_deref(), Some("prod.example.com"));
    assert_eq!(info.cert.user.as_deref(), Some("bot-mtcp"));
    let left = info.cert.not_after - Utc::now();
    assert!(left > chrono::Duration::days(9) && left <= chrono::Duration::days(10), "{left}");
    assert!(info.too_open());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(!inspect(&path).unwrap().too_open());
}

#[test]
fn missing_and_certificate_less_files_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity");
    assert!(matches!(inspect(&path), Err(IdentityError::Missing { .. })));
    std::fs::write(&path, "simulated identity file\n").unwrap();
    assert!(matches!(inspect(&path), Err(IdentityError::NoCertificate { .. })));
}

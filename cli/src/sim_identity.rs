//! The identity file `mtcp up` (and the tests) hand the simulator: laid out as Teleport writes one
//! (a private key, an SSH certificate line, the user's TLS certificate, its CA), with a real
//! certificate, so `mtcp doctor`, `run_health_check` and the expiry metric read it as they would a
//! real one. The simulator itself only checks that the file exists.

use chrono::Datelike;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// An identity of `user` in `cluster`, valid for a year from now. It names no Teleport roles: the
/// demo cluster holds none for the control plane and does not enforce RBAC, so the rights checks
/// say they did not run rather than report roles that are not there.
pub fn identity_file(cluster: &str, user: &str) -> anyhow::Result<String> {
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
    params.not_after = day(now + chrono::Duration::days(365));
    let cert = params.signed_by(&key, &issuer)?;
    Ok(format!(
        "{}ssh-ed25519-cert-v01@openssh.com AAAAsimulated {user}\n{}{}@cert-authority *.{cluster} ssh-ed25519 AAAAsimulated\n",
        key.serialize_pem(),
        cert.pem(),
        ca_cert.pem()
    ))
}

//! Teleport identity files made on the fly: a private key, an SSH certificate line, a user TLS
//! certificate issued by a CA named after its cluster, and that CA (the layout Teleport writes).

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// An identity file for `user` of `cluster` whose certificate expires in `valid_for` (negative:
/// expired that long ago), holding the Teleport role `mcp-control-plane` where Teleport writes
/// roles: the subject's organization (rcgen writes one value per attribute type).
pub fn identity_file(cluster: &str, user: &str, valid_for: chrono::Duration) -> String {
    identity_file_with_role(cluster, user, "mcp-control-plane", valid_for)
}

/// [`identity_file`] holding the Teleport role `role`.
pub fn identity_file_with_role(cluster: &str, user: &str, role: &str, valid_for: chrono::Duration) -> String {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.distinguished_name.push(DnType::CommonName, cluster);
    ca.distinguished_name.push(DnType::OrganizationName, cluster);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, user);
    params.distinguished_name.push(DnType::OrganizationName, role);
    // To the second: an identity a couple of hours from its end must not round to one already past.
    let at = |t: chrono::DateTime<chrono::Utc>| time::OffsetDateTime::from_unix_timestamp(t.timestamp()).expect("time");
    let now = chrono::Utc::now();
    params.not_before = at(now - chrono::Duration::days(30).max(-valid_for + chrono::Duration::days(2)));
    params.not_after = at(now + valid_for);
    let cert = params.signed_by(&key, &issuer).expect("user certificate");
    format!(
        "{}ssh-ed25519-cert-v01@openssh.com AAAAexample\n{}{}@cert-authority *.{cluster} ssh-rsa AAAA\n",
        key.serialize_pem(),
        cert.pem(),
        ca_cert.pem()
    )
}

//! Public key material that looks real: base64 of an `authorized_keys` line for SSH, base64 of
//! a PEM block for TLS certificates and JWT keys. The bytes are random, never a usable key.

use super::Gen;
use crate::digest::base64;

/// `active_keys.ssh[].public_key` for an Ed25519 CA.
pub fn ssh_ed25519(rng: &mut Gen) -> String {
    let mut blob = Vec::new();
    for part in [b"ssh-ed25519".to_vec(), rng.bytes(32)] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(&part);
    }
    base64(format!("ssh-ed25519 {}\n", base64(&blob)).as_bytes())
}

/// `active_keys.tls[].cert`: a PEM certificate (RSA-sized or ECDSA-sized).
pub fn tls_cert(rng: &mut Gen, rsa: bool) -> String {
    let body_len: usize = if rsa { 780 } else { 455 };
    let mut der = vec![0x30, 0x82];
    der.extend_from_slice(&(body_len as u16).to_be_bytes());
    der.extend_from_slice(&[0x30, 0x82, 0x01, 0x6d, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x10]);
    der.extend(rng.bytes(body_len - 15));
    pem_b64("CERTIFICATE", &der)
}

/// `active_keys.jwt[].public_key`: a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
pub fn jwt_public_key(rng: &mut Gen, rsa: bool) -> String {
    let der = if rsa {
        let mut der = vec![
            0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00,
        ];
        der.extend(rng.bytes(256));
        der.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
        der
    } else {
        let mut der = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ];
        der.extend(rng.bytes(64));
        der
    };
    pem_b64("PUBLIC KEY", &der)
}

fn pem_b64(label: &str, der: &[u8]) -> String {
    let body = base64(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    base64(pem.as_bytes())
}

//! The gateway's HTTPS configuration: its certificate, and client certificates verified against
//! `service.tls.client_ca` (they authenticate the audit ingest endpoint only).

use std::io;
use std::path::Path;
use std::sync::Arc;

use mtcp_shared::config::TlsConfig;
use rustls::RootCertStore;
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS setting that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("invalid configuration: `service.tls.{key}` ({path}): {message}")]
    File { key: &'static str, path: String, message: String },
    #[error("invalid configuration: `service.tls`: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("invalid configuration: `service.tls.client_ca`: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("the bound listener has no address: {0}")]
    Address(#[from] io::Error),
}

/// The rustls configuration: the server certificate, client certificates verified against the
/// client CA when one is set (optional: MCP clients connect without one), HTTP/2 and HTTP/1.1
/// (the event-handler plugin's Go client negotiates HTTP/2).
pub(crate) fn server_config(tls: &TlsConfig) -> Result<ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs = read_certs("cert", &tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| file_error("key", &tls.key, e))?;
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for ca in read_certs("client_ca", path)? {
                roots.add(ca).map_err(|e| file_error("client_ca", path, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_certs(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(key, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(key, path, e))?;
    if certs.is_empty() {
        return Err(file_error(key, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

fn file_error(key: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::File { key, path: path.display().to_string(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_tls_files_are_named_by_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");
        let tls = TlsConfig { cert: missing.clone(), key: missing.clone(), client_ca: None };
        let err = server_config(&tls).unwrap_err().to_string();
        assert!(err.contains("`service.tls.cert`") && err.contains("missing.pem"), "{err}");
        let tls = TlsConfig { cert: garbage.clone(), key: missing, client_ca: None };
        let err = server_config(&tls).unwrap_err().to_string();
        assert!(err.contains("`service.tls.cert`") && err.contains("no PEM certificate"), "{err}");
    }
}

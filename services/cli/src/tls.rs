//! One rustls client configuration (ring provider) for https, wss and
//! STARTTLS: the system's roots, plus `--cacert` when given.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::CliError;

/// The TLS client configuration every command uses.
pub fn client_config(cacert: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, CliError> {
    let mut roots = RootCertStore::empty();
    // A system without a CA bundle (a slim container) still works with --cacert.
    let system = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(system.certs);
    if let Some(path) = cacert {
        for cert in extra_roots(path)? {
            roots
                .add(cert)
                .map_err(|err| CliError::Tls(format!("{}: {err}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| CliError::Tls(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file.
fn extra_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, CliError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| CliError::Tls(format!("{}: {err}", path.display())))?;
    if certs.is_empty() {
        return Err(CliError::Tls(format!(
            "{}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

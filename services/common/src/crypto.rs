//! The process's TLS crypto provider.
//!
//! The `inlet` CLI builds reqwest with rustls and no provider of its own
//! (`rustls-no-provider`: ring, not aws-lc, so nothing needs cmake). Cargo
//! unifies that feature into every crate built alongside it, and a reqwest
//! client built with it but no process-wide provider panics. Every place
//! that builds an HTTP client (the health probe, the OTLP exporter, the CLI)
//! installs ring first.

/// Makes ring the process's default rustls provider; a no-op once one is set.
pub fn install_provider() {
    // Err only means a provider is already installed, which is what is wanted.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

//! The one place HTTP clients are made (RPC endpoints, package gateways).
//!
//! reqwest's TLS is built without a crypto provider here (`mint/Cargo.toml`: aws-lc-rs builds
//! AWS-LC's C sources with cmake, about a core-minute of every cold build); ring is installed
//! as the process's provider before any client is built — reqwest panics at `build()` when
//! none is. An error from `install_default` means a provider is installed already, which serves
//! as well.

use alloy::transports::http::reqwest;

/// A client builder whose TLS has its crypto provider.
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

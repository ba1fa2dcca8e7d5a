//! Tests of `mint::http` (src/http.rs).
/// The client builds with TLS, and the same process may build it again.
#[test]
fn https_clients_build_with_their_crypto_provider() {
    for _ in 0..2 {
        assert!(
            mint::http::client_builder()
                .https_only(true)
                .build()
                .is_ok()
        );
    }
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
}

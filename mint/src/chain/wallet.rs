//! Signing wallets. A surveyor or operator signs locally (encrypted keystore, mnemonic, or — for
//! tests and the dev chain only — a raw private key), or on a Ledger behind the `ledger` feature.
//! An owner who should never paste a key uses the browser-wallet bridge ([`super::bridge`])
//! instead, which needs no `Wallet` at all.
//!
//! Secrets are never kept in a printable form: `Debug` shows the kind and the address only, and
//! passwords are taken as `&str` for the duration of the call and not stored.

use std::fmt;
use std::path::{Path, PathBuf};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Signature};
use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner};
use alloy::signers::{Signer, SignerSync};
use alloy::sol_types::{Eip712Domain, SolStruct};

use super::error::{ChainError, ChainResult};

/// A key that can sign transactions and EIP-712 attestations.
#[derive(Clone)]
pub struct Wallet {
    inner: Inner,
    origin: &'static str,
}

#[derive(Clone)]
enum Inner {
    Local(PrivateKeySigner),
    #[cfg(feature = "ledger")]
    Ledger(std::sync::Arc<alloy::signers::ledger::LedgerSigner>),
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("origin", &self.origin)
            .field("address", &self.address())
            .finish()
    }
}

impl Wallet {
    /// From a hex private key (optionally `0x`-prefixed). For tests and the local dev chain:
    /// a key on the command line ends up in shell history.
    pub fn from_private_key(hex_key: &str) -> ChainResult<Self> {
        let signer: PrivateKeySigner = hex_key.trim().parse().map_err(|_| {
            ChainError::Wallet("invalid private key (expected 32 bytes of hex)".into())
        })?;
        Ok(Self::local(signer, "private key"))
    }

    /// From a BIP-39 English phrase at `m/44'/60'/0'/0/{index}` (the path MetaMask and most
    /// wallets use for account `index`).
    pub fn from_mnemonic(phrase: &str, index: u32) -> ChainResult<Self> {
        let signer = MnemonicBuilder::english()
            .phrase(phrase.trim())
            .index(index)
            .and_then(|b| b.build())
            // The underlying message can quote the phrase; never pass it on.
            .map_err(|_| {
                ChainError::Wallet(format!(
                    "cannot derive account {index} from the mnemonic (check the words and their count)"
                ))
            })?;
        Ok(Self::local(signer, "mnemonic"))
    }

    /// From an encrypted JSON keystore (Web3 Secret Storage v3, as geth, Foundry and MetaMask
    /// export). A wrong password and a corrupt file are reported without echoing either.
    pub fn from_keystore(path: impl AsRef<Path>, password: &str) -> ChainResult<Self> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(ChainError::Keystore {
                path: path.to_path_buf(),
                reason: "no such file".into(),
            });
        }
        let signer = PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| {
            let reason = match e.to_string() {
                s if s.contains("Mac") || s.contains("mac") => "wrong password".to_string(),
                s => format!("cannot decrypt: {s}"),
            };
            ChainError::Keystore {
                path: path.to_path_buf(),
                reason,
            }
        })?;
        Ok(Self::local(signer, "keystore"))
    }

    /// Write this wallet's key to a new encrypted keystore file `dir/name` (scrypt, as
    /// `cast wallet import` does), so a mnemonic or dev key can be replaced by a password.
    /// Only local keys can be exported.
    pub fn write_keystore(&self, dir: &Path, name: &str, password: &str) -> ChainResult<PathBuf> {
        // A `match`, not `let`, because the Ledger variant exists only with the feature.
        #[allow(clippy::infallible_destructuring_match)]
        let signer = match &self.inner {
            Inner::Local(s) => s,
            #[cfg(feature = "ledger")]
            Inner::Ledger(_) => {
                return Err(ChainError::Wallet(
                    "only a local key can be written to a keystore".into(),
                ));
            }
        };
        std::fs::create_dir_all(dir).map_err(|e| ChainError::io(dir, e))?;
        let mut rng = rand08::rngs::OsRng;
        PrivateKeySigner::encrypt_keystore(
            dir,
            &mut rng,
            signer.credential().to_bytes(),
            password,
            Some(name),
        )
        .map_err(|e| ChainError::Keystore {
            path: dir.join(name),
            reason: e.to_string(),
        })?;
        Ok(dir.join(name))
    }

    /// A Ledger hardware wallet at `m/44'/60'/{index}'/0/0` (Ledger Live's layout).
    #[cfg(feature = "ledger")]
    pub async fn from_ledger(index: usize, chain_id: u64) -> ChainResult<Self> {
        use alloy::signers::ledger::{HDPath, LedgerSigner};
        let signer = LedgerSigner::new(HDPath::LedgerLive(index), Some(chain_id))
            .await
            .map_err(|e| ChainError::Wallet(format!("Ledger: {e}")))?;
        Ok(Self {
            inner: Inner::Ledger(std::sync::Arc::new(signer)),
            origin: "ledger",
        })
    }

    fn local(signer: PrivateKeySigner, origin: &'static str) -> Self {
        Self {
            inner: Inner::Local(signer),
            origin,
        }
    }

    pub fn address(&self) -> Address {
        match &self.inner {
            Inner::Local(s) => s.address(),
            #[cfg(feature = "ledger")]
            Inner::Ledger(s) => s.address(),
        }
    }

    /// Where the key came from ("keystore", "mnemonic", "private key", "ledger"), for messages.
    pub fn origin(&self) -> &'static str {
        self.origin
    }

    /// The transaction signer alloy's providers use.
    pub(crate) fn ethereum_wallet(&self) -> EthereumWallet {
        match &self.inner {
            Inner::Local(s) => EthereumWallet::from(s.clone()),
            #[cfg(feature = "ledger")]
            Inner::Ledger(s) => EthereumWallet::new(s.clone()),
        }
    }

    /// The secret key, for decrypting what was sealed to this address ([`crate::seal`]): ECIES
    /// needs the scalar itself, which a Ledger never gives out (refused with a clear error).
    pub fn secret_key(&self) -> ChainResult<k256::SecretKey> {
        match &self.inner {
            Inner::Local(s) => k256::SecretKey::from_bytes(&s.credential().to_bytes())
                .map_err(|_| ChainError::Wallet("the key is not a valid secp256k1 scalar".into())),
            #[cfg(feature = "ledger")]
            Inner::Ledger(_) => Err(ChainError::Wallet(
                "a Ledger cannot decrypt sealed packages (ECIES needs the key itself): use a \
                 keystore for the reader key"
                    .into(),
            )),
        }
    }

    /// Sign `message` as `personal_sign` (EIP-191) does, so anyone can recover this key's public
    /// key from the signature (how a reader hands over the key a package is sealed to).
    pub fn sign_message(&self, message: &[u8]) -> ChainResult<Signature> {
        let hash = alloy::primitives::eip191_hash_message(message);
        match &self.inner {
            Inner::Local(s) => s
                .sign_hash_sync(&hash)
                .map_err(|e| ChainError::Signing(e.to_string())),
            #[cfg(feature = "ledger")]
            Inner::Ledger(s) => super::block_on(s.sign_message(message))
                .map_err(|e| ChainError::Signing(e.to_string())),
        }
    }

    /// Sign an EIP-712 struct. A local key signs `eip712_signing_hash` directly; a Ledger gets
    /// the typed data so its screen can show what is signed.
    pub(crate) async fn sign_typed<T: SolStruct + Send + Sync>(
        &self,
        value: &T,
        domain: &Eip712Domain,
    ) -> ChainResult<Signature> {
        match &self.inner {
            Inner::Local(s) => {
                let hash: B256 = value.eip712_signing_hash(domain);
                s.sign_hash(&hash)
                    .await
                    .map_err(|e| ChainError::Signing(e.to_string()))
            }
            #[cfg(feature = "ledger")]
            Inner::Ledger(s) => s
                .sign_typed_data(value, domain)
                .await
                .map_err(|e| ChainError::Signing(e.to_string())),
        }
    }
}

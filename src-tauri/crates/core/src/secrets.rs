//! Secrets (tokens, app passwords, client secrets) live only in the OS keychain: Secret
//! Service on Linux, Keychain on macOS, Credential Manager on Windows. There is no plain-file
//! fallback: when no keychain is reachable the caller gets [`SecretError::Unavailable`] with
//! what to install or start.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The keychain service name Postwerk's entries live under.
pub const SERVICE: &str = "postwerk";

pub use postwerk_networks::Secret;

/// Name of a secret in the keychain, for example `account/<id>/access_token`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretKey(String);

impl SecretKey {
    /// A secret of an account: `account/<account id>/<kind>`.
    pub fn account(account_id: &str, kind: &str) -> Self {
        Self(format!("account/{account_id}/{kind}"))
    }

    /// Any other key, for example `mastodon-app/<instance host>/client_secret`.
    pub fn raw(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no OS keychain is reachable ({detail}). Postwerk keeps tokens only in the keychain, never in a file. {hint}"
    )]
    Unavailable { detail: String, hint: &'static str },
    #[error("the keychain refused the operation on {key}: {detail}")]
    Platform { key: String, detail: String },
}

/// What to do when the keychain is missing, per platform.
pub const fn unavailable_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "Install and start a Secret Service provider: on Debian or Ubuntu `sudo apt-get install gnome-keyring` \
         (KDE users: KWallet with its Secret Service interface), then log in to your desktop session so the \
         login keyring is unlocked. On a machine without a desktop, run Postwerk inside `dbus-run-session` and \
         start `gnome-keyring-daemon --unlock --components=secrets` with a password on its standard input."
    } else if cfg!(target_os = "macos") {
        "Open Keychain Access and make sure your login keychain exists and is unlocked."
    } else if cfg!(target_os = "windows") {
        "Windows Credential Manager is not reachable; sign in with a user account that has a full profile."
    } else {
        "This platform has no supported keychain."
    }
}

/// Where secrets are kept. Synchronous: async callers use `spawn_blocking`.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// A short name of the backend, for diagnostics ("secret-service", "memory", ...).
    fn backend(&self) -> &'static str;
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, SecretError>;
    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), SecretError>;
    /// Removes the secret; removing a missing secret is not an error.
    fn delete(&self, key: &SecretKey) -> Result<(), SecretError>;

    /// Proves that the store can be used (reads a key that does not exist).
    fn check(&self) -> Result<(), SecretError> {
        self.get(&SecretKey::raw("postwerk-keychain-check"))
            .map(|_| ())
    }
}

/// An in-memory store for unit tests. Never used by the app or the CLI.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<SecretKey, Secret>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("memory store lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SecretStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .entries
            .lock()
            .expect("memory store lock")
            .get(key)
            .cloned())
    }

    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), SecretError> {
        self.entries
            .lock()
            .expect("memory store lock")
            .insert(key.clone(), secret.clone());
        Ok(())
    }

    fn delete(&self, key: &SecretKey) -> Result<(), SecretError> {
        self.entries.lock().expect("memory store lock").remove(key);
        Ok(())
    }
}

/// The OS keychain through `keyring-core` and the platform's store crate.
pub struct KeyringStore {
    service: String,
    store: Arc<keyring_core::CredentialStore>,
    backend: &'static str,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.service)
            .field("backend", &self.backend)
            .finish()
    }
}

fn unavailable(e: impl fmt::Display) -> SecretError {
    SecretError::Unavailable {
        detail: e.to_string(),
        hint: unavailable_hint(),
    }
}

impl KeyringStore {
    /// Connects to the platform keychain under `service` (normally [`SERVICE`]; tests use their
    /// own). Fails with [`SecretError::Unavailable`] when there is none.
    pub fn open(service: &str) -> Result<Self, SecretError> {
        let (store, backend) = platform_store()?;
        Ok(Self {
            service: service.to_string(),
            store,
            backend,
        })
    }

    fn entry(&self, key: &SecretKey) -> Result<keyring_core::Entry, SecretError> {
        keyring_core::Entry::new_in_store(&self.store, &self.service, key.as_str())
            .map_err(|e| self.map_err(key, e))
    }

    fn map_err(&self, key: &SecretKey, e: keyring_core::Error) -> SecretError {
        match e {
            keyring_core::Error::NoStorageAccess(_) | keyring_core::Error::PlatformFailure(_) => {
                unavailable(e)
            }
            other => SecretError::Platform {
                key: key.to_string(),
                detail: other.to_string(),
            },
        }
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<(Arc<keyring_core::CredentialStore>, &'static str), SecretError> {
    let store = zbus_secret_service_keyring_store::Store::new().map_err(unavailable)?;
    Ok((store, "secret-service"))
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<(Arc<keyring_core::CredentialStore>, &'static str), SecretError> {
    let store = apple_native_keyring_store::keychain::Store::new().map_err(unavailable)?;
    Ok((store, "macos-keychain"))
}

#[cfg(target_os = "windows")]
fn platform_store() -> Result<(Arc<keyring_core::CredentialStore>, &'static str), SecretError> {
    let store = windows_native_keyring_store::Store::new().map_err(unavailable)?;
    Ok((store, "windows-credential-manager"))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> Result<(Arc<keyring_core::CredentialStore>, &'static str), SecretError> {
    Err(unavailable("unsupported platform"))
}

impl SecretStore for KeyringStore {
    fn backend(&self) -> &'static str {
        self.backend
    }

    fn get(&self, key: &SecretKey) -> Result<Option<Secret>, SecretError> {
        match self.entry(key)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.map_err(key, e)),
        }
    }

    fn set(&self, key: &SecretKey, secret: &Secret) -> Result<(), SecretError> {
        self.entry(key)?
            .set_password(secret.expose())
            .map_err(|e| self.map_err(key, e))
    }

    fn delete(&self, key: &SecretKey) -> Result<(), SecretError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.map_err(key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static_assertions::assert_not_impl_any!(Secret: serde::Serialize, fmt::Display);
    static_assertions::assert_impl_all!(KeyringStore: Send, Sync);

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("tok-12345");
        assert_eq!(format!("{s:?}"), "<redacted>");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            token: Secret,
        }
        let printed = format!("{:?}", Holder { token: s.clone() });
        assert!(!printed.contains("tok-12345"), "{printed}");
        assert_eq!(s.expose(), "tok-12345");
    }

    #[test]
    fn memory_store_round_trip_and_idempotent_delete() {
        let store = MemoryStore::new();
        let key = SecretKey::account("a1", "access_token");
        assert_eq!(key.as_str(), "account/a1/access_token");
        assert!(store.get(&key).unwrap().is_none());
        store.set(&key, &Secret::new("v1")).unwrap();
        store.set(&key, &Secret::new("v2")).unwrap();
        assert_eq!(store.get(&key).unwrap(), Some(Secret::new("v2")));
        assert_eq!(store.len(), 1);
        store.delete(&key).unwrap();
        store.delete(&key).unwrap();
        assert!(store.is_empty());
        store.check().unwrap();
    }

    #[test]
    fn unavailable_error_says_what_to_do() {
        let msg = unavailable("no session bus").to_string();
        assert!(msg.contains("no session bus"), "{msg}");
        assert!(msg.contains("never in a file"), "{msg}");
        #[cfg(target_os = "linux")]
        assert!(msg.contains("gnome-keyring"), "{msg}");
    }
}

/// The secret store as the rest of the core uses it: opened on first use (so Postwerk still
/// starts, and shows what to fix, when no keychain is reachable), with every call run on a
/// blocking thread.
#[derive(Debug, Clone)]
pub struct Secrets {
    inner: Arc<tokio::sync::OnceCell<Arc<dyn SecretStore>>>,
}

impl Secrets {
    /// The OS keychain, opened when first needed.
    pub fn keychain() -> Self {
        Self {
            inner: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// A given store (tests use [`MemoryStore`]).
    pub fn with_store(store: Arc<dyn SecretStore>) -> Self {
        Self {
            inner: Arc::new(tokio::sync::OnceCell::new_with(Some(store))),
        }
    }

    async fn store(&self) -> Result<Arc<dyn SecretStore>, SecretError> {
        self.inner
            .get_or_try_init(|| async {
                let opened = tokio::task::spawn_blocking(|| KeyringStore::open(SERVICE))
                    .await
                    .map_err(|e| unavailable(e.to_string()))??;
                Ok(Arc::new(opened) as Arc<dyn SecretStore>)
            })
            .await
            .cloned()
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        let store = self.store().await?;
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| SecretError::Platform {
                key: String::new(),
                detail: e.to_string(),
            })?
    }

    pub async fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError> {
        self.run(move |s| s.get(&key)).await
    }

    pub async fn set(&self, key: SecretKey, secret: Secret) -> Result<(), SecretError> {
        self.run(move |s| s.set(&key, &secret)).await
    }

    pub async fn delete(&self, key: SecretKey) -> Result<(), SecretError> {
        self.run(move |s| s.delete(&key)).await
    }
}

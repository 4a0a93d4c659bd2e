//! The real OS keychain (Secret Service on Linux). Ignored by default because it needs a
//! running keychain; the test script runs it inside a private D-Bus with gnome-keyring.

use postwerk_core::secrets::{KeyringStore, SecretStore};
use postwerk_core::{Secret, SecretKey};

#[test]
#[ignore = "needs an unlocked OS keychain; scripts/test runs it with gnome-keyring on a private D-Bus"]
fn secrets_round_trip_through_the_real_keychain() {
    // A service of its own, so the test never touches a user's Postwerk entries.
    let service = format!("postwerk-test-{}", std::process::id());
    let store = KeyringStore::open(&service).expect("keychain reachable");
    store.check().expect("keychain usable");
    let key = SecretKey::account("acct-1", "access_token");
    let value = Secret::new("tok-ünïcode-✓-1234567890");

    assert_eq!(store.get(&key).unwrap(), None);
    store.set(&key, &value).unwrap();
    assert_eq!(store.get(&key).unwrap(), Some(value.clone()));

    // A second handle (as after a restart) reads the same secret.
    let again = KeyringStore::open(&service).unwrap();
    assert_eq!(again.get(&key).unwrap(), Some(value));

    store.set(&key, &Secret::new("rotated")).unwrap();
    assert_eq!(again.get(&key).unwrap(), Some(Secret::new("rotated")));

    store.delete(&key).unwrap();
    store.delete(&key).unwrap(); // idempotent
    assert_eq!(again.get(&key).unwrap(), None);
    assert!(store.backend() == "secret-service" || cfg!(not(target_os = "linux")));
}

//! Fake network servers for Postwerk's tests: a Mastodon instance and a Bluesky PDS (with
//! entryway and PLC directory). They listen on 127.0.0.1 only, on a port the OS chooses, and
//! follow the documented APIs (see `shared/NETWORKS.md`): they reject what the real servers
//! reject, with the same status codes and error bodies, send the rate-limit headers and record
//! every request they answer.
//!
//! Rust tests use [`FakeMastodon`] and [`FakeBluesky`] directly; the `postwerk-fakes` binary
//! starts both for the WebDriver tests and exposes every control under `/_fake/`.

mod bluesky;
mod common;
mod mastodon;

pub use bluesky::FakeBluesky;
pub use common::Recorded;
pub use mastodon::{
    ACCOUNT_ID, DISPLAY_NAME, FakeMastodon, KNOWN_SCOPES, OOB_REDIRECT_URI, USERNAME,
};

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn fakes_are_send_and_sync() {
        assert_send_sync::<super::FakeMastodon>();
        assert_send_sync::<super::FakeBluesky>();
    }
}

//! Fake network servers for Postwerk's tests: a Mastodon instance and a Bluesky PDS (with
//! entryway and PLC directory). They listen on 127.0.0.1 only, on a port the OS chooses, and
//! follow the documented APIs (see `shared/NETWORKS.md`): they reject what the real servers
//! reject, with the same status codes and error bodies, send the rate-limit headers and record
//! every request they answer.
//!
//! Both accept publishing (Mastodon statuses, media, scheduled statuses and `Idempotency-Key`;
//! Bluesky blobs and records validated against the lexicon), record what they received byte for
//! byte ([`ReceivedStatus`], [`ReceivedMedia`], [`ReceivedRecord`], [`ReceivedBlob`], ...), and
//! can drop or fail the next requests to a path to imitate a killed or refused publish.
//!
//! Rust tests use [`FakeMastodon`] and [`FakeBluesky`] directly; the `postwerk-fakes` binary
//! starts both for the WebDriver tests and exposes every control under `/_fake/`.

mod bluesky;
pub mod browser;
mod common;
mod faults;
mod mastodon;
mod media;

pub use bluesky::notify::ChatMessage;
pub use bluesky::page::{ARTICLE_DESCRIPTION, ARTICLE_TITLE, OG_IMAGE_JPEG};
pub use bluesky::{FakeBluesky, ReceivedBlob, ReceivedRecord};
pub use browser::play_mastodon_sign_in;
pub use common::Recorded;
pub use mastodon::{
    ACCOUNT_ID, DISPLAY_NAME, FakeMastodon, KNOWN_SCOPES, OOB_REDIRECT_URI, ReceivedMedia,
    ReceivedScheduled, ReceivedStatus, USERNAME,
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

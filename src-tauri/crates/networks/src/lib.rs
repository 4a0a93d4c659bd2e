//! Networks: one trait with capability flags that the UI and scheduler read instead of
//! checking network names. Each connector (Mastodon, Bluesky, ...) is a module that implements
//! [`Network`]; connectors and the shared HTTP plumbing (retry, rate limits, OAuth) arrive with
//! the issues that connect each network.

use serde::{Deserialize, Serialize};

/// Every network Postwerk knows of. `Xing` has no public API and gets reminder publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    Mastodon,
    Bluesky,
    X,
    Linkedin,
    FacebookPages,
    Instagram,
    Threads,
    Youtube,
    Pinterest,
    Tiktok,
    GoogleBusiness,
    Telegram,
    Reddit,
    Flickr,
    Xing,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 15] = [
        Self::Mastodon,
        Self::Bluesky,
        Self::X,
        Self::Linkedin,
        Self::FacebookPages,
        Self::Instagram,
        Self::Threads,
        Self::Youtube,
        Self::Pinterest,
        Self::Tiktok,
        Self::GoogleBusiness,
        Self::Telegram,
        Self::Reddit,
        Self::Flickr,
        Self::Xing,
    ];

    /// The name people know the network by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Mastodon => "Mastodon",
            Self::Bluesky => "Bluesky",
            Self::X => "X",
            Self::Linkedin => "LinkedIn",
            Self::FacebookPages => "Facebook Pages",
            Self::Instagram => "Instagram",
            Self::Threads => "Threads",
            Self::Youtube => "YouTube",
            Self::Pinterest => "Pinterest",
            Self::Tiktok => "TikTok",
            Self::GoogleBusiness => "Google Business Profile",
            Self::Telegram => "Telegram",
            Self::Reddit => "Reddit",
            Self::Flickr => "Flickr",
            Self::Xing => "XING",
        }
    }
}

/// What a connected network can do. The UI and scheduler branch on these, never on names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub publish_text: bool,
    pub publish_images: bool,
    pub publish_video: bool,
    pub threads: bool,
    /// The network holds a scheduled post on its own servers (laptop may be closed).
    pub native_scheduling: bool,
    pub inbox: bool,
    pub direct_messages: bool,
    pub search: bool,
    pub metrics: bool,
    /// No API: Postwerk reminds the user and copies the text instead of posting.
    pub reminder_only: bool,
}

/// One network's connector.
pub trait Network: Send + Sync {
    fn kind(&self) -> NetworkKind;
    fn capabilities(&self) -> Capabilities;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_network_has_a_unique_wire_name_and_a_display_name() {
        let mut names = std::collections::HashSet::new();
        for kind in NetworkKind::ALL {
            let wire = serde_json::to_string(&kind).unwrap();
            assert!(names.insert(wire.clone()), "duplicate {wire}");
            assert!(!kind.display_name().is_empty());
        }
        assert_eq!(
            serde_json::to_string(&NetworkKind::FacebookPages).unwrap(),
            "\"facebook_pages\""
        );
    }
}

//! Networks: one trait with capability flags that the UI and scheduler read instead of
//! checking network names; one module per connector (auth, client, wire types, and the one
//! function that maps its answers to [`NetworkError`]); shared HTTP plumbing: one client,
//! rate-limit headers, jittered backoff, OAuth 2 + PKCE through a loopback redirect.

use serde::{Deserialize, Serialize};

pub mod backoff;
pub mod bluesky;
pub mod bluesky_richtext;
pub mod error;
pub mod http;
pub mod mastodon;
pub mod oauth;
pub mod ratelimit;
mod secret;

pub use error::{NetworkError, Result};
pub use http::HttpClient;
pub use secret::Secret;

/// What kind of request an answer belongs to, so that each network's `map_error` can tell
/// "the post was refused" from "the input was refused" and an expired access token from a
/// dead refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Auth,
    Refresh,
    Read,
    Publish,
}

/// Who an account is on its network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub network: NetworkKind,
    /// Stable id: Mastodon account id, Bluesky DID.
    pub remote_id: String,
    /// "@ada@mastodon.social", "@ada.bsky.social".
    pub handle: String,
    pub display_name: String,
    pub avatar_url: Option<url::Url>,
    pub profile_url: Option<url::Url>,
}

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

/// How a user connects an account of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ConnectMethod {
    /// Type a server, sign in in the browser (Mastodon).
    InstanceOauth,
    /// Identifier plus an app password (Bluesky).
    AppPassword,
    /// The user's own developer app (client id, and secret where the network demands one).
    DeveloperApp,
    /// A bot token (Telegram).
    BotToken,
    /// No API: reminders.
    Reminder,
}

/// One entry of the network picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NetworkInfo {
    pub kind: NetworkKind,
    pub display_name: String,
    pub capabilities: Capabilities,
    pub connect: ConnectMethod,
    /// This version can connect it.
    pub available: bool,
}

const fn caps(
    text: bool,
    images: bool,
    video: bool,
    threads: bool,
    native: bool,
    inbox: bool,
    dms: bool,
) -> Capabilities {
    Capabilities {
        publish_text: text,
        publish_images: images,
        publish_video: video,
        threads,
        native_scheduling: native,
        inbox,
        direct_messages: dms,
        search: false,
        metrics: true,
        reminder_only: false,
    }
}

impl NetworkKind {
    /// What the network can do through its API (NETWORKS.md, section 0).
    pub fn capabilities(self) -> Capabilities {
        match self {
            Self::Mastodon => mastodon::CAPABILITIES,
            Self::Bluesky => bluesky::CAPABILITIES,
            Self::X => Capabilities {
                search: true,
                ..caps(true, true, true, true, false, true, true)
            },
            Self::Linkedin => caps(true, true, true, false, false, false, false),
            Self::FacebookPages => caps(true, true, true, false, true, true, true),
            Self::Instagram => caps(false, true, true, false, false, true, true),
            Self::Threads => caps(true, true, true, true, false, true, false),
            Self::Youtube => caps(false, false, true, false, true, true, false),
            Self::Pinterest => caps(false, true, true, false, false, false, false),
            Self::Tiktok => caps(false, true, true, false, false, false, false),
            Self::GoogleBusiness => caps(true, true, false, false, false, true, false),
            Self::Telegram => Capabilities {
                metrics: false,
                ..caps(true, true, true, false, false, true, false)
            },
            Self::Reddit => Capabilities {
                search: true,
                ..caps(true, true, true, false, false, true, true)
            },
            Self::Flickr => caps(false, true, true, false, false, true, false),
            Self::Xing => Capabilities {
                reminder_only: true,
                ..Capabilities::default()
            },
        }
    }

    pub fn connect_method(self) -> ConnectMethod {
        match self {
            Self::Mastodon => ConnectMethod::InstanceOauth,
            Self::Bluesky => ConnectMethod::AppPassword,
            Self::Telegram => ConnectMethod::BotToken,
            Self::Xing => ConnectMethod::Reminder,
            _ => ConnectMethod::DeveloperApp,
        }
    }

    pub fn info(self) -> NetworkInfo {
        NetworkInfo {
            kind: self,
            display_name: self.display_name().to_string(),
            capabilities: self.capabilities(),
            connect: self.connect_method(),
            available: matches!(self, Self::Mastodon | Self::Bluesky),
        }
    }
}

/// Every network, for the picker: the connectable ones first.
pub fn catalog() -> Vec<NetworkInfo> {
    let mut all: Vec<NetworkInfo> = NetworkKind::ALL.iter().map(|k| k.info()).collect();
    all.sort_by_key(|i| !i.available);
    all
}

/// One network's connector.
pub trait Network: Send + Sync {
    fn kind(&self) -> NetworkKind;
    fn capabilities(&self) -> Capabilities {
        self.kind().capabilities()
    }
}

impl Network for mastodon::Mastodon {
    fn kind(&self) -> NetworkKind {
        NetworkKind::Mastodon
    }
}

impl Network for bluesky::Bluesky {
    fn kind(&self) -> NetworkKind {
        NetworkKind::Bluesky
    }
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

    #[test]
    fn the_catalog_lists_every_network_connectable_ones_first() {
        let all = catalog();
        assert_eq!(all.len(), NetworkKind::ALL.len());
        assert!(all[0].available && all[1].available);
        assert!(all[2..].iter().all(|i| !i.available));
        let masto = all
            .iter()
            .find(|i| i.kind == NetworkKind::Mastodon)
            .unwrap();
        assert!(masto.capabilities.native_scheduling);
        let bsky = all.iter().find(|i| i.kind == NetworkKind::Bluesky).unwrap();
        assert!(!bsky.capabilities.native_scheduling);
        assert_eq!(bsky.connect, ConnectMethod::AppPassword);
        assert!(NetworkKind::Xing.capabilities().reminder_only);
    }
}

//! Media rules: how many attachments of which types and sizes a post may carry, and the
//! alt text each network takes (NETWORKS.md "Media" sections). ⚠ marks values NETWORKS.md
//! does not confirm from an official source, or that Postwerk chose itself.

use postwerk_networks::NetworkKind;
use postwerk_networks::mastodon::InstanceInfo;
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use super::group_thousands;

const MIB: u64 = 1024 * 1024;

/// What a network accepts as attachments of one post. Numbers are 0 and lists empty when
/// Postwerk does not know them; unknown values are not checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MediaRules {
    /// Most attachments per post.
    pub max_count: u32,
    /// Most videos per post (on Mastodon: video, audio or GIFV).
    pub max_videos: u32,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub max_image_bytes: u64,
    /// For GIFs, when larger than other images (X: 15 MB); 0 = as other images.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub max_gif_bytes: u64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub max_video_bytes: u64,
    /// Image MIME types the network takes. When both lists are empty, types are unknown
    /// and not checked; when only this one is, the network takes no images.
    pub image_mime: Vec<String>,
    /// Video MIME types (on Mastodon also audio, which shares the video rules).
    pub video_mime: Vec<String>,
    /// Whether attachments carry alt text on this network.
    pub alt_text: bool,
    /// Most alt-text graphemes of an image; 0 = no known limit.
    pub alt_max_chars: u32,
    /// Most alt-text graphemes of a video, where it differs; 0 = as `alt_max_chars`.
    pub video_alt_max_chars: u32,
    /// Whether images and videos may share a post (Mastodon: at most one video and no
    /// images with it).
    pub mixing_allowed: bool,
    /// A GIF must be the only attachment (X: "4 photos, or 1 GIF, or 1 video").
    pub gif_alone: bool,
    /// Postwerk re-encodes images over `max_image_bytes` (Bluesky), so size is a warning.
    pub reencode_to_fit: bool,
}

impl MediaRules {
    /// Nothing known.
    fn unknown() -> Self {
        Self {
            max_count: 0,
            max_videos: 0,
            max_image_bytes: 0,
            max_gif_bytes: 0,
            max_video_bytes: 0,
            image_mime: Vec::new(),
            video_mime: Vec::new(),
            alt_text: false,
            alt_max_chars: 0,
            video_alt_max_chars: 0,
            mixing_allowed: true,
            gif_alone: false,
            reencode_to_fit: false,
        }
    }
}

/// One attachment as the composer has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MediaItem {
    pub mime: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub bytes: u64,
    pub alt: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// What is wrong with the attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum MediaProblemCode {
    TooMany,
    TooLarge,
    UnsupportedType,
    MissingAlt,
    AltTooLong,
    MixedMedia,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MediaProblem {
    /// The attachment (0-based), or `None` for the post as a whole.
    pub index: Option<u32>,
    pub code: MediaProblemCode,
    /// Whether the post cannot be published like this (missing alt text is only advice).
    pub blocking: bool,
    /// An English sentence, e.g. "5 images attached, Bluesky takes 4".
    pub message: String,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

/// Mastodon's `MediaAttachment::IMAGE_MIME_TYPES` (4.x).
const MASTODON_IMAGES: [&str; 7] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
];
/// Mastodon's `VIDEO_MIME_TYPES` and `AUDIO_MIME_TYPES` (4.x).
const MASTODON_VIDEOS: [&str; 21] = [
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-pn-wave",
    "audio/vnd.wave",
    "audio/ogg",
    "audio/vorbis",
    "audio/mpeg",
    "audio/mp3",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mp4",
    "audio/3gpp",
    "video/x-ms-asf",
];

fn mastodon_rules(instance: Option<&InstanceInfo>) -> MediaRules {
    // A stock instance (NETWORKS.md §1 "Media"): 4 attachments, images 16 MB, video and
    // audio about 99 MB, one of them per post and no images with it, alt text 1500.
    let mut rules = MediaRules {
        max_count: 4,
        max_videos: 1,
        max_image_bytes: 16 * MIB,
        max_video_bytes: 99 * MIB,
        image_mime: strings(&MASTODON_IMAGES),
        video_mime: strings(&MASTODON_VIDEOS),
        alt_text: true,
        alt_max_chars: 1500,
        mixing_allowed: false,
        ..MediaRules::unknown()
    };
    if let Some(info) = instance {
        let or = |v: u64, d: u64| if v == 0 { d } else { v };
        rules.max_count = u32::try_from(or(info.max_media_attachments.into(), 4)).unwrap_or(4);
        rules.max_image_bytes = or(info.image_size_limit, rules.max_image_bytes);
        rules.max_video_bytes = or(info.video_size_limit, rules.max_video_bytes);
        rules.alt_max_chars = if info.description_limit == 0 {
            rules.alt_max_chars
        } else {
            info.description_limit
        };
        if !info.supported_mime_types.is_empty() {
            let (images, others): (Vec<String>, Vec<String>) = info
                .supported_mime_types
                .iter()
                .cloned()
                .partition(|m| m.starts_with("image/"));
            rules.image_mime = images;
            rules.video_mime = others;
        }
    }
    rules
}

/// The media rules of a network. For Mastodon, pass the instance's limits when known
/// (`/api/v2/instance`); without them a stock instance is assumed.
pub fn media_rules(network: NetworkKind, instance: Option<&InstanceInfo>) -> MediaRules {
    match network {
        NetworkKind::Mastodon => mastodon_rules(instance),
        NetworkKind::Bluesky => MediaRules {
            // app.bsky.embed.images: 4 images of at most 2,000,000 bytes (2026 lexicon).
            // Postwerk re-encodes larger ones (to `publish::BLUESKY_IMAGE_BYTES`).
            max_count: 4,
            max_videos: 1,
            max_image_bytes: 2_000_000,
            // ⚠ 100 MB: the long-standing video limit; NETWORKS.md notes the 2026 lexicon
            // allows 300 MB, which older AppViews may not.
            max_video_bytes: 100_000_000,
            // The types Postwerk can re-encode; the lexicon takes image/*.
            image_mime: strings(&["image/jpeg", "image/png", "image/webp", "image/gif"]),
            video_mime: strings(&["video/mp4"]),
            alt_text: true,
            // ⚠ The images lexicon sets no limit; 2000 is where the Bluesky app stops.
            alt_max_chars: 2000,
            // app.bsky.embed.video `alt`: maxGraphemes 1000.
            video_alt_max_chars: 1000,
            // An embed is images or a video, not both.
            mixing_allowed: false,
            gif_alone: false,
            reencode_to_fit: true,
            ..MediaRules::unknown()
        },
        NetworkKind::X => MediaRules {
            // NETWORKS.md §3 "Media (v2)": images 5 MB, animated GIFs 15 MB, video 512 MB;
            // "up to 4 photos, or 1 GIF, or 1 video".
            max_count: 4,
            max_videos: 1,
            max_image_bytes: 5 * MIB,
            max_gif_bytes: 15 * MIB,
            max_video_bytes: 512 * MIB,
            image_mime: strings(&["image/jpeg", "image/png", "image/gif", "image/webp"]),
            video_mime: strings(&["video/mp4", "video/quicktime"]),
            alt_text: true,
            // ⚠ X's documented alt-text limit for POST /2/media/metadata.
            alt_max_chars: 1000,
            mixing_allowed: false,
            gif_alone: true,
            ..MediaRules::unknown()
        },
        NetworkKind::Instagram => MediaRules {
            // Carousels of 2–10 items, JPEG only ⚠ (third-party figures); alt text since
            // 2025-03 for images, no documented limit.
            max_count: 10,
            image_mime: strings(&["image/jpeg"]),
            video_mime: strings(&["video/mp4", "video/quicktime"]),
            alt_text: true,
            ..MediaRules::unknown()
        },
        NetworkKind::Pinterest => MediaRules {
            // One image, 2–5 for a multi-image Pin, or one video; alt_text ≤ 500.
            max_count: 5,
            max_videos: 1,
            image_mime: strings(&["image/jpeg", "image/png"]),
            video_mime: strings(&["video/mp4", "video/quicktime"]),
            alt_text: true,
            alt_max_chars: 500,
            mixing_allowed: false,
            ..MediaRules::unknown()
        },
        NetworkKind::Tiktok => MediaRules {
            // Photo posts: ⚠ JPEG/WEBP only, at most 35; or one video.
            max_count: 35,
            max_videos: 1,
            image_mime: strings(&["image/jpeg", "image/webp"]),
            video_mime: strings(&["video/mp4", "video/quicktime", "video/webm"]),
            mixing_allowed: false,
            ..MediaRules::unknown()
        },
        NetworkKind::Youtube => MediaRules {
            // One video per upload; no images.
            max_count: 1,
            max_videos: 1,
            video_mime: strings(&[
                "video/mp4",
                "video/quicktime",
                "video/webm",
                "video/x-msvideo",
                "video/mpeg",
            ]),
            ..MediaRules::unknown()
        },
        NetworkKind::Telegram => MediaRules {
            // ⚠ Bot API (not in NETWORKS.md): albums of 2–10, photos 10 MB, uploads 50 MB.
            max_count: 10,
            max_image_bytes: 10 * MIB,
            max_video_bytes: 50 * MIB,
            ..MediaRules::unknown()
        },
        NetworkKind::Xing => MediaRules {
            // No API: Postwerk only reminds; nothing to check.
            ..MediaRules::unknown()
        },
        NetworkKind::Linkedin
        | NetworkKind::FacebookPages
        | NetworkKind::Threads
        | NetworkKind::GoogleBusiness
        | NetworkKind::Reddit
        | NetworkKind::Flickr => MediaRules::unknown(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Gif,
    Video,
    Unsupported,
}

fn kind_of(mime: &str, rules: &MediaRules) -> Kind {
    let mime = mime.trim().to_ascii_lowercase();
    let listed = |list: &[String]| list.iter().any(|m| m.eq_ignore_ascii_case(&mime));
    let types_known = !(rules.image_mime.is_empty() && rules.video_mime.is_empty());
    let image = if types_known {
        listed(&rules.image_mime)
    } else {
        mime.starts_with("image/")
    };
    let video = if types_known {
        listed(&rules.video_mime)
    } else {
        mime.starts_with("video/") || mime.starts_with("audio/")
    };
    match (image, video) {
        (true, _) if mime == "image/gif" => Kind::Gif,
        (true, _) => Kind::Image,
        (false, true) => Kind::Video,
        (false, false) if !types_known => Kind::Image,
        (false, false) => Kind::Unsupported,
    }
}

fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Image | Kind::Gif => "image",
        Kind::Video => "video",
        Kind::Unsupported => "file",
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// "2 MB", "16 MB", "3.1 MB", "512 KB": in binary units when the limit is a whole number
/// of MiB (Mastodon, X), else decimal (Bluesky's 2,000,000), so both sides of a comparison
/// use the same unit.
fn size(bytes: u64, limit: u64) -> String {
    let unit = if limit > 0 && limit.is_multiple_of(MIB) {
        MIB
    } else {
        1_000_000
    };
    let tenths = (bytes * 10 + unit / 2) / unit;
    if tenths == 0 {
        let kb = if unit == MIB { 1024 } else { 1000 };
        return format!("{} KB", group_thousands(bytes.div_ceil(kb)));
    }
    if tenths.is_multiple_of(10) {
        format!("{} MB", group_thousands(tenths / 10))
    } else {
        format!("{}.{} MB", group_thousands(tenths / 10), tenths % 10)
    }
}

fn index_u32(i: usize) -> Option<u32> {
    u32::try_from(i).ok()
}

/// Checks attachments against `rules` (from [`media_rules`]). Problems come post-wide
/// first (count, mixing), then per attachment in order.
pub fn check_media(
    network: NetworkKind,
    items: &[MediaItem],
    rules: &MediaRules,
) -> Vec<MediaProblem> {
    let name = network.display_name();
    let kinds: Vec<Kind> = items.iter().map(|m| kind_of(&m.mime, rules)).collect();
    let mut problems = Vec::new();
    let blocking = |code: MediaProblemCode, index: Option<usize>, message: String| MediaProblem {
        index: index.and_then(index_u32),
        code,
        blocking: true,
        message,
    };

    let images = kinds
        .iter()
        .filter(|k| matches!(k, Kind::Image | Kind::Gif))
        .count();
    let videos = kinds.iter().filter(|k| **k == Kind::Video).count();
    if rules.max_count > 0 && items.len() > rules.max_count as usize {
        let what = if images == items.len() {
            "images"
        } else if videos == items.len() {
            "videos"
        } else {
            "files"
        };
        problems.push(blocking(
            MediaProblemCode::TooMany,
            None,
            format!(
                "{} {what} attached, {name} takes {}",
                items.len(),
                rules.max_count
            ),
        ));
    }
    if rules.max_videos > 0 && videos > rules.max_videos as usize {
        let plural = if rules.max_videos == 1 { "" } else { "s" };
        problems.push(blocking(
            MediaProblemCode::TooMany,
            None,
            format!(
                "{videos} videos attached, {name} takes {} video{plural} per post",
                rules.max_videos
            ),
        ));
    }
    if !rules.mixing_allowed && videos > 0 && images > 0 {
        problems.push(blocking(
            MediaProblemCode::MixedMedia,
            None,
            format!("{name} does not take images and a video in one post"),
        ));
    }
    if rules.gif_alone
        && items.len() > 1
        && let Some(i) = kinds.iter().position(|k| *k == Kind::Gif)
    {
        problems.push(blocking(
            MediaProblemCode::MixedMedia,
            Some(i),
            format!("A GIF must be the only attachment on {name}"),
        ));
    }

    for (i, (item, &kind)) in items.iter().zip(&kinds).enumerate() {
        let label = format!("{} {}", capitalized(noun(kind)), i + 1);
        if kind == Kind::Unsupported {
            problems.push(blocking(
                MediaProblemCode::UnsupportedType,
                Some(i),
                format!(
                    "File {} is {}, which {name} does not take",
                    i + 1,
                    item.mime
                ),
            ));
            continue;
        }
        let limit = match kind {
            Kind::Gif if rules.max_gif_bytes > 0 => rules.max_gif_bytes,
            Kind::Image | Kind::Gif => rules.max_image_bytes,
            Kind::Video => rules.max_video_bytes,
            Kind::Unsupported => 0,
        };
        if limit > 0 && item.bytes > limit {
            let is_image = matches!(kind, Kind::Image | Kind::Gif);
            if rules.reencode_to_fit && is_image {
                problems.push(MediaProblem {
                    index: index_u32(i),
                    code: MediaProblemCode::TooLarge,
                    blocking: false,
                    message: format!(
                        "{label} is {}; Postwerk will shrink it to {name}'s {} limit",
                        size(item.bytes, limit),
                        size(limit, limit)
                    ),
                });
            } else {
                problems.push(blocking(
                    MediaProblemCode::TooLarge,
                    Some(i),
                    format!(
                        "{label} is {}, {name} takes at most {} per {}",
                        size(item.bytes, limit),
                        size(limit, limit),
                        noun(kind)
                    ),
                ));
            }
        }
        if !rules.alt_text {
            continue;
        }
        let alt = item.alt.as_deref().map(str::trim).unwrap_or_default();
        if alt.is_empty() {
            problems.push(MediaProblem {
                index: index_u32(i),
                code: MediaProblemCode::MissingAlt,
                blocking: false,
                message: format!("{label} has no alt text"),
            });
            continue;
        }
        let max = if kind == Kind::Video && rules.video_alt_max_chars > 0 {
            rules.video_alt_max_chars
        } else {
            rules.alt_max_chars
        };
        let len = alt.graphemes(true).count();
        if max > 0 && len > max as usize {
            problems.push(blocking(
                MediaProblemCode::AltTooLong,
                Some(i),
                format!(
                    "The alt text of {} is {} characters, {name} takes {}",
                    label.to_lowercase(),
                    group_thousands(len as u64),
                    group_thousands(max.into())
                ),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(mime: &str, bytes: u64, alt: Option<&str>) -> MediaItem {
        MediaItem {
            mime: mime.to_string(),
            bytes,
            alt: alt.map(str::to_string),
            width: None,
            height: None,
        }
    }

    fn jpeg(bytes: u64) -> MediaItem {
        item("image/jpeg", bytes, Some("A cat on a mat"))
    }

    fn codes(problems: &[MediaProblem]) -> Vec<(Option<u32>, MediaProblemCode, bool)> {
        problems
            .iter()
            .map(|p| (p.index, p.code, p.blocking))
            .collect()
    }

    fn check(network: NetworkKind, items: &[MediaItem]) -> Vec<MediaProblem> {
        check_media(network, items, &media_rules(network, None))
    }

    #[test]
    fn four_images_are_fine_everywhere_main() {
        for network in [NetworkKind::Mastodon, NetworkKind::Bluesky, NetworkKind::X] {
            assert!(
                check(network, &vec![jpeg(500_000); 4]).is_empty(),
                "{network:?}"
            );
        }
    }

    #[test]
    fn too_many() {
        let problems = check(NetworkKind::Bluesky, &vec![jpeg(1000); 5]);
        assert_eq!(
            codes(&problems),
            vec![(None, MediaProblemCode::TooMany, true)]
        );
        assert_eq!(problems[0].message, "5 images attached, Bluesky takes 4");
        let mut items = vec![jpeg(1000); 4];
        items.push(item("video/mp4", 1000, Some("clip")));
        let problems = check(NetworkKind::Mastodon, &items);
        assert_eq!(problems[0].message, "5 files attached, Mastodon takes 4");
        assert_eq!(problems[1].code, MediaProblemCode::MixedMedia);
        let two_videos = vec![item("video/mp4", 1000, Some("a")); 2];
        let problems = check(NetworkKind::X, &two_videos);
        assert_eq!(
            problems[0].message,
            "2 videos attached, X takes 1 video per post"
        );
    }

    #[test]
    fn mastodon_one_video_no_images() {
        let items = [jpeg(1000), item("video/mp4", 1000, Some("a clip"))];
        let problems = check(NetworkKind::Mastodon, &items);
        assert_eq!(
            codes(&problems),
            vec![(None, MediaProblemCode::MixedMedia, true)]
        );
        assert_eq!(
            problems[0].message,
            "Mastodon does not take images and a video in one post"
        );
        // Audio counts as the one video.
        let items = [
            item("audio/mpeg", 1000, Some("a")),
            item("video/mp4", 1, Some("b")),
        ];
        assert_eq!(
            check(NetworkKind::Mastodon, &items)[0].code,
            MediaProblemCode::TooMany
        );
    }

    #[test]
    fn too_large() {
        let problems = check(NetworkKind::Mastodon, &[jpeg(17 * MIB)]);
        assert_eq!(
            codes(&problems),
            vec![(Some(0), MediaProblemCode::TooLarge, true)]
        );
        assert_eq!(
            problems[0].message,
            "Image 1 is 17 MB, Mastodon takes at most 16 MB per image"
        );
        let problems = check(NetworkKind::X, &[jpeg(1000), jpeg(6 * MIB)]);
        assert_eq!(problems[0].index, Some(1));
        assert_eq!(
            problems[0].message,
            "Image 2 is 6 MB, X takes at most 5 MB per image"
        );
        // X takes GIFs up to 15 MB, alone.
        let gif = item("image/gif", 10 * MIB, Some("dancing"));
        assert!(check(NetworkKind::X, std::slice::from_ref(&gif)).is_empty());
        let problems = check(NetworkKind::X, &[jpeg(1000), gif]);
        assert_eq!(
            codes(&problems),
            vec![(Some(1), MediaProblemCode::MixedMedia, true)]
        );
        let big_video = item("video/mp4", 600 * MIB, Some("a"));
        assert_eq!(
            check(NetworkKind::X, &[big_video])[0].message,
            "Video 1 is 600 MB, X takes at most 512 MB per video"
        );
    }

    #[test]
    fn bluesky_reencodes_large_images() {
        let problems = check(NetworkKind::Bluesky, &[jpeg(3_100_000)]);
        assert_eq!(
            codes(&problems),
            vec![(Some(0), MediaProblemCode::TooLarge, false)]
        );
        assert_eq!(
            problems[0].message,
            "Image 1 is 3.1 MB; Postwerk will shrink it to Bluesky's 2 MB limit"
        );
        let rules = media_rules(NetworkKind::Bluesky, None);
        assert!(rules.reencode_to_fit);
        assert_eq!((rules.max_count, rules.max_image_bytes), (4, 2_000_000));
        // Videos are not re-encoded.
        let problems = check(
            NetworkKind::Bluesky,
            &[item("video/mp4", 150_000_000, Some("a"))],
        );
        assert!(problems[0].blocking);
    }

    #[test]
    fn unsupported_types() {
        let problems = check(NetworkKind::Bluesky, &[item("image/bmp", 10, Some("a"))]);
        assert_eq!(
            codes(&problems),
            vec![(Some(0), MediaProblemCode::UnsupportedType, true)]
        );
        assert_eq!(
            problems[0].message,
            "File 1 is image/bmp, which Bluesky does not take"
        );
        let problems = check(NetworkKind::Youtube, &[jpeg(10)]);
        assert_eq!(problems[0].code, MediaProblemCode::UnsupportedType);
        // Unknown networks check nothing about types.
        assert!(check(NetworkKind::Linkedin, &[item("image/bmp", 10, None)]).is_empty());
    }

    #[test]
    fn alt_text() {
        let problems = check(NetworkKind::Mastodon, &[item("image/png", 10, None)]);
        assert_eq!(
            codes(&problems),
            vec![(Some(0), MediaProblemCode::MissingAlt, false)]
        );
        assert_eq!(problems[0].message, "Image 1 has no alt text");
        let blank = check(NetworkKind::Bluesky, &[item("image/png", 10, Some("  "))]);
        assert_eq!(blank[0].code, MediaProblemCode::MissingAlt);
        let long = "a".repeat(1650);
        let problems = check(NetworkKind::Mastodon, &[item("image/png", 10, Some(&long))]);
        assert_eq!(
            codes(&problems),
            vec![(Some(0), MediaProblemCode::AltTooLong, true)]
        );
        assert_eq!(
            problems[0].message,
            "The alt text of image 1 is 1,650 characters, Mastodon takes 1,500"
        );
        // Bluesky: 2000 for images, 1000 for a video.
        assert!(check(NetworkKind::Bluesky, &[item("image/png", 10, Some(&long))]).is_empty());
        let problems = check(NetworkKind::Bluesky, &[item("video/mp4", 10, Some(&long))]);
        assert_eq!(problems[0].code, MediaProblemCode::AltTooLong);
        // Networks without alt text do not ask for it.
        assert!(check(NetworkKind::Youtube, &[item("video/mp4", 10, None)]).is_empty());
    }

    #[test]
    fn mastodon_rules_from_instance() {
        let info = InstanceInfo {
            domain: "big.example".into(),
            title: "Big".into(),
            version: "4.4.0".into(),
            max_characters: 5000,
            characters_reserved_per_url: 23,
            max_media_attachments: 8,
            image_size_limit: 32 * MIB,
            video_size_limit: 0,
            supported_mime_types: strings(&["image/jpeg", "image/png", "video/mp4", "audio/mpeg"]),
            description_limit: 3000,
        };
        let rules = media_rules(NetworkKind::Mastodon, Some(&info));
        assert_eq!(rules.max_count, 8);
        assert_eq!(rules.max_image_bytes, 32 * MIB);
        assert_eq!(
            rules.max_video_bytes,
            99 * MIB,
            "0 falls back to the default"
        );
        assert_eq!(rules.image_mime, strings(&["image/jpeg", "image/png"]));
        assert_eq!(rules.video_mime, strings(&["video/mp4", "audio/mpeg"]));
        assert_eq!(rules.alt_max_chars, 3000);
        assert!(!rules.mixing_allowed);
        let problems = check_media(
            NetworkKind::Mastodon,
            &[item("image/webp", 1, Some("a"))],
            &rules,
        );
        assert_eq!(problems[0].code, MediaProblemCode::UnsupportedType);
        // Without an instance: the stock defaults.
        let rules = media_rules(NetworkKind::Mastodon, None);
        assert_eq!(
            (
                rules.max_count,
                rules.max_image_bytes,
                rules.max_video_bytes,
                rules.alt_max_chars
            ),
            (4, 16_777_216, 103_809_024, 1500)
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(size(3_100_000, 2_000_000), "3.1 MB");
        assert_eq!(size(2_000_000, 2_000_000), "2 MB");
        assert_eq!(size(16 * MIB, 16 * MIB), "16 MB");
        assert_eq!(size(500, 2_000_000), "1 KB");
        assert_eq!(size(1536 * 1024, MIB), "1.5 MB");
    }

    #[test]
    fn serializes_camel_case() {
        let json =
            serde_json::to_value(&check(NetworkKind::Bluesky, &vec![jpeg(1); 5])[0]).unwrap();
        assert_eq!(json["code"], "tooMany");
        assert_eq!(json["index"], serde_json::Value::Null);
        let rules = serde_json::to_value(media_rules(NetworkKind::Bluesky, None)).unwrap();
        assert_eq!(rules["reencodeToFit"], true);
        assert_eq!(rules["maxImageBytes"], 2_000_000);
        let item: MediaItem = serde_json::from_str(
            r#"{"mime":"image/png","bytes":12,"alt":null,"width":1,"height":2}"#,
        )
        .unwrap();
        assert_eq!(item.bytes, 12);
    }
}

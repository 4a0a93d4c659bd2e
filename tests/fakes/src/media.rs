//! Media helpers both fakes use: content sniffing by magic bytes, image dimensions, CIDs and
//! TIDs as atproto makes them, and byte counts formatted like the `bytes` npm package.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::common::now_ms;

/// The MIME type the bytes say they are: PNG, JPEG, GIF, WebP or MP4 (ISO BMFF `ftyp`).
pub(crate) fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        Some("video/mp4")
    } else {
        None
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(
        bytes.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le16(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(
        bytes.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | (u32::from(b[1]) << 8) | (u32::from(b[2]) << 16))
}

/// Width and height of a PNG, JPEG, GIF or WebP image, read from its header.
pub(crate) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    match sniff(bytes)? {
        "image/png" => {
            // Signature, IHDR length and type, then width and height (big-endian u32).
            let w = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
            Some((w, h))
        }
        "image/gif" => Some((le16(bytes, 6)?, le16(bytes, 8)?)),
        "image/jpeg" => jpeg_dimensions(bytes),
        "image/webp" => {
            let chunk = bytes.get(12..16)?;
            match chunk {
                b"VP8 " => Some((le16(bytes, 26)? & 0x3FFF, le16(bytes, 28)? & 0x3FFF)),
                b"VP8L" => {
                    let b = bytes.get(21..25)?;
                    let bits = u32::from_le_bytes(b.try_into().ok()?);
                    Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
                }
                b"VP8X" => Some((le24(bytes, 24)? + 1, le24(bytes, 27)? + 1)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        // Skip fill bytes, then read the marker.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        at += 2;
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            continue;
        }
        let len = usize::try_from(be16(bytes, at)?).ok()?;
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let h = be16(bytes, at + 3)?;
            let w = be16(bytes, at + 5)?;
            return Some((w, h));
        }
        if marker == 0xD9 || marker == 0xDA {
            return None;
        }
        at += len;
    }
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// RFC 4648 base32, lowercase, no padding (multibase `b`).
pub(crate) fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut acc = 0_u32;
    let mut bits = 0;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

fn cid_v1(codec: u8, content: &[u8]) -> String {
    let mut bytes = vec![0x01, codec, 0x12, 0x20];
    bytes.extend_from_slice(&Sha256::digest(content));
    format!("b{}", base32(&bytes))
}

/// The CID atproto gives a blob: CIDv1, raw codec, sha2-256, base32 (`bafkrei...`).
pub(crate) fn blob_cid(bytes: &[u8]) -> String {
    cid_v1(0x55, bytes)
}

/// A CID with the dag-cbor codec (`bafyrei...`) over `content`. The fake hashes the JSON bytes
/// it stores instead of a DAG-CBOR encoding, so the value has the right shape but is not the
/// CID a real PDS would compute.
pub(crate) fn record_cid(content: &[u8]) -> String {
    cid_v1(0x71, content)
}

/// Whether `s` looks like a CIDv1 in base32 as atproto writes them.
pub(crate) fn is_cid(s: &str) -> bool {
    s.len() >= 8
        && s.starts_with('b')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

const TID_CHARS: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

static LAST_TID_MICROS: AtomicU64 = AtomicU64::new(0);

/// A new TID: 13 characters of base32-sortable, microseconds since the epoch in the high 53
/// bits and a clock id in the low 10. Strictly increasing within the process.
pub(crate) fn next_tid() -> String {
    let now = now_ms().saturating_mul(1000);
    let mut prev = LAST_TID_MICROS.load(Ordering::Relaxed);
    let micros = loop {
        let next = now.max(prev + 1);
        match LAST_TID_MICROS.compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(actual) => prev = actual,
        }
    };
    let value = ((micros & ((1 << 53) - 1)) << 10) | 0x1F;
    (0..13)
        .rev()
        .map(|i| char::from(TID_CHARS[((value >> (i * 5)) & 31) as usize]))
        .collect()
}

/// Whether `s` is a syntactically valid TID.
#[cfg(test)]
pub(crate) fn is_tid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 13 && b"234567abcdefghij".contains(&b[0]) && b.iter().all(|c| TID_CHARS.contains(c))
}

/// Formats like the `bytes` npm package does by default (1024-based units, at most two
/// decimals, trailing zeros removed): 2_000_000 is "1.91MB", 1_000_000 is "976.56KB".
pub(crate) fn format_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("PB", 1 << 50),
        ("TB", 1 << 40),
        ("GB", 1 << 30),
        ("MB", 1 << 20),
        ("KB", 1 << 10),
    ];
    let (unit, size) = UNITS
        .iter()
        .copied()
        .find(|&(_, size)| n >= size)
        .unwrap_or(("B", 1));
    // Two decimals, rounded half up, computed in integers.
    let hundredths = (u128::from(n) * 100 + u128::from(size) / 2) / u128::from(size);
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    let number = match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    };
    format!("{number}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_and_measures_the_embedded_images() {
        let png = crate::common::tiny_png([1, 2, 3]);
        assert_eq!(sniff(&png), Some("image/png"));
        assert_eq!(dimensions(&png), Some((16, 16)));
        let jpeg = include_bytes!("../assets/og.jpg");
        assert_eq!(sniff(jpeg), Some("image/jpeg"));
        assert_eq!(dimensions(jpeg), Some((120, 63)));
        let gif = b"GIF89a\x02\x00\x03\x00\x00\x00\x00;";
        assert_eq!(dimensions(gif), Some((2, 3)));
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn cids_have_the_atproto_prefixes() {
        // The CID of the empty blob, as every atproto implementation computes it.
        assert_eq!(
            blob_cid(b""),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
        assert!(record_cid(b"{}").starts_with("bafyrei"));
        assert!(is_cid(&blob_cid(b"x")));
        assert!(!is_cid("Qm123"));
    }

    #[test]
    fn tids_are_valid_and_increasing() {
        let a = next_tid();
        let b = next_tid();
        assert!(is_tid(&a) && is_tid(&b), "{a} {b}");
        assert!(a < b);
        assert!(!is_tid("3jzfcijpj2z2"));
        assert!(!is_tid("zzzzzzzzzzzzz"));
    }

    #[test]
    fn bytes_format_like_npm_bytes() {
        assert_eq!(format_bytes(2_000_000), "1.91MB");
        assert_eq!(format_bytes(1_000_000), "976.56KB");
        assert_eq!(format_bytes(52_428_800), "50MB");
        assert_eq!(format_bytes(1536), "1.5KB");
        assert_eq!(format_bytes(12), "12B");
    }
}

//! Media files: content-addressed copies in `<data>/media/`, checked by their bytes, and the
//! re-encoding Bluesky needs (shrink to fit its size limit; decoding and encoding again drops
//! EXIF and every other metadata block).

use std::io::Cursor;
use std::path::PathBuf;

use base64::Engine;
use image::{DynamicImage, GenericImageView, ImageFormat, ImageReader};
use postwerk_networks::http::sniff_image;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::store::{Store, now_utc};
use crate::{Error, Result};

/// Largest file Postwerk takes in (Mastodon's video limit is about 99 MB; images are far smaller).
pub const MAX_IMPORT_BYTES: usize = 100 * 1024 * 1024;
/// Edge of the thumbnails the composer shows.
const THUMB_EDGE: u32 = 320;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MediaInfo {
    /// sha256 of the bytes.
    pub id: String,
    pub mime: String,
    pub bytes: u32,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub file_name: String,
    /// A small JPEG thumbnail as a `data:` URL.
    pub thumbnail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MediaStore {
    store: Store,
    dir: PathBuf,
}

fn ext(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    }
}

fn format_of(mime: &str) -> Option<ImageFormat> {
    match mime {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

fn decode(bytes: &[u8], mime: &str) -> Result<DynamicImage> {
    let format = format_of(mime)
        .ok_or_else(|| Error::invalid("media", format!("{mime} is not an image")))?;
    ImageReader::with_format(Cursor::new(bytes), format)
        .decode()
        .map_err(|e| Error::invalid("media", format!("the image cannot be read: {e}")))
}

fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|e| Error::invalid("media", format!("the image cannot be encoded: {e}")))?;
    Ok(out)
}

fn thumbnail_jpeg(bytes: &[u8], mime: &str) -> Option<Vec<u8>> {
    let img = decode(bytes, mime).ok()?;
    encode_jpeg(&img.thumbnail(THUMB_EDGE, THUMB_EDGE), 80).ok()
}

fn data_url(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

/// An image re-encoded for a network with a byte limit: JPEG, metadata dropped, scaled down
/// step by step and compressed harder until it fits. Returns (bytes, mime, width, height).
pub fn reencode_to_fit(
    bytes: &[u8],
    mime: &str,
    max_bytes: usize,
) -> Result<(Vec<u8>, &'static str, u32, u32)> {
    let img = decode(bytes, mime)?;
    // Flatten transparency onto white: JPEG has no alpha.
    let img = if img.color().has_alpha() {
        let mut canvas =
            image::RgbImage::from_pixel(img.width(), img.height(), image::Rgb([255, 255, 255]));
        image::imageops::overlay(&mut canvas, &img.to_rgb8(), 0, 0);
        let rgba = img.to_rgba8();
        for (x, y, px) in canvas.enumerate_pixels_mut() {
            let p = rgba.get_pixel(x, y);
            let a = f32::from(p[3]) / 255.0;
            for c in 0..3 {
                px[c] = (f32::from(p[c]) * a + 255.0 * (1.0 - a)).round() as u8;
            }
        }
        DynamicImage::ImageRgb8(canvas)
    } else {
        img
    };
    let mut edge = img.width().max(img.height()).min(2000);
    loop {
        let scaled = if img.width().max(img.height()) > edge {
            img.resize(edge, edge, image::imageops::FilterType::Triangle)
        } else {
            img.clone()
        };
        for quality in [90u8, 80, 70, 60] {
            let out = encode_jpeg(&scaled, quality)?;
            if out.len() <= max_bytes {
                let (w, h) = scaled.dimensions();
                return Ok((out, "image/jpeg", w, h));
            }
        }
        if edge <= 320 {
            return Err(Error::invalid(
                "media",
                format!("the image cannot be made smaller than {max_bytes} bytes"),
            ));
        }
        edge = edge * 3 / 4;
    }
}

impl MediaStore {
    pub fn new(store: Store, dir: PathBuf) -> Self {
        Self { store, dir }
    }

    fn path_for(&self, id: &str, mime: &str) -> PathBuf {
        self.dir.join(format!("{id}.{}", ext(mime)))
    }

    /// Takes in a file's bytes: checks that it is an image Postwerk can post, stores it once
    /// (by its sha256) and returns what the composer shows.
    pub async fn import(&self, file_name: &str, bytes: Vec<u8>) -> Result<MediaInfo> {
        if bytes.is_empty() {
            return Err(Error::invalid("media", format!("{file_name} is empty")));
        }
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(Error::invalid(
                "media",
                format!(
                    "{file_name} is {} MB; Postwerk takes files up to 100 MB",
                    bytes.len() / 1_000_000
                ),
            ));
        }
        let mime = sniff_image(&bytes).ok_or_else(|| {
            Error::invalid(
                "media",
                format!("{file_name} is not a PNG, JPEG, GIF or WebP image"),
            )
        })?;
        let id = hex(&Sha256::digest(&bytes));
        let (width, height) = ImageReader::with_format(
            Cursor::new(&bytes),
            format_of(mime).unwrap_or(ImageFormat::Png),
        )
        .into_dimensions()
        .map_err(|e| {
            Error::invalid(
                "media",
                format!("{file_name} cannot be read as an image: {e}"),
            )
        })?;
        let path = self.path_for(&id, mime);
        if !path.exists() {
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| Error::io(format!("creating {}", self.dir.display()), e))?;
            let tmp = path.with_extension("part");
            std::fs::write(&tmp, &bytes)
                .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
            std::fs::rename(&tmp, &path)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        sqlx::query(
            "INSERT INTO media (id, mime, bytes, width, height, file_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(mime)
        .bind(bytes.len() as i64)
        .bind(width as i64)
        .bind(height as i64)
        .bind(&name)
        .bind(now_utc())
        .execute(self.store.pool())
        .await?;
        let thumb = self.thumbnail(&id, mime, Some(bytes.clone())).await;
        Ok(MediaInfo {
            id,
            mime: mime.to_string(),
            bytes: bytes.len() as u32,
            width: Some(width),
            height: Some(height),
            file_name: name,
            thumbnail: thumb,
        })
    }

    /// [`Self::import`] for bytes that crossed IPC as base64.
    pub async fn import_base64(&self, file_name: &str, data: &str) -> Result<MediaInfo> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| Error::invalid("media", format!("{file_name} did not arrive intact")))?;
        self.import(file_name, bytes).await
    }

    /// [`Self::info`] without the thumbnail (cheap; for checks).
    pub async fn info_light(&self, id: &str) -> Result<MediaInfo> {
        let row =
            sqlx::query("SELECT id, mime, bytes, width, height, file_name FROM media WHERE id = ?")
                .bind(id)
                .fetch_optional(self.store.pool())
                .await?
                .ok_or_else(|| Error::not_found(format!("media {id}")))?;
        Ok(MediaInfo {
            id: row.try_get("id")?,
            mime: row.try_get("mime")?,
            bytes: row.try_get::<i64, _>("bytes")? as u32,
            width: row.try_get::<Option<i64>, _>("width")?.map(|v| v as u32),
            height: row.try_get::<Option<i64>, _>("height")?.map(|v| v as u32),
            file_name: row.try_get("file_name")?,
            thumbnail: None,
        })
    }

    /// What the composer shows of a media file, with its thumbnail.
    pub async fn info(&self, id: &str) -> Result<MediaInfo> {
        let mut info = self.info_light(id).await?;
        info.thumbnail = self.thumbnail(id, &info.mime, None).await;
        Ok(info)
    }

    /// The thumbnail as a `data:` URL: made once (at import, or on first use) and kept next to
    /// the file, so a draft saved on every keystroke does not decode its images again.
    async fn thumbnail(&self, id: &str, mime: &str, bytes: Option<Vec<u8>>) -> Option<String> {
        let path = self.dir.join(format!("{id}.thumb.jpg"));
        if let Ok(jpeg) = tokio::fs::read(&path).await {
            return Some(data_url(&jpeg));
        }
        let bytes = match bytes {
            Some(b) => b,
            None => self.read_raw(id, mime).ok()?,
        };
        let mime = mime.to_string();
        let jpeg = tokio::task::spawn_blocking(move || thumbnail_jpeg(&bytes, &mime))
            .await
            .ok()
            .flatten()?;
        if let Err(e) = tokio::fs::write(&path, &jpeg).await {
            tracing::info!(error = %e, "thumbnail not kept");
        }
        Some(data_url(&jpeg))
    }

    fn read_raw(&self, id: &str, mime: &str) -> Result<Vec<u8>> {
        let path = self.path_for(id, mime);
        std::fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
    }

    /// The stored bytes and MIME type of a media file.
    pub async fn read(&self, id: &str) -> Result<(Vec<u8>, String)> {
        let mime: String = sqlx::query_scalar("SELECT mime FROM media WHERE id = ?")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or_else(|| Error::not_found(format!("media {id}")))?;
        Ok((self.read_raw(id, &mime)?, mime))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        }));
        let plain = encode_jpeg(&img, 95).unwrap();
        // Insert an APP1 "Exif" segment after SOI, carrying a GPS-like marker string.
        let payload = b"Exif\0\0GPS-SECRET-LOCATION-48.1371N-11.5754E";
        let len = (payload.len() + 2) as u16;
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn reencoding_fits_the_limit_and_drops_exif() {
        let original = jpeg_with_exif(3000, 2000);
        assert!(original.windows(10).any(|w| w == b"GPS-SECRET"));
        assert!(original.len() > 1_000_000, "{}", original.len());
        let (out, mime, w, h) = reencode_to_fit(&original, "image/jpeg", 1_000_000).unwrap();
        assert_eq!(mime, "image/jpeg");
        assert!(out.len() <= 1_000_000, "{}", out.len());
        assert!(
            !out.windows(10).any(|w| w == b"GPS-SECRET"),
            "EXIF survived"
        );
        assert!(!out.windows(4).any(|w| w == b"Exif"));
        assert_eq!(
            (w as f32 / h as f32 * 10.0).round(),
            15.0,
            "aspect ratio kept"
        );
    }

    #[test]
    fn transparent_png_becomes_jpeg_on_white() {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            10,
            10,
            image::Rgba([0, 0, 0, 0]),
        ));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let (out, _, _, _) = reencode_to_fit(&png, "image/png", 1_000_000).unwrap();
        let back = image::load_from_memory(&out).unwrap().to_rgb8();
        assert!(back.get_pixel(5, 5)[0] > 240, "transparent became white");
    }

    #[tokio::test]
    async fn import_checks_bytes_and_stores_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_memory().await.unwrap();
        let media = MediaStore::new(store, dir.path().join("media"));
        let err = media
            .import("evil.png", b"<svg onload=alert(1)>".to_vec())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not a PNG, JPEG, GIF or WebP"),
            "{err}"
        );
        assert!(media.import("empty.png", Vec::new()).await.is_err());
        let jpeg = jpeg_with_exif(64, 48);
        let a = media.import("photo.jpg", jpeg.clone()).await.unwrap();
        let b = media.import("copy.jpg", jpeg.clone()).await.unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!((a.width, a.height), (Some(64), Some(48)));
        assert!(a.thumbnail.unwrap().starts_with("data:image/jpeg;base64,"));
        assert_eq!(
            std::fs::read_dir(dir.path().join("media"))
                .unwrap()
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().ends_with(".thumb.jpg"))
                .count(),
            1,
            "the file is stored once"
        );
        // The thumbnail was kept and is reused.
        assert!(
            dir.path()
                .join("media")
                .join(format!("{}.thumb.jpg", a.id))
                .exists()
        );
        assert_eq!(media.info(&a.id).await.unwrap().thumbnail, b.thumbnail);
        assert_eq!(media.read(&a.id).await.unwrap().0, jpeg);
    }
}

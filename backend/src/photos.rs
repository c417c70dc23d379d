//! Product photos as staff and stall holders take them on a phone: a JPEG, PNG or WebP of up to
//! 10 MB is decoded (never trusted by its name or Content-Type), turned upright by its EXIF
//! orientation, shrunk to a thumbnail for lists and a larger picture for the product page, and
//! written back as JPEG. Nothing of the original's metadata survives the re-encoding: a phone's
//! GPS position never reaches residents. The two pictures are stored under names made from their
//! content (`<sha256>.jpg`, `<sha256>.t.jpg`), so they never change and are served with a
//! year-long immutable cache.

use crate::domain::Refusal;
use image::{DynamicImage, ImageDecoder, ImageFormat};
use sha2::{Digest, Sha256};
use shared::ErrorCode;
use std::path::{Path, PathBuf};

/// The largest photo taken, in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The longest side of the product page's picture, in pixels.
pub const LARGE_SIDE: u32 = 960;
/// The longest side of a list's thumbnail, in pixels: a card's picture is 64 CSS px, three times
/// that for a phone's dense screen; about 8 KB, so a first screen of photos stays under 60 KB.
pub const THUMB_SIDE: u32 = 192;
/// The most pixels decoded (a 50-megapixel phone photo; a "decompression bomb" is refused).
const MAX_PIXELS: u64 = 50_000_000;

/// A photo made ready: its name (the large picture's content hash) and both pictures' bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub key: String,
    pub large: Vec<u8>,
    pub thumb: Vec<u8>,
}

fn not_an_image(why: &str) -> Refusal {
    Refusal::new(
        ErrorCode::InvalidImage,
        format!("请上传 JPEG、PNG 或 WebP 照片 (a JPEG, PNG or WebP photo, please): {why}"),
    )
}

/// The format the bytes themselves say they are (their first bytes), whatever they are called.
fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Decodes, turns upright, shrinks and re-encodes a photo. CPU work: call it off the server's
/// threads (`web::block`).
pub fn prepare(bytes: &[u8]) -> Result<Prepared, Refusal> {
    let picture = upright(bytes)?;
    let large = jpeg(&shrink(&picture, LARGE_SIDE), 82)?;
    let thumb = jpeg(&shrink(&picture, THUMB_SIDE), 72)?;
    let key = hex(&Sha256::digest(&large))[..32].to_owned();
    Ok(Prepared { key, large, thumb })
}

/// A photo at the door (an order left there, nobody home), as the volunteer's phone took it:
/// upright, no larger than the product page's picture, its metadata (the phone's position)
/// gone. Its name: the order's, then its content's (`<order>-<sha256>.jpg`), so no two orders
/// share a file and forgetting one never takes another's. CPU work, as `prepare`.
pub fn prepare_door(order_id: i64, bytes: &[u8]) -> Result<(String, Vec<u8>), Refusal> {
    let picture = jpeg(&shrink(&upright(bytes)?, LARGE_SIDE), 78)?;
    let key = format!("{order_id}-{}", &hex(&Sha256::digest(&picture))[..24]);
    Ok((key, picture))
}

/// Decodes a photo (by what its bytes are), refusing bombs, and turns it upright, without
/// transparency.
fn upright(bytes: &[u8]) -> Result<DynamicImage, Refusal> {
    if bytes.is_empty() {
        return Err(not_an_image("the file is empty"));
    }
    let format = sniff(bytes).ok_or_else(|| not_an_image("not a picture"))?;
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| not_an_image(&e.to_string()))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(not_an_image("too many pixels"));
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| not_an_image(&e.to_string()))?;
    picture.apply_orientation(orientation);
    // JPEG has no transparency: a PNG's transparent parts become white, not black.
    Ok(flatten(picture))
}

fn flatten(picture: DynamicImage) -> DynamicImage {
    if !picture.color().has_alpha() {
        return DynamicImage::ImageRgb8(picture.into_rgb8());
    }
    let rgba = picture.into_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (to, from) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = from.0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        to.0 = [over(r), over(g), over(b)];
    }
    DynamicImage::ImageRgb8(rgb)
}

fn shrink(picture: &DynamicImage, side: u32) -> DynamicImage {
    if picture.width() <= side && picture.height() <= side {
        picture.clone()
    } else {
        picture.resize(side, side, image::imageops::FilterType::Triangle)
    }
}

fn jpeg(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    picture.write_with_encoder(encoder).map_err(|e| not_an_image(&e.to_string()))?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file names of a photo's two pictures.
pub fn file_names(key: &str) -> (String, String) {
    (format!("{key}.jpg"), format!("{key}.t.jpg"))
}

/// The addresses residents load a photo's pictures from: (thumbnail, large).
pub fn urls(key: &str) -> shared::api::Photo {
    let (large, thumb) = file_names(key);
    shared::api::Photo { thumb_url: format!("/photos/{thumb}"), url: format!("/photos/{large}") }
}

/// The file of a photo at the door in the private folder: `key` is one `prepare_door` made
/// (never a path a client sent).
pub fn door_file(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.jpg"))
}

/// Writes a photo at the door into the private folder (made if missing), whole or not at all.
pub fn store_door(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = door_file(dir, key);
    let aside = dir.join(format!(".{key}.{}", std::process::id()));
    std::fs::write(&aside, bytes)?;
    std::fs::rename(&aside, path)
}

/// Deletes photos at the door no order holds any more (forgotten, replaced, erased); one
/// already gone is no failure.
pub fn forget_doors(dir: &Path, keys: &[String]) {
    for key in keys {
        match std::fs::remove_file(door_file(dir, key)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, key, "deleting a photo at the door failed"),
        }
    }
}

/// Writes both pictures into `dir` (made if missing) under their names, each whole or not at
/// all (written aside, then renamed): several server processes may store the same photo at once.
pub fn store(dir: &Path, photo: &Prepared) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (large, thumb) = file_names(&photo.key);
    for (name, bytes) in [(large, &photo.large), (thumb, &photo.thumb)] {
        let path = dir.join(&name);
        if path.exists() {
            continue;
        }
        let aside: PathBuf = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&aside, bytes)?;
        std::fs::rename(&aside, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG of `w`×`h`, left half red, right half blue, with an EXIF block carrying
    /// `orientation` and a GPS position.
    fn photo(w: u32, h: u32, orientation: u16) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(w, h, |x, _| {
            if x < w / 2 {
                image::Rgb([220, 20, 20])
            } else {
                image::Rgb([20, 20, 220])
            }
        });
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&picture).expect("jpeg");
        // APP1 "Exif": a little-endian TIFF with IFD0 = {Orientation, GPSInfo pointer} and a GPS IFD.
        let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&0x0112u16.to_le_bytes());
        tiff.extend_from_slice(&3u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&u32::from(orientation).to_le_bytes());
        tiff.extend_from_slice(&0x8825u16.to_le_bytes());
        tiff.extend_from_slice(&4u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&38u32.to_le_bytes());
        tiff.extend_from_slice(&0u32.to_le_bytes());
        // GPS IFD at 38: GPSLatitudeRef = "N".
        tiff.extend_from_slice(&1u16.to_le_bytes());
        tiff.extend_from_slice(&1u16.to_le_bytes());
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&2u32.to_le_bytes());
        tiff.extend_from_slice(b"N\0\0\0");
        tiff.extend_from_slice(&0u32.to_le_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&u16::try_from(app1.len() + 2).expect("short").to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn a_phone_photo_is_turned_upright_shrunk_and_stripped() {
        // Orientation 6: the camera was turned; the picture must be rotated 90° clockwise.
        let original = photo(1600, 1200, 6);
        assert!(original.windows(6).any(|w| w == b"Exif\0\0"), "the test photo carries EXIF");
        let prepared = prepare(&original).expect("a photo");
        let large = image::load_from_memory(&prepared.large).expect("jpeg").to_rgb8();
        assert_eq!((large.width(), large.height()), (720, 960), "upright and at most 960 px");
        // Rotated clockwise, the left (red) half is on top.
        let top = large.get_pixel(360, 100).0;
        let bottom = large.get_pixel(360, 860).0;
        assert!(top[0] > 150 && top[2] < 100, "red on top: {top:?}");
        assert!(bottom[2] > 150 && bottom[0] < 100, "blue below: {bottom:?}");
        let thumb = image::load_from_memory(&prepared.thumb).expect("jpeg");
        assert_eq!((thumb.width(), thumb.height()), (144, 192));
        for bytes in [&prepared.large, &prepared.thumb] {
            assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF left");
        }
        assert_eq!(prepared.key.len(), 32);
        assert_eq!(prepare(&original).expect("again").key, prepared.key, "the same photo, the same name");
    }

    #[test]
    fn anything_but_a_picture_is_refused() {
        let code = |bytes: &[u8]| prepare(bytes).map(|_| ()).map_err(|r| r.code);
        assert_eq!(code(b""), Err(ErrorCode::InvalidImage));
        assert_eq!(code(b"PK\x03\x04 a zip renamed photo.jpg"), Err(ErrorCode::InvalidImage));
        assert_eq!(code(b"\xFF\xD8\xFF\xE0 a JPEG's start and then nothing"), Err(ErrorCode::InvalidImage));
        assert_eq!(code(b"GIF89a"), Err(ErrorCode::InvalidImage));
        let mut png = Vec::new();
        image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(40, 20, image::Rgba([0, 0, 0, 0])))
            .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
            .expect("png");
        let made = prepare(&png).expect("a transparent PNG");
        let pixel = image::load_from_memory(&made.large).expect("jpeg").to_rgb8().get_pixel(5, 5).0;
        assert!(pixel.iter().all(|c| *c > 240), "transparent is white: {pixel:?}");
    }
}

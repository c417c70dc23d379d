//! Photos for the demo's goods, drawn here (no free photos of 85 stalls' goods are at hand): a
//! soft background and the product as a round shape in its own colour with a highlight (a box
//! as a crate), made into a photo by the same path a stall holder's upload takes (`photos.rs`).

use crate::photos;
use crate::store::{Store, StoreResult};
use image::{Rgb, RgbImage};

/// The colour a product is drawn in, from what its name says it is.
fn colour(name: &str, category: &str) -> [u8; 3] {
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["黄瓜", "青", "葱", "芹", "菠", "生菜", "西兰花", "豆角", "丝瓜", "苦瓜", "韭", "莴"]) {
        [70, 160, 70]
    } else if has(&["番茄", "西红柿", "苹果", "草莓", "辣椒", "樱桃", "红"]) {
        [205, 45, 40]
    } else if has(&["胡萝卜", "橙", "橘", "南瓜", "柿"]) {
        [235, 130, 30]
    } else if has(&["香蕉", "玉米", "柠檬", "梨", "黄"]) {
        [240, 200, 60]
    } else if has(&["茄子", "紫", "葡萄"]) {
        [110, 50, 120]
    } else if has(&["土豆", "姜", "蘑菇", "香菇", "洋葱", "核桃", "板栗"]) {
        [170, 120, 70]
    } else if has(&["蛋"]) {
        [240, 225, 195]
    } else if has(&["豆腐", "米", "面", "馒头", "饺", "白萝卜", "山药", "蒜"]) {
        [245, 240, 225]
    } else if has(&["肉", "排骨", "鸡", "鸭", "牛", "羊"]) {
        [200, 90, 90]
    } else if has(&["鱼", "虾", "蟹", "贝"]) {
        [120, 150, 175]
    } else if has(&["油"]) {
        [230, 190, 70]
    } else {
        match category {
            "fruit" => [230, 90, 60],
            "meat" => [200, 90, 90],
            "seafood" => [120, 150, 175],
            "egg" => [240, 225, 195],
            "grain_oil" | "staple" | "tofu" => [240, 230, 200],
            _ => [70, 160, 70],
        }
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> Rgb<u8> {
    let m = |x: u8, y: u8| (f32::from(x) * (1.0 - t) + f32::from(y) * t).round() as u8;
    Rgb([m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])])
}

/// A 480×360 drawing of the product: a background tinted by its colour, the product as a shaded
/// round shape with a highlight (or a crate for a box), a shadow under it.
pub fn drawing(name: &str, category: &str, is_box: bool) -> RgbImage {
    let (w, h) = (480u32, 360u32);
    let c = if is_box { [190, 140, 80] } else { colour(name, category) };
    let light = [252, 250, 244];
    // Each product a little different: its name moves the shape.
    let seed = name.chars().fold(7u32, |s, ch| s.wrapping_mul(31).wrapping_add(ch as u32));
    let (cx, cy) = (240.0 + (seed % 41) as f32 - 20.0, 175.0 + (seed / 41 % 21) as f32 - 10.0);
    let (rx, ry) = (120.0 + (seed % 23) as f32, 100.0 + (seed / 23 % 19) as f32);
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let background = mix(light, c, 0.12 + 0.10 * fy / h as f32);
        let shadow = ((fx - cx) / (rx * 1.05)).powi(2) + ((fy - (cy + ry * 0.95)) / (ry * 0.25)).powi(2) < 1.0;
        if is_box {
            let inside = (fx - cx).abs() < rx && (fy - cy).abs() < ry * 0.8;
            let slat = ((fy - cy + ry).max(0.0) as u32 / 40).is_multiple_of(2);
            return match (inside, shadow) {
                (true, _) if (fx - cx).abs() > rx - 8.0 || (fy - cy).abs() > ry * 0.8 - 8.0 => {
                    mix(c, [60, 40, 20], 0.5)
                }
                (true, _) => mix(c, [255, 255, 255], if slat { 0.0 } else { 0.15 }),
                (false, true) => mix(light, [0, 0, 0], 0.18),
                _ => background,
            };
        }
        let d = ((fx - cx) / rx).powi(2) + ((fy - cy) / ry).powi(2);
        if d < 1.0 {
            // Shaded towards the lower right, lit at the upper left.
            let hx = (fx - (cx - rx * 0.35)) / (rx * 0.35);
            let hy = (fy - (cy - ry * 0.4)) / (ry * 0.25);
            if hx * hx + hy * hy < 1.0 {
                return mix(c, [255, 255, 255], 0.55);
            }
            mix(c, [0, 0, 0], 0.35 * d)
        } else if shadow {
            mix(light, [0, 0, 0], 0.18)
        } else {
            background
        }
    })
}

/// Draws a photo for each product that has none, as the market's own set-up would give it.
/// How many were drawn.
pub async fn draw(store: &Store, dir: &std::path::Path) -> StoreResult<usize> {
    let staff = store.accounts().user_for_phone(super::STAFF_PHONE, chrono::Utc::now()).await?;
    let mut drawn = 0;
    for p in store.setup().without_photo().await? {
        let dir = dir.to_owned();
        let made = tokio::task::spawn_blocking(move || -> Option<photos::Prepared> {
            let mut png = Vec::new();
            let picture = image::DynamicImage::ImageRgb8(drawing(&p.name, &p.category, p.is_box));
            picture.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).ok()?;
            let prepared = photos::prepare(&png).ok()?;
            photos::store(&dir, &prepared).ok()?;
            Some(prepared)
        })
        .await
        .ok()
        .flatten();
        if let Some(prepared) = made {
            store.setup().set_photo(p.id, &prepared.key, staff.id, chrono::Utc::now()).await?;
            drawn += 1;
        }
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_product_is_drawn_in_its_own_colour() {
        let tomato = drawing("西红柿", "vegetable", false);
        let cucumber = drawing("黄瓜", "vegetable", false);
        let centre = |p: &RgbImage| p.get_pixel(250, 190).0;
        assert!(centre(&tomato)[0] > centre(&tomato)[1], "a tomato is red: {:?}", centre(&tomato));
        assert_ne!(centre(&tomato), centre(&cucumber));
        let crate_ = drawing("一周菜盒", "box", true);
        assert_eq!((crate_.width(), crate_.height()), (480, 360));
    }
}

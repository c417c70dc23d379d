//! QR codes as SVG: the hand-off code on the resident's order page, drawn by the server so the
//! residents' download carries no encoder. Dark modules are drawn as horizontal runs, one path.

use qrcodegen::{QrCode, QrCodeEcc};

/// `text` as a QR code, an SVG document with a quiet zone of four modules that scales to its
/// box (`crisp-edges`, so a phone's camera sees sharp modules). None if the text is too long.
pub fn svg(text: &str) -> Option<String> {
    // Medium correction: a phone screen with glare or a crack still reads.
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let mut path = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if qr.get_module(x, y) {
                let start = x;
                while x < size && qr.get_module(x, y) {
                    x += 1;
                }
                path.push_str(&format!("M{} {}h{}v1h-{}z", start + 4, y + 4, x - start, x - start));
            } else {
                x += 1;
            }
        }
    }
    let side = size + 8;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

/// The dark modules of `text`'s QR code, row by row (for tests that show it to a camera).
pub fn modules(text: &str) -> Option<Vec<Vec<bool>>> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    Some((0..qr.size()).map(|y| (0..qr.size()).map(|x| qr.get_module(x, y)).collect()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handoff_code_is_a_small_svg_whose_runs_are_the_dark_modules() {
        let text = shared::order::handoff_qr_text(123_456, "045678");
        let svg = svg(&text).expect("fits");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.len() < 4_000, "{} bytes", svg.len());
        let grid = modules(&text).expect("fits");
        let dark: i32 = grid.iter().flatten().filter(|d| **d).count() as i32;
        let drawn: i32 = svg.split('h').skip(1).filter_map(|run| run.split('v').next()?.parse::<i32>().ok()).sum();
        assert_eq!(drawn, dark, "every dark module drawn once");
        // Finder pattern: the top-left 7x7 has a dark ring.
        assert!(grid[0][..7].iter().all(|d| *d) && grid[6][..7].iter().all(|d| *d));
    }
}

//! The unread count drawn into the tray icon, for trays that show no label
//! (Windows; many Linux panels). Tiny bitmap digits: no font engine needed.
//! No Tauri here.

/// 3×5 glyphs for 0-9 and '+', one row per u8 (bits 2..0 = left..right).
const GLYPHS: [[u8; 5]; 11] = [
    [0b111, 0b101, 0b101, 0b101, 0b111], // 0
    [0b010, 0b110, 0b010, 0b010, 0b111], // 1
    [0b111, 0b001, 0b111, 0b100, 0b111], // 2
    [0b111, 0b001, 0b111, 0b001, 0b111], // 3
    [0b101, 0b101, 0b111, 0b001, 0b001], // 4
    [0b111, 0b100, 0b111, 0b001, 0b111], // 5
    [0b111, 0b100, 0b111, 0b101, 0b111], // 6
    [0b111, 0b001, 0b010, 0b010, 0b010], // 7
    [0b111, 0b101, 0b111, 0b101, 0b111], // 8
    [0b111, 0b101, 0b111, 0b001, 0b111], // 9
    [0b000, 0b010, 0b111, 0b010, 0b000], // +
];

/// The label drawn for a count: "1".."99", then "99+".
pub fn label(count: u64) -> String {
    if count > 99 {
        "99+".into()
    } else {
        count.to_string()
    }
}

/// Returns `rgba` (width × height) with a red disc and the count in its
/// lower-right half. A count of zero returns the icon unchanged.
pub fn draw(rgba: &[u8], width: u32, height: u32, count: u64) -> Vec<u8> {
    let mut out = rgba.to_vec();
    if count == 0 || width < 16 || height < 16 || rgba.len() != (width * height * 4) as usize {
        return out;
    }
    let text = label(count);
    let size = width.min(height) as i64;
    // Disc: 60% of the icon, anchored bottom-right.
    let d = size * 3 / 5;
    let (cx, cy, r) = (width as i64 - d / 2 - 1, height as i64 - d / 2 - 1, d / 2);
    let mut put = |x: i64, y: i64, c: [u8; 4]| {
        if x >= 0 && y >= 0 && x < width as i64 && y < height as i64 {
            let i = ((y * width as i64 + x) * 4) as usize;
            out[i..i + 4].copy_from_slice(&c);
        }
    };
    for y in cy - r..=cy + r {
        for x in cx - r..=cx + r {
            if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                put(x, y, [0xe5, 0x48, 0x4d, 0xff]);
            }
        }
    }
    // Glyph scale so the label fits the disc: each glyph 3 wide + 1 gap.
    let cols = text.len() as i64 * 4 - 1;
    let scale = ((d * 4 / 5) / cols).clamp(1, (d * 3 / 5) / 5);
    let (w, h) = (cols * scale, 5 * scale);
    let (x0, y0) = (cx - w / 2, cy - h / 2);
    for (k, ch) in text.chars().enumerate() {
        let g = match ch {
            '0'..='9' => GLYPHS[ch as usize - '0' as usize],
            _ => GLYPHS[10],
        };
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(x0 + (k as i64 * 4 + col) * scale + dx, y0 + row as i64 * scale + dy, [0xff; 4]);
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icon(n: u32) -> Vec<u8> {
        vec![0x20; (n * n * 4) as usize]
    }

    fn count(px: &[u8], c: [u8; 4]) -> usize {
        px.chunks(4).filter(|p| *p == c).count()
    }

    #[test]
    fn zero_leaves_the_icon() {
        assert_eq!(draw(&icon(32), 32, 32, 0), icon(32));
    }

    #[test]
    fn draws_a_red_disc_with_white_digits() {
        let a = draw(&icon(32), 32, 32, 7);
        let b = draw(&icon(32), 32, 32, 8);
        assert!(count(&a, [0xe5, 0x48, 0x4d, 0xff]) > 150, "red disc");
        assert!(count(&a, [0xff; 4]) > 10, "white digit");
        // 8 has more lit cells than 7, so the digits really differ.
        assert!(count(&b, [0xff; 4]) > count(&a, [0xff; 4]));
        // The top-left corner (the bell) is untouched.
        assert_eq!(&a[..4], &[0x20; 4]);
    }

    #[test]
    fn large_counts_are_capped() {
        assert_eq!(label(5), "5");
        assert_eq!(label(99), "99");
        assert_eq!(label(100), "99+");
        let img = draw(&icon(64), 64, 64, 1234);
        assert!(count(&img, [0xff; 4]) > 20);
    }

    #[test]
    fn bad_sizes_are_left_alone() {
        assert_eq!(draw(&[1, 2, 3], 32, 32, 5), vec![1, 2, 3]);
    }
}

//! Character classes asked of every character of every post, answered from a bit per code
//! point of the Basic Multilingual Plane. `char::is_alphanumeric` and a general-category lookup
//! search Unicode's tables each time; on a stream in many scripts (Japanese, Arabic, Thai...)
//! that search was the tokenisers' largest single cost. The answers are the same: the bitmaps
//! are built from those very functions, once per process.

use std::sync::OnceLock;

/// One bit per code point below U+10000 (8 KiB).
pub type Plane = [u64; 1024];

fn build(class: fn(char) -> bool) -> Box<Plane> {
    let mut bits = Box::new([0u64; 1024]);
    for c in (0..0x1_0000u32).filter_map(char::from_u32) {
        if class(c) {
            bits[c as usize / 64] |= 1 << (c as usize % 64);
        }
    }
    bits
}

/// `class(c)`, from the bitmap kept in `cell` (built on first use) below U+10000.
#[inline]
pub fn cached(cell: &'static OnceLock<Box<Plane>>, c: char, class: fn(char) -> bool) -> bool {
    let i = c as usize;
    if i >= 0x1_0000 {
        return class(c);
    }
    let bits = cell.get_or_init(|| build(class));
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// Rust's `char::is_alphanumeric` (Alphabetic or Numeric).
#[inline]
pub fn is_alphanumeric(c: char) -> bool {
    static PLANE: OnceLock<Box<Plane>> = OnceLock::new();
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    cached(&PLANE, c, char::is_alphanumeric)
}

/// Whether `c` lower-cases to itself (no case, or already lower case): then lowering a word
/// is copying its bytes.
#[inline]
pub fn lowers_to_itself(c: char) -> bool {
    static PLANE: OnceLock<Box<Plane>> = OnceLock::new();
    if c.is_ascii() {
        return !c.is_ascii_uppercase();
    }
    cached(&PLANE, c, |c| {
        let mut lower = c.to_lowercase();
        lower.next() == Some(c) && lower.next().is_none()
    })
}

/// Rust's `char::is_uppercase`.
#[inline]
pub fn is_uppercase(c: char) -> bool {
    static PLANE: OnceLock<Box<Plane>> = OnceLock::new();
    if c.is_ascii() {
        return c.is_ascii_uppercase();
    }
    cached(&PLANE, c, char::is_uppercase)
}

/// Rust's `char::is_lowercase`.
#[inline]
pub fn is_lowercase(c: char) -> bool {
    static PLANE: OnceLock<Box<Plane>> = OnceLock::new();
    if c.is_ascii() {
        return c.is_ascii_lowercase();
    }
    cached(&PLANE, c, char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bitmap_agrees_with_the_standard_library_on_every_code_point() {
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?}");
            assert_eq!(is_uppercase(c), c.is_uppercase(), "{c:?}");
            assert_eq!(is_lowercase(c), c.is_lowercase(), "{c:?}");
            let lower: String = c.to_lowercase().collect();
            assert_eq!(lowers_to_itself(c), lower == c.to_string(), "{c:?}");
        }
    }
}

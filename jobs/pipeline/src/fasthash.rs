//! A fast hash for the scorer's per-tweet lookups (LabMT words, tweet ids, fences): FxHash's
//! multiply-rotate over 8 bytes at a time. SipHash's protection against chosen collisions is
//! not needed: the word table never grows, and ids are Twitter's, not a user's choice.

use std::hash::{BuildHasherDefault, Hasher};

pub type FastHash = BuildHasherDefault<FastHasher>;

#[derive(Default)]
pub struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

/// The last `bytes` (fewer than 8) as a little-endian number padded with zeros, read without
/// a call to `memcpy` (most words end in such a tail: the copy cost more than the hash). Two
/// overlapping reads put each byte where the padded read would.
#[inline]
pub(crate) fn tail(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    debug_assert!(n < 8);
    if n >= 4 {
        let lo = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let hi = u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]);
        u64::from(lo) | u64::from(hi) << ((n - 4) * 8)
    } else if n > 0 {
        u64::from(bytes[0])
            | u64::from(bytes[n / 2]) << (n / 2 * 8)
            | u64::from(bytes[n - 1]) << ((n - 1) * 8)
    } else {
        0
    }
}

/// The most bytes [`sixteen`] reads.
pub(crate) const SIXTEEN: usize = 16;

/// A word of at most [`SIXTEEN`] bytes as two zero-padded little-endian numbers: the word
/// itself, held in a table's slot and compared in two steps (zero padding makes `ab` and
/// `ab\0` the same: a table compares the lengths too).
pub(crate) fn sixteen(word: &[u8]) -> [u64; 2] {
    debug_assert!(word.len() <= SIXTEEN);
    let eight = |b: &[u8]| {
        if b.len() == 8 {
            u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        } else {
            tail(b)
        }
    };
    match word.split_at_checked(8) {
        Some((lo, hi)) => [eight(lo), eight(hi)],
        None => [eight(word), 0],
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        self.add(tail(rest) ^ (rest.len() as u64) << 56);
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_i32(&mut self, i: i32) {
        self.add(i as u64);
    }

    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sixteen bytes at most read as a zero-padded copy reads them, at every length.
    #[test]
    fn sixteen_is_the_padded_little_endian_read() {
        let bytes: Vec<u8> = (1..=16).map(|b| b * 13 + 1).collect();
        for n in 0..=16 {
            let mut padded = [0u8; 16];
            padded[..n].copy_from_slice(&bytes[..n]);
            let want = [
                u64::from_le_bytes(padded[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(padded[8..].try_into().expect("8 bytes")),
            ];
            assert_eq!(sixteen(&bytes[..n]), want, "{n} bytes");
        }
    }

    /// The tail reads what a zero-padded copy reads, at every length: the classifier's hashed
    /// features (and so the shipped model) depend on these values.
    #[test]
    fn the_tail_is_the_padded_little_endian_read() {
        let bytes: Vec<u8> = (1..=7).map(|b| b * 31 + 3).collect();
        for n in 0..8 {
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(tail(&bytes[..n]), u64::from_le_bytes(padded), "{n} bytes");
        }
        let mut h = FastHasher::default();
        h.write(b"happiness");
        // FxHash's steps over "happines" then "s" padded, as before this read.
        let mut expected = FastHasher::default();
        expected.add(u64::from_le_bytes(*b"happines"));
        expected.add(u64::from(b's') ^ 1 << 56);
        assert_eq!(h.finish(), expected.finish());
    }
}

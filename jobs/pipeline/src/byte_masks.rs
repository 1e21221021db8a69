//! The bytes of a text sorted into classes as bit masks, one bit per byte, 16 bytes at a time:
//! what VADER's split reads (ASCII spaces, punctuation, `@`, capitals, small letters, word
//! characters, bytes beyond ASCII, `!` and `?`) and what LabMT's tokens are made of. A word's
//! bounds, its case and whether it is a mention are then a few bit operations each, not a loop
//! with a branch per byte (whose mispredictions, at every word's unpredictable length, cost
//! more than the work).

/// 64 bytes' classes, one bit per byte (bit `j`: byte `64 * block + j`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Block {
    /// Python's `str.isspace` of an ASCII byte: ` `, `\t`..`\r`, `\x1c`..`\x1f`.
    pub space: u64,
    /// `u8::is_ascii_punctuation` (`@` included).
    pub punct: u64,
    pub at: u64,
    pub upper: u64,
    pub lower: u64,
    /// Letters, digits and `_` (which is punctuation too).
    pub word: u64,
    /// A byte of UTF-8 beyond ASCII (0x80 and above), which is in no other class.
    pub high: u64,
    /// `!` and `?` (VADER counts them for emphasis).
    pub bang: u64,
    pub question: u64,
    /// A character of LabMT's tokens, `[\w@#'&\]*\-/\[=;]`, among ASCII bytes.
    pub token: u64,
}

/// The punctuation LabMT's tokens hold besides word characters.
const TOKEN_PUNCT: [u8; 11] = [
    b'@', b'#', b'\'', b'&', b']', b'*', b'-', b'/', b'[', b'=', b';',
];

/// The masks of one text; kept between texts so that its buffer is reused.
#[derive(Debug, Default)]
pub struct ByteMasks {
    blocks: Vec<Block>,
    len: usize,
}

#[cfg(any(test, not(target_arch = "x86_64")))]
const SPACE: u8 = 1;
#[cfg(any(test, not(target_arch = "x86_64")))]
const PUNCT: u8 = 1 << 1;
#[cfg(any(test, not(target_arch = "x86_64")))]
const AT: u8 = 1 << 2;
#[cfg(any(test, not(target_arch = "x86_64")))]
const UPPER: u8 = 1 << 3;
#[cfg(any(test, not(target_arch = "x86_64")))]
const LOWER: u8 = 1 << 4;
#[cfg(any(test, not(target_arch = "x86_64")))]
const WORD: u8 = 1 << 5;
/// Not in the table: what the tests call a byte beyond ASCII, and a character of LabMT's
/// tokens.
#[cfg(test)]
const HIGH: u8 = 1 << 6;
#[cfg(test)]
const TOKEN: u8 = 1 << 7;

/// Per ASCII byte, its classes (the scalar way, and what the vector way is tested against).
#[cfg(any(test, not(target_arch = "x86_64")))]
const CLASSES: [u8; 128] = {
    let mut table = [0; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c == b' ' || (c >= b'\t' && c <= b'\r') || (c >= 0x1c && c <= 0x1f) {
            SPACE
        } else if c == b'@' {
            PUNCT | AT
        } else if c == b'_' {
            PUNCT | WORD
        } else if c.is_ascii_punctuation() {
            PUNCT
        } else if c.is_ascii_uppercase() {
            UPPER | WORD
        } else if c.is_ascii_lowercase() {
            LOWER | WORD
        } else if c.is_ascii_digit() {
            WORD
        } else {
            0
        };
        b += 1;
    }
    table
};

/// One block the scalar way: `bytes` (at most 64).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn block_scalar(bytes: &[u8]) -> Block {
    let mut b = Block::default();
    for (j, &byte) in bytes.iter().enumerate() {
        let c = if byte.is_ascii() {
            u64::from(CLASSES[usize::from(byte)])
        } else {
            b.high |= 1 << j;
            0
        };
        b.bang |= u64::from(byte == b'!') << j;
        b.question |= u64::from(byte == b'?') << j;
        b.token |= u64::from(c & u64::from(WORD) != 0 || TOKEN_PUNCT.contains(&byte)) << j;
        b.space |= (c & 1) << j;
        b.punct |= (c >> 1 & 1) << j;
        b.at |= (c >> 2 & 1) << j;
        b.upper |= (c >> 3 & 1) << j;
        b.lower |= (c >> 4 & 1) << j;
        b.word |= (c >> 5 & 1) << j;
    }
    b
}

/// One full block with SSE2 (every x86-64 has it). Compared as signed bytes, every byte
/// beyond ASCII is negative: below every range below, and in none of them. `WORDS`: the
/// classes VADER's split reads (all but `token`); `TOKENS`: `token` (LabMT's). `high` always.
/// A caller that reads one set is spared the compares of the other: LabMT's tokens need
/// about a third of them.
#[cfg(target_arch = "x86_64")]
fn block_sse2<const WORDS: bool, const TOKENS: bool>(bytes: &[u8; 64]) -> Block {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of x86-64; each load reads 16 of the array's 64 bytes.
    unsafe {
        let within = |x: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(x, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(x, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let eq = |x: __m128i, c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
        let bits = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16);
        let mut b = Block::default();
        for k in 0..4 {
            let x = _mm_loadu_si128(bytes.as_ptr().add(16 * k).cast());
            let shift = 16 * k;
            let upper = within(x, b'A', b'Z');
            let lower = within(x, b'a', b'z');
            let word = _mm_or_si128(
                _mm_or_si128(upper, lower),
                _mm_or_si128(within(x, b'0', b'9'), eq(x, b'_')),
            );
            b.high |= bits(x) << shift;
            if WORDS {
                let space = _mm_or_si128(
                    _mm_or_si128(eq(x, b' '), within(x, b'\t', b'\r')),
                    within(x, 0x1c, 0x1f),
                );
                let punct = _mm_or_si128(
                    _mm_or_si128(within(x, b'!', b'/'), within(x, b':', b'@')),
                    _mm_or_si128(within(x, b'[', b'`'), within(x, b'{', b'~')),
                );
                b.space |= bits(space) << shift;
                b.punct |= bits(punct) << shift;
                b.at |= bits(eq(x, b'@')) << shift;
                b.upper |= bits(upper) << shift;
                b.lower |= bits(lower) << shift;
                b.word |= bits(word) << shift;
                b.bang |= bits(eq(x, b'!')) << shift;
                b.question |= bits(eq(x, b'?')) << shift;
            }
            if TOKENS {
                let token = TOKEN_PUNCT
                    .iter()
                    .fold(word, |m, &c| _mm_or_si128(m, eq(x, c)));
                b.token |= bits(token) << shift;
            }
        }
        b
    }
}

/// A block's classes: `WORDS` and `TOKENS` as [`block_sse2`] reads them.
#[cfg(target_arch = "x86_64")]
fn block<const WORDS: bool, const TOKENS: bool>(bytes: &[u8; 64]) -> Block {
    block_sse2::<WORDS, TOKENS>(bytes)
}

/// Every class, whatever is asked (the scalar way is for other targets only).
#[cfg(not(target_arch = "x86_64"))]
fn block<const WORDS: bool, const TOKENS: bool>(bytes: &[u8; 64]) -> Block {
    block_scalar(bytes)
}

/// The mask of bits `from % 64..` of a block, for a search that starts at `from`.
fn from_bit(from: usize) -> u64 {
    u64::MAX << (from % 64)
}

impl ByteMasks {
    /// Classifies `bytes`: every class.
    pub fn fill(&mut self, bytes: &[u8]) {
        self.fill_with(bytes, block::<true, true>);
    }

    /// Classifies `bytes` for VADER's split: every class but `token`, which stays empty.
    pub fn fill_words(&mut self, bytes: &[u8]) {
        self.fill_with(bytes, block::<true, false>);
    }

    /// Classifies `bytes` for LabMT's tokens: `token` and `high` only; the rest stay empty.
    pub fn fill_tokens(&mut self, bytes: &[u8]) {
        self.fill_with(bytes, block::<false, true>);
    }

    fn fill_with(&mut self, bytes: &[u8], block: impl Fn(&[u8; 64]) -> Block) {
        self.blocks.clear();
        self.len = bytes.len();
        let mut chunks = bytes.chunks_exact(64);
        for chunk in &mut chunks {
            if let Ok(chunk) = <&[u8; 64]>::try_from(chunk) {
                self.blocks.push(block(chunk));
            }
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Past the end: spaces, as if the text went on blank.
            let mut tail = [b' '; 64];
            tail[..rest.len()].copy_from_slice(rest);
            self.blocks.push(block(&tail));
        }
    }

    /// Marks byte `i` a space (the bytes of a space beyond ASCII, which only UTF-8 decoding
    /// tells).
    pub fn set_space(&mut self, i: usize) {
        self.blocks[i / 64].space |= 1 << (i % 64);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first byte in `from..to` whose bit in `class(block)` is set, or `to`.
    pub fn find(&self, class: impl Fn(&Block) -> u64, from: usize, to: usize) -> usize {
        if from >= to {
            return to;
        }
        let mut k = from / 64;
        let mut m = class(&self.blocks[k]) & from_bit(from);
        loop {
            if m != 0 {
                return (k * 64 + m.trailing_zeros() as usize).min(to);
            }
            k += 1;
            if k * 64 >= to {
                return to;
            }
            m = class(&self.blocks[k]);
        }
    }

    /// The last byte in `from..to` whose bit in `class(block)` is set, or `None`.
    pub fn rfind(&self, class: impl Fn(&Block) -> u64, from: usize, to: usize) -> Option<usize> {
        if from >= to {
            return None;
        }
        let last = to - 1;
        let mut k = last / 64;
        // Bits up to `last % 64`.
        let mut m = class(&self.blocks[k]) & (u64::MAX >> (63 - last % 64));
        loop {
            if m != 0 {
                let at = k * 64 + 63 - m.leading_zeros() as usize;
                return (at >= from).then_some(at);
            }
            if k * 64 <= from {
                return None;
            }
            k -= 1;
            m = class(&self.blocks[k]);
        }
    }

    /// How many bytes of the text have their bit in `class(block)` set.
    pub fn count(&self, class: impl Fn(&Block) -> u64) -> usize {
        // The bytes past the end are spaces, in no class but that one.
        self.blocks
            .iter()
            .map(|b| class(b).count_ones() as usize)
            .sum()
    }

    /// Whether any byte in `from..to` has its bit in `class(block)` set.
    pub fn any(&self, class: impl Fn(&Block) -> u64, from: usize, to: usize) -> bool {
        self.find(class, from, to) < to
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_byte_in_every_lane_is_classified_as_the_scalar_table_says() {
        for byte in 0u8..=255 {
            for lane in 0..64 {
                let mut bytes = [b'x'; 64];
                bytes[lane] = byte;
                assert_eq!(
                    block::<true, true>(&bytes),
                    block_scalar(&bytes),
                    "byte {byte:#x} at {lane}"
                );
            }
        }
        // And the table is std's reading of each byte.
        for byte in 0u8..128 {
            let c = CLASSES[usize::from(byte)];
            assert_eq!(c & PUNCT != 0, byte.is_ascii_punctuation(), "{byte:#x}");
            assert_eq!(c & UPPER != 0, byte.is_ascii_uppercase(), "{byte:#x}");
            assert_eq!(c & LOWER != 0, byte.is_ascii_lowercase(), "{byte:#x}");
            let word = byte.is_ascii_alphanumeric() || byte == b'_';
            assert_eq!(c & WORD != 0, word, "{byte:#x}");
            let space = char::from(byte).is_whitespace() || (0x1c..=0x1f).contains(&byte);
            assert_eq!(c & SPACE != 0, space, "{byte:#x}");
            let token = block_scalar(&[byte]).token != 0;
            assert_eq!(
                token,
                crate::text::is_token_char(char::from(byte)),
                "{byte:#x}"
            );
        }
        let mut m = ByteMasks::default();
        m.fill("a?!b ?? !".as_bytes());
        assert_eq!((m.count(|b| b.bang), m.count(|b| b.question)), (2, 3));
    }

    proptest! {
        #[test]
        fn searches_find_what_a_walk_over_the_bytes_finds(
            text in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'@'), Just(b'!'), any::<u8>()], 0..200),
            from in 0usize..220,
            to in 0usize..220,
        ) {
            let mut m = ByteMasks::default();
            m.fill(&text);
            // The partial fills: their classes as the full one has them, the others empty.
            let (mut words, mut tokens) = (ByteMasks::default(), ByteMasks::default());
            words.fill_words(&text);
            tokens.fill_tokens(&text);
            for ((all, w), t) in m.blocks.iter().zip(&words.blocks).zip(&tokens.blocks) {
                prop_assert_eq!(*w, Block { token: 0, ..*all });
                prop_assert_eq!(*t, Block { token: all.token, high: all.high, ..Block::default() });
            }
            prop_assert_eq!((words.blocks.len(), tokens.blocks.len()), (m.blocks.len(), m.blocks.len()));
            let to = to.min(text.len());
            let classes = |b: u8| {
                if !b.is_ascii() {
                    return HIGH;
                }
                let token = if crate::text::is_token_char(char::from(b)) { TOKEN } else { 0 };
                CLASSES[usize::from(b)] | token
            };
            for class in [SPACE, PUNCT, AT, UPPER, LOWER, WORD, HIGH, TOKEN] {
                let field = |b: &Block| match class {
                    SPACE => b.space,
                    PUNCT => b.punct,
                    AT => b.at,
                    UPPER => b.upper,
                    LOWER => b.lower,
                    WORD => b.word,
                    HIGH => b.high,
                    _ => b.token,
                };
                let range = from.min(to)..to;
                let want = range.clone().find(|&i| classes(text[i]) & class != 0).unwrap_or(to);
                prop_assert_eq!(m.find(field, from, to), if from >= to { to } else { want });
                let want_last = range.clone().rev().find(|&i| classes(text[i]) & class != 0);
                prop_assert_eq!(m.rfind(field, from, to), if from >= to { None } else { want_last });
                if class != SPACE {
                    let all = text.iter().filter(|&&b| classes(b) & class != 0).count();
                    prop_assert_eq!(m.count(field), all);
                }
                let not = |b: &Block| !field(b);
                let want = range.clone().find(|&i| classes(text[i]) & class == 0).unwrap_or(to);
                prop_assert_eq!(m.find(not, from, to), if from >= to { to } else { want });
            }
        }
    }
}

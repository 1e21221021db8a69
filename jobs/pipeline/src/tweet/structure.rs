//! Skipping JSON without reading it, 64 bytes at a time, the way simdjson's first stage finds
//! structure: masks of quotes, backslashes and brackets; escaped quotes from the backslash
//! runs; string interiors from a prefix XOR of the real quotes; then only the nesting is
//! counted. Nothing else is checked: the characters between the brackets are not looked at.

// The SIMD loads are the unaligned kind (`loadu`); the block loops are generic over the mask
// function and are inlined into each target-feature copy, so that each gets its masks inline.
#![allow(clippy::cast_ptr_alignment, clippy::inline_always)]

/// Where each kind of byte is in one 64-byte block (bit i = byte i).
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

/// SSE2 is part of every x86_64 CPU, so no run-time detection is needed.
#[cfg(target_arch = "x86_64")]
fn masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let (mut quote, mut backslash, mut open, mut close) = (0u64, 0u64, 0u64, 0u64);
    // SAFETY: SSE2 is in the x86_64 baseline; each load reads 16 bytes inside `block`.
    unsafe {
        let q = _mm_set1_epi8(b'"' as i8);
        let bs = _mm_set1_epi8(b'\\' as i8);
        // `[` 0x5B and `{` 0x7B differ only in bit 5, as do `]` 0x5D and `}` 0x7D.
        let case = _mm_set1_epi8(0x20);
        let op = _mm_set1_epi8(b'{' as i8);
        let cl = _mm_set1_epi8(b'}' as i8);
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
            let folded = _mm_or_si128(v, case);
            let bits = |m| u64::from(_mm_movemask_epi8(m) as u16) << (16 * k);
            quote |= bits(_mm_cmpeq_epi8(v, q));
            backslash |= bits(_mm_cmpeq_epi8(v, bs));
            open |= bits(_mm_cmpeq_epi8(folded, op));
            close |= bits(_mm_cmpeq_epi8(folded, cl));
        }
    }
    Masks {
        quote,
        backslash,
        open,
        close,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; 64]) -> Masks {
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b'{' | b'[' => m.open |= bit,
            b'}' | b']' => m.close |= bit,
            _ => {}
        }
    }
    m
}

/// From `at`, the first byte whose lane `hits` marks, 16 bytes per step with no call: `Ok`
/// its index, or `Err` where the last few bytes (fewer than 16, not searched) begin.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::inline_always)]
#[inline(always)]
fn first_in_sixteens(
    bytes: &[u8],
    mut at: usize,
    hits: impl Fn(std::arch::x86_64::__m128i) -> std::arch::x86_64::__m128i,
) -> Result<usize, usize> {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};
    while at + 16 <= bytes.len() {
        // SAFETY: SSE2 is in the x86_64 baseline; the 16 bytes read are inside `bytes`.
        let v = unsafe { _mm_loadu_si128(bytes.as_ptr().add(at).cast::<__m128i>()) };
        // SAFETY: SSE2 is in the x86_64 baseline.
        let found = unsafe { _mm_movemask_epi8(hits(v)) } as u32;
        if found != 0 {
            return Ok(at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    Err(at)
}

/// Lanes of `v` equal to `b`.
#[cfg(target_arch = "x86_64")]
fn lanes_of(v: std::arch::x86_64::__m128i, b: u8) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is in the x86_64 baseline.
    unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)) }
}

/// Lanes marked in `a` or `b`.
#[cfg(target_arch = "x86_64")]
fn either(
    a: std::arch::x86_64::__m128i,
    b: std::arch::x86_64::__m128i,
) -> std::arch::x86_64::__m128i {
    // SAFETY: SSE2 is in the x86_64 baseline.
    unsafe { std::arch::x86_64::_mm_or_si128(a, b) }
}

/// From `at`, the first `"` or `\\`: 16 bytes per step, no call for the short strings that
/// keys and most values are.
#[cfg(target_arch = "x86_64")]
pub(super) fn quote_or_backslash(bytes: &[u8], at: usize) -> Option<usize> {
    match first_in_sixteens(bytes, at, |v| either(lanes_of(v, b'"'), lanes_of(v, b'\\'))) {
        Ok(found) => Some(found),
        Err(at) => memchr::memchr2(b'"', b'\\', bytes.get(at..)?).map(|i| at + i),
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn quote_or_backslash(bytes: &[u8], at: usize) -> Option<usize> {
    memchr::memchr2(b'"', b'\\', bytes.get(at..)?).map(|i| at + i)
}

/// From `at`, the first `\\`: 16 bytes per step and no call, for the short runs between a
/// text's escapes (`https:\/\/t.co\/...`), where a call to `memchr` costs more than the search.
#[cfg(target_arch = "x86_64")]
pub(super) fn backslash(bytes: &[u8], at: usize) -> Option<usize> {
    match first_in_sixteens(bytes, at, |v| lanes_of(v, b'\\')) {
        Ok(found) => Some(found),
        Err(at) => {
            let tail = bytes.get(at..)?;
            tail.iter().position(|&b| b == b'\\').map(|i| at + i)
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn backslash(bytes: &[u8], at: usize) -> Option<usize> {
    memchr::memchr(b'\\', bytes.get(at..)?).map(|i| at + i)
}

/// From `at`, the first byte that ends a bare value (a number, `true`, `false`, `null`): `,`
/// `}` `]` or JSON's whitespace; the line's length if none does. 16 bytes per step: ids are 18
/// digits.
#[cfg(target_arch = "x86_64")]
pub(super) fn scalar_end(bytes: &[u8], at: usize) -> usize {
    let ends = |v| {
        let is = |b| lanes_of(v, b);
        either(
            either(either(is(b','), is(b'}')), either(is(b']'), is(b' '))),
            either(either(is(b'\t'), is(b'\n')), is(b'\r')),
        )
    };
    first_in_sixteens(bytes, at, ends).unwrap_or_else(|at| scalar_end_by_bytes(bytes, at))
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn scalar_end(bytes: &[u8], at: usize) -> usize {
    scalar_end_by_bytes(bytes, at)
}

fn scalar_end_by_bytes(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(bytes.len(), |i| at + i)
}

/// The bytes escaped by a backslash. `carry` is 1 when the previous block ended with a
/// backslash that escapes this block's first byte.
fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    // Almost every run is one backslash (`\/`, `\"`, `\u`): each escapes the next byte.
    if backslash & ((backslash << 1) | *carry) == 0 {
        let e = (backslash << 1) | *carry;
        *carry = backslash >> 63;
        return e;
    }
    // A run of several (`\\`): byte by byte.
    let mut e = 0u64;
    let mut pending = *carry == 1;
    for i in 0..64 {
        let bit = 1u64 << i;
        if pending {
            e |= bit;
            pending = false;
        } else if backslash & bit != 0 {
            pending = true;
        }
    }
    *carry = u64::from(pending);
    e
}

/// Bit i = the XOR of bits 0..=i: 1 from an opening quote up to (not including) its closing one.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// AVX2 where the CPU has it (32 bytes per compare; every EMR 4.x type from m4 on), with the
/// instructions every AVX2 CPU also has (carry-less multiply, popcnt, tzcnt).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
fn masks_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let (mut quote, mut backslash, mut open, mut close) = (0u64, 0u64, 0u64, 0u64);
    let q = _mm256_set1_epi8(b'"' as i8);
    let bs = _mm256_set1_epi8(b'\\' as i8);
    let case = _mm256_set1_epi8(0x20);
    let op = _mm256_set1_epi8(b'{' as i8);
    let cl = _mm256_set1_epi8(b'}' as i8);
    for k in 0..2 {
        // SAFETY: each load reads 32 bytes inside `block`.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k).cast::<__m256i>()) };
        let folded = _mm256_or_si256(v, case);
        let bits = |m| u64::from(_mm256_movemask_epi8(m) as u32) << (32 * k);
        quote |= bits(_mm256_cmpeq_epi8(v, q));
        backslash |= bits(_mm256_cmpeq_epi8(v, bs));
        open |= bits(_mm256_cmpeq_epi8(folded, op));
        close |= bits(_mm256_cmpeq_epi8(folded, cl));
    }
    Masks {
        quote,
        backslash,
        open,
        close,
    }
}

/// From `from` (outside any string, inside `depth` >= 1 open objects or arrays), the index just
/// past the bracket that closes the outermost of them; `None` if the line ends first.
pub(super) fn close_of(bytes: &[u8], from: usize, depth: u32) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has these features.
        return unsafe { close_of_avx2(bytes, from, depth) };
    }
    close_of_with(bytes, from, depth, masks, prefix_xor)
}

/// Asked once per process (each object a status skips asked four times before).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    static HAS: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("pclmulqdq")
            && std::is_x86_feature_detected!("popcnt")
            && std::is_x86_feature_detected!("bmi1")
    });
    *HAS
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
fn close_of_avx2(bytes: &[u8], from: usize, depth: u32) -> Option<usize> {
    close_of_with(
        bytes,
        from,
        depth,
        |b| masks_avx2(b),
        |x| prefix_xor_clmul(x),
    )
}

/// [`prefix_xor`] in one carry-less multiply by all ones.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x};
    let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set_epi64x(0, -1), 0);
    _mm_cvtsi128_si64(product) as u64
}

/// From `from` (just past an opening quote), the index just past the closing quote, and
/// whether the string holds an escape; `None` if the line ends first.
pub(super) fn string_close(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    // Most strings (keys' values such as "en", numbers as text, ids) have no escape: their
    // first quote or backslash is the closing quote, found 16 bytes at a time.
    let first = quote_or_backslash(bytes, from)?;
    if bytes[first] == b'"' {
        return Some((first + 1, false));
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has these features.
        return unsafe { string_close_avx2(bytes, from) };
    }
    string_close_with(bytes, from, masks)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
fn string_close_avx2(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    string_close_with(bytes, from, |block| masks_avx2(block))
}

#[inline(always)]
fn string_close_with(
    bytes: &[u8],
    from: usize,
    masks: impl Fn(&[u8; 64]) -> Masks,
) -> Option<(usize, bool)> {
    let mut escape_carry = 0u64;
    let mut any_escape = false;
    let mut at = from;
    let mut tail = [b' '; 64];
    while at < bytes.len() {
        let m = masks(block_at(bytes, at, &mut tail)?);
        let quotes = m.quote & !escaped(m.backslash, &mut escape_carry);
        if quotes != 0 {
            let i = quotes.trailing_zeros();
            any_escape |= m.backslash & ((1u64 << i) - 1) != 0;
            return Some((at + i as usize + 1, any_escape));
        }
        any_escape |= m.backslash != 0;
        at += 64;
    }
    None
}

/// The 64 bytes from `at`, or the rest of the line padded with spaces (no structure).
#[inline(always)]
fn block_at<'b>(bytes: &'b [u8], at: usize, tail: &'b mut [u8; 64]) -> Option<&'b [u8; 64]> {
    if let Some(b) = bytes.get(at..at + 64) {
        b.try_into().ok()
    } else {
        let rest = bytes.get(at..)?;
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()..].fill(b' ');
        Some(tail)
    }
}

#[inline(always)]
fn close_of_with(
    bytes: &[u8],
    from: usize,
    depth: u32,
    masks: impl Fn(&[u8; 64]) -> Masks,
    prefix_xor: impl Fn(u64) -> u64,
) -> Option<usize> {
    let mut depth = i64::from(depth);
    let (mut escape_carry, mut in_string) = (0u64, 0u64);
    let mut at = from;
    let mut tail = [b' '; 64];
    while at < bytes.len() {
        let m = masks(block_at(bytes, at, &mut tail)?);
        let quotes = m.quote & !escaped(m.backslash, &mut escape_carry);
        let inside = prefix_xor(quotes) ^ in_string;
        // All ones when the block ends inside a string.
        in_string = 0u64.wrapping_sub(inside >> 63);
        let opens = m.open & !inside;
        let closes = m.close & !inside;
        if depth > i64::from(closes.count_ones()) {
            depth += i64::from(opens.count_ones()) - i64::from(closes.count_ones());
        } else {
            let mut brackets = opens | closes;
            while brackets != 0 {
                let i = brackets.trailing_zeros();
                if opens >> i & 1 == 1 {
                    depth += 1;
                } else {
                    depth -= 1;
                    if depth == 0 {
                        return Some(at + i as usize + 1);
                    }
                }
                brackets &= brackets - 1;
            }
        }
        at += 64;
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// The same question answered a byte at a time.
    fn close_of_by_bytes(bytes: &[u8], from: usize, depth: u32) -> Option<usize> {
        let (mut depth, mut in_string, mut escaped) = (depth, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(from) {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    #[test]
    fn a_real_status_is_skipped_to_its_end() {
        let line = include_str!(
            "../../../../tests/fixtures/tweets/tweets_stream_v1.1_filter_2015-11-14_sviswana.jsonl"
        )
        .lines()
        .next()
        .unwrap_or_default()
        .as_bytes();
        assert!(line.len() > 1000);
        assert_eq!(super::close_of(line, 1, 1), Some(line.len()));
        assert_eq!(close_of_by_bytes(line, 1, 1), Some(line.len()));
    }

    /// An escaped quote, a run of two backslashes and a `\\\"` at every offset, so each
    /// straddles a block edge once.
    #[test]
    fn escapes_on_a_block_edge() {
        for escape in [&br#"\""#[..], br"\\", br#"\\\""#] {
            for k in 0..140 {
                let mut text = b"[\"".to_vec();
                text.extend(std::iter::repeat_n(b'a', k));
                text.extend(escape);
                text.extend(b"]\"]");
                let expected = close_of_by_bytes(&text, 1, 1);
                let shown = String::from_utf8_lossy(&text);
                assert_eq!(super::close_of(&text, 1, 1), expected, "{shown}");
                assert_eq!(
                    super::close_of_with(&text, 1, 1, super::masks, super::prefix_xor),
                    expected,
                    "{shown}"
                );
            }
        }
    }

    /// JSON's lexical pieces: brackets and commas, and strings holding brackets, quotes and
    /// runs of backslashes, all escaped as JSON escapes them.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(&b"a"[..]),
            Just(&b"{"[..]),
            Just(&b"]"[..]),
            Just(&b"\\\""[..]),
            Just(&b"\\\\"[..]),
            Just(&b"\\/"[..]),
            Just(&b" "[..]),
        ];
        prop_oneof![
            prop_oneof![
                Just(b'{'),
                Just(b'}'),
                Just(b'['),
                Just(b']'),
                Just(b','),
                Just(b' ')
            ]
            .prop_map(|b| vec![b]),
            proptest::collection::vec(piece, 0..20).prop_map(|pieces| {
                let mut s = vec![b'"'];
                s.extend(pieces.concat());
                s.push(b'"');
                s
            }),
        ]
    }

    proptest! {
        /// Across block edges, from any token: the same answer as the byte-at-a-time reader.
        #[test]
        fn agrees_with_the_byte_reader(
            tokens in proptest::collection::vec(token(), 0..120),
            from in 0usize..40,
            depth in 1u32..4,
        ) {
            let from = tokens.iter().take(from).map(Vec::len).sum::<usize>();
            let text = tokens.concat();
            let expected = close_of_by_bytes(&text, from, depth);
            prop_assert_eq!(super::close_of(&text, from, depth), expected);
            prop_assert_eq!(super::close_of_with(&text, from, depth, super::masks, super::prefix_xor), expected);
        }

        #[test]
        fn the_carry_less_prefix_xor_is_the_shifted_one(x in any::<u64>()) {
            #[cfg(target_arch = "x86_64")]
            if super::has_avx2() {
                // SAFETY: the CPU has the feature.
                prop_assert_eq!(unsafe { super::prefix_xor_clmul(x) }, super::prefix_xor(x));
            }
        }

        /// A bare value ends where the byte loop says, wherever the line and the value end.
        #[test]
        fn bare_values_end_where_a_byte_at_a_time_says(
            bytes in proptest::collection::vec(prop_oneof![
                Just(b'1'), Just(b'e'), Just(b'-'), Just(b','), Just(b'}'), Just(b']'),
                Just(b' '), Just(b'\t'), Just(b'\n'), Just(b'\r'), Just(b'"'), Just(0x0bu8),
                any::<u8>(),
            ], 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(bytes.len());
            prop_assert_eq!(
                super::scalar_end(&bytes, from),
                super::scalar_end_by_bytes(&bytes, from)
            );
        }

        /// The next backslash is the first one a byte-at-a-time search finds, from anywhere.
        #[test]
        fn backslashes_are_found_where_a_byte_at_a_time_search_finds_them(
            // Sparse backslashes: many inputs have none past some block.
            bytes in proptest::collection::vec(prop_oneof![
                20 => Just(b'a'), 1 => Just(b'\\'), 2 => any::<u8>(),
            ], 0..80),
            from in 0usize..90,
        ) {
            let expected = bytes
                .get(from..)
                .and_then(|tail| tail.iter().position(|&b| b == b'\\'))
                .map(|i| from + i);
            prop_assert_eq!(super::backslash(&bytes, from), expected);
        }

        /// A string's end from just past its opening quote, and whether it held an escape.
        #[test]
        fn strings_end_at_their_closing_quote(
            token in token(),
            before in 0usize..70,
            after in proptest::collection::vec(token(), 0..4),
        ) {
            if token.first() == Some(&b'"') {
                let mut text = vec![b'a'; before];
                text.extend(&token);
                text.extend(after.concat());
                let end = before + token.len();
                let inner = &token[1..token.len() - 1];
                let expected = Some((end, inner.contains(&b'\\')));
                prop_assert_eq!(super::string_close(&text, before + 1), expected);
                prop_assert_eq!(super::string_close_with(&text, before + 1, super::masks), expected);
            }
        }
    }
}

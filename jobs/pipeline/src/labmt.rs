//! The LabMT 1.0 happiness lexicon (Dodds et al. 2011), embedded, and the reference score: the
//! frequency-weighted mean happiness of a text's tokens found in the list, optionally through the
//! stop-word lens that drops words whose happiness is strictly inside (low, high).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::byte_masks::ByteMasks;
use crate::fasthash::FastHash;

use crate::text;

const LABMT1: &str = include_str!("../data/labMT1.txt");

/// The usual lens: words with 4 < h < 6 carry little emotion and are left out.
pub const DEFAULT_LENS: Lens = Lens {
    low: 4.0,
    high: 6.0,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lens {
    pub low: f64,
    pub high: f64,
}

impl std::str::FromStr for Lens {
    type Err = String;
    /// `4,6` (the default), or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a lens: write LOW,HIGH (e.g. 4,6) or none");
        let (low, high) = s.split_once(',').ok_or_else(bad)?;
        let low: f64 = low.trim().parse().map_err(|_| bad())?;
        let high: f64 = high.trim().parse().map_err(|_| bad())?;
        if low > high {
            return Err(bad());
        }
        Ok(Lens { low, high })
    }
}

/// The sums that make a score, so that scores merge exactly: mean = sum / words.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub sum: f64,
    pub words: u32,
}

impl Score {
    pub fn mean(&self) -> Option<f64> {
        (self.words > 0).then(|| self.sum / f64::from(self.words))
    }
}

pub struct Lexicon {
    happs: Happs,
    /// Every word is ASCII (LabMT 1.0's are): then a token can only match if it lowers to
    /// ASCII, and the one non-ASCII character that does is the Kelvin sign (to `k`).
    ascii_only: bool,
}

impl Lexicon {
    /// LabMT 1.0: 10,222 words.
    pub fn labmt1() -> Lexicon {
        let mut happs: HashMap<Box<str>, f64, FastHash> =
            HashMap::with_capacity_and_hasher(10_300, FastHash::default());
        for line in LABMT1.lines().skip(1) {
            let mut fields = line.trim_end_matches('\r').split('\t');
            if let (Some(word), _, Some(h)) = (fields.next(), fields.next(), fields.next())
                && let Ok(h) = h.parse::<f64>()
            {
                happs.insert(word.into(), h);
            }
        }
        let ascii_only = happs.keys().all(|w| w.is_ascii());
        Lexicon {
            happs: Happs::new(&happs),
            ascii_only,
        }
    }

    pub fn len(&self) -> usize {
        self.happs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.happs.len() == 0
    }

    pub fn happiness(&self, word: &str) -> Option<f64> {
        self.happs.get(word)
    }

    /// Scores raw tweet text (escapes, URLs and all) the reference way.
    pub fn score(&self, raw: &str, lens: Option<Lens>) -> Score {
        text::with_clean(raw, |cleaned| self.score_masked(cleaned, lens))
    }

    /// A token's part of the score.
    fn add(&self, lower: &str, lens: Option<Lens>, score: &mut Score) {
        if let Some(h) = self.happs.get(lower) {
            if lens.is_some_and(|l| l.low < h && h < l.high) {
                return;
            }
            score.sum += h;
            score.words += 1;
        }
    }

    /// A cleaned text, lowered in one pass (ASCII letters) and its tokens read off masks of
    /// its bytes: a run of token bytes is a token, looked up where it lies, unless it holds
    /// characters beyond ASCII; such a run (whose characters may be `\w` or may split it) is
    /// read character by character.
    fn score_masked(&self, cleaned: &str, lens: Option<Lens>) -> Score {
        SCRATCH.with_borrow_mut(|Scratch { lower, word, masks }| {
            lower.clear();
            lower.push_str(cleaned);
            lower.make_ascii_lowercase();
            masks.fill_tokens(cleaned.as_bytes());
            let n = cleaned.len();
            let mut score = Score::default();
            let mut i = 0;
            loop {
                let start = masks.find(|b| b.token | b.high, i, n);
                if start == n {
                    break;
                }
                let end = masks.find(|b| !(b.token | b.high), start, n);
                if masks.any(|b| b.high, start, end) {
                    self.score_chars(&cleaned[start..end], lens, word, &mut score);
                } else {
                    self.add(&lower[start..end], lens, &mut score);
                }
                i = end;
            }
            score
        })
    }

    /// Adds the tokens of `text` (cleaned), read character by character, to `score`.
    fn score_chars(&self, text: &str, lens: Option<Lens>, buf: &mut String, score: &mut Score) {
        text::for_each_raw_token(text, |token| {
            if self.ascii_only && !token.is_ascii() && !token.contains('\u{212A}') {
                return;
            }
            text::lower_into(token, buf);
            self.add(buf, lens, score);
        });
    }
}

/// The words' happiness in an open-addressing table whose slots hold the word itself (up to 16
/// bytes, zero-padded, with its length): a lookup is a multiply, a slot or two read and two
/// 8-byte compares. A hash map of boxed words read the key through a pointer to elsewhere in
/// memory, a cache miss on most of a post's tokens. Longer words are in `long`.
struct Happs {
    slots: Vec<Slot>,
    long: HashMap<Box<str>, f64, FastHash>,
    words: usize,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    /// The word's bytes, zero-padded; `len` 0: an empty slot (no word is empty).
    key: [u64; 2],
    len: u64,
    happs: f64,
}

/// The most bytes a word held in a slot has.
const SLOT_WORD: usize = crate::fasthash::SIXTEEN;

impl Happs {
    fn new(words: &HashMap<Box<str>, f64, FastHash>) -> Happs {
        let short = words.keys().filter(|w| w.len() <= SLOT_WORD).count();
        // At most half full, so that probes stay short.
        let size = (short * 2).next_power_of_two().max(2);
        let mut table = Happs {
            slots: vec![Slot::default(); size],
            long: HashMap::default(),
            words: words.len(),
        };
        for (word, &happs) in words {
            if word.is_empty() || word.len() > SLOT_WORD {
                table.long.insert(word.clone(), happs);
                continue;
            }
            let (key, mask) = (crate::fasthash::sixteen(word.as_bytes()), size - 1);
            let mut i = Happs::slot_of(key, word.len(), mask);
            while table.slots[i].len != 0 {
                i = (i + 1) & mask;
            }
            table.slots[i] = Slot {
                key,
                len: word.len() as u64,
                happs,
            };
        }
        table
    }

    fn slot_of(key: [u64; 2], len: usize, mask: usize) -> usize {
        let h = (key[0] ^ key[1].rotate_left(23) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h ^ (h >> 29)) as usize & mask
    }

    #[inline]
    fn get(&self, word: &str) -> Option<f64> {
        let bytes = word.as_bytes();
        if bytes.is_empty() || bytes.len() > SLOT_WORD {
            return self.long.get(word).copied();
        }
        let (key, mask) = (crate::fasthash::sixteen(bytes), self.slots.len() - 1);
        let mut i = Happs::slot_of(key, bytes.len(), mask);
        loop {
            let slot = &self.slots[i];
            if slot.len == 0 {
                return None;
            }
            if slot.key == key && slot.len == bytes.len() as u64 {
                return Some(slot.happs);
            }
            i = (i + 1) & mask;
        }
    }

    fn len(&self) -> usize {
        self.words
    }
}

/// Buffers for [`Lexicon::score`], which runs once per post: kept between posts.
#[derive(Default)]
struct Scratch {
    lower: String,
    word: String,
    masks: ByteMasks,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_that_lowers_to_a_word_counts_even_if_written_otherwise() {
        let lex = Lexicon::labmt1();
        let kill = lex.score("kill", None);
        // KELVIN SIGN lowers to `k`, as in Python's str.lower().
        assert_eq!(lex.score("\u{212A}ILL", None), kill);
        assert_eq!(kill.words, 1);
        assert_eq!(lex.score("kïll", None).words, 0);
    }

    /// The reference way: every token of the whole text, character by character.
    fn by_chars(lex: &Lexicon, text: &str, lens: Option<Lens>) -> Score {
        let (mut score, mut buf) = (Score::default(), String::new());
        lex.score_chars(&text::clean(text), lens, &mut buf, &mut score);
        score
    }

    #[test]
    fn every_text_scores_the_same_off_the_masks_as_character_by_character() {
        let lex = lexicon();
        let (mut texts, mut beyond_ascii) = (0, 0);
        for text in crate::testkit_texts::fixture_texts() {
            texts += 1;
            beyond_ascii += usize::from(!text::clean(&text).is_ascii());
            for lens in [None, Some(DEFAULT_LENS)] {
                assert_eq!(
                    lex.score(&text, lens),
                    by_chars(lex, &text, lens),
                    "{text:?}"
                );
            }
        }
        assert!(
            texts > 3_000 && beyond_ascii > 1_000,
            "{texts} {beyond_ascii}"
        );
        for text in [
            "\u{212A}ILL kill",
            "happy—sad",
            "café happy",
            "naïve_love love",
            "ＬＯＶＥ love",
        ] {
            assert_eq!(lex.score(text, None), by_chars(lex, text, None), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_scores_the_same_either_way(
            text in "([ \\t]|HAPPY|love|hate|the|Trump's|w/|a=b|\u{212A}ill|é|—|日本|\u{a0}|[a-zA-Z0-9_@#'&*;=/!?.,()\\[\\]-]){0,60}"
        ) {
            let lex = lexicon();
            for lens in [None, Some(DEFAULT_LENS)] {
                proptest::prop_assert_eq!(lex.score(&text, lens), by_chars(lex, &text, lens));
            }
        }
    }

    fn lexicon() -> &'static Lexicon {
        static LEXICON: std::sync::OnceLock<Lexicon> = std::sync::OnceLock::new();
        LEXICON.get_or_init(Lexicon::labmt1)
    }

    /// The table answers as a hash map of the words does: every word its happiness; words a
    /// byte off, cut short, lengthened (past a slot's 16 bytes too), upper-cased or with a NUL
    /// nothing, unless they are words themselves.
    #[test]
    fn the_table_answers_as_a_map_of_the_words() {
        let map: HashMap<String, f64> = LABMT1
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.trim_end_matches('\r').split('\t').collect();
                Some((f.first()?.to_string(), f.get(2)?.parse().ok()?))
            })
            .collect();
        let lex = lexicon();
        assert_eq!(lex.len(), map.len());
        let (mut asked, mut long) = (0, 0);
        for (word, &h) in &map {
            assert_eq!(lex.happiness(word), Some(h), "{word}");
            long += usize::from(word.len() > SLOT_WORD);
            let mut others = vec![
                format!("{word}s"),
                format!("{word}\0"),
                format!("{word}{word}"),
                word.to_uppercase(),
                word[..word.len() - 1].to_string(),
            ];
            let mut bytes = word.clone().into_bytes();
            bytes[0] ^= 1;
            others.extend(String::from_utf8(bytes));
            for other in others {
                asked += 1;
                assert_eq!(lex.happiness(&other), map.get(&other).copied(), "{other:?}");
            }
        }
        assert!(asked > 60_000 && long > 0, "{asked} {long}");
        assert_eq!(lex.happiness(""), None);
    }

    /// Zero padding makes `ab` and `ab\0` the same key: the length tells them apart, even in
    /// the slot the longer one is looked for first.
    #[test]
    fn a_word_and_the_word_with_a_nul_are_two_words() {
        let key = crate::fasthash::sixteen(b"ab");
        assert_eq!(key, crate::fasthash::sixteen(b"ab\0"));
        let mut table = Happs {
            slots: vec![Slot::default(); 4],
            long: HashMap::default(),
            words: 1,
        };
        table.slots[Happs::slot_of(key, 3, 3)] = Slot {
            key,
            len: 2,
            happs: 7.0,
        };
        assert_eq!(table.get("ab\0"), None);
    }

    #[test]
    fn the_lexicon_has_every_word() {
        let lex = Lexicon::labmt1();
        assert_eq!(lex.len(), 10_222);
        assert_eq!(lex.happiness("laughter"), Some(8.50));
        assert_eq!(lex.happiness("hate"), Some(2.34));
    }

    #[test]
    fn check_values_of_the_reference() {
        let lex = Lexicon::labmt1();
        let plain = lex.score("hate hate hate the happy", None);
        assert!((plain.mean().unwrap() - 4.06).abs() < 1e-9, "{plain:?}");
        let lensed = lex.score("hate hate hate the happy", Some(DEFAULT_LENS));
        assert!((lensed.mean().unwrap() - 3.83).abs() < 1e-9, "{lensed:?}");
        assert_eq!(lensed.words, 4);
        assert_eq!(lex.score("zzz qqq", None).mean(), None);
    }
}

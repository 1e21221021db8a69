//! VADER (Hutto & Gilbert 2014), the rule-based sentiment of social-media text, as the reference
//! implementation (PyPI `vaderSentiment` 3.3.2) computes it: the same lexicons (embedded, MIT),
//! the same rules in the same order, quirks included (the contrastive "but" rescales the *first*
//! sentiment equal to each one, as Python's `list.index` does), so the scores equal the
//! reference's to the last bit; `tests/vader_reference.rs` checks them against values the
//! reference printed. The classifier uses them as features ([`crate::classify`]).
//!
//! Speed: a text's words are read off bit masks of its bytes' classes ([`crate::byte_masks`]),
//! the text lowered in one pass; a word is hashed and looked up once (an 8 KB filter turns away
//! most words before the table is probed).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::byte_masks::{Block, ByteMasks};
use crate::fasthash::FastHash;

const LEXICON: &str = include_str!("../data/vader/vader_lexicon.txt");
const EMOJI: &str = include_str!("../data/vader/emoji_utf8_lexicon.txt");

/// Rating increase of a booster word, and of a word in capitals among others that are not.
const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
/// What a negation multiplies a valence by.
const N_SCALAR: f64 = -0.74;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

/// Phrases that set a valence of their own, word by word (the reference's `badass` is one
/// word, so it never matches a phrase of two or three: left out).
const SPECIAL_CASES: &[(&[&str], f64)] = &[
    (&["the", "shit"], 3.0),
    (&["the", "bomb"], 3.0),
    (&["bad", "ass"], 1.5),
    (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0),
    (&["kiss", "of", "death"], -1.5),
    (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
];

/// The boosters of two words (from the lists above), word by word.
const BOOSTER_PHRASES: &[(&[&str], f64)] = &[
    (&["just", "enough"], B_DECR),
    (&["kind", "of"], B_DECR),
    (&["sort", "of"], B_DECR),
];

/// VADER's four figures for a text (unrounded; the reference rounds them for display).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Polarity {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    /// The normalised sum, in [-1, 1].
    pub compound: f64,
}

pub struct Vader {
    /// Every word a rule looks at: its valence, booster value and rule flags.
    table: WordTable,
    emoji: HashMap<char, &'static str, FastHash>,
    /// One bit per code point: whether it is an emoji key (most non-ASCII characters are not,
    /// and a bit is cheaper than a probe of the map).
    emoji_bits: Vec<u64>,
}

/// The words VADER knows, in an open-addressing table probed by a word's hash: the common
/// case, a word it does not know, costs one hash and one or two probes of 8 bytes.
struct WordTable {
    /// Per slot: the top 32 bits of the hash (0: empty) and the entry's index.
    slots: Vec<(u32, u32)>,
    /// One bit per value of 16 other bits of the hash, set for the words in the table: most
    /// words of a post are not VADER's, and this 8 KB answers them without a probe of the
    /// slots (which miss the cache).
    filter: Vec<u64>,
    entries: Vec<Entry>,
    /// The entries' words, one after another; `spans[i]` is entry i's.
    arena: String,
    spans: Vec<(u32, u32)>,
}

/// FxHash of a word (what the classifier's word features hash words with too: a word is
/// hashed once for both).
pub fn fx_hash(word: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fasthash::FastHasher::default();
    h.write(word);
    h.finish()
}

/// The table's hash of a word from its [`fx_hash`]: the low bits spread (the slot) and the
/// top ones non-zero (the tag).
fn word_hash(fx: u64) -> u64 {
    (fx ^ (fx >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) | (1 << 63)
}

const FILTER_BITS: usize = 1 << 16;

/// The filter's bit for a [`word_hash`]: bits 16..32, apart from the slot's (the low bits) and
/// the tag (the top 32).
fn filter_bit(h: u64) -> usize {
    (h >> 16) as usize & (FILTER_BITS - 1)
}

impl WordTable {
    fn new(words: HashMap<String, Entry, FastHash>) -> WordTable {
        let mut sorted: Vec<(String, Entry)> = words.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let size = (sorted.len() * 2).next_power_of_two();
        let mut table = WordTable {
            slots: vec![(0, 0); size],
            filter: vec![0; FILTER_BITS / 64],
            entries: Vec::with_capacity(sorted.len()),
            arena: String::new(),
            spans: Vec::with_capacity(sorted.len()),
        };
        for (word, entry) in sorted {
            let h = word_hash(fx_hash(word.as_bytes()));
            let mut i = h as usize & (size - 1);
            while table.slots[i].0 != 0 {
                i = (i + 1) & (size - 1);
            }
            table.slots[i] = ((h >> 32) as u32, table.entries.len() as u32);
            let bit = filter_bit(h);
            table.filter[bit / 64] |= 1 << (bit % 64);
            table
                .spans
                .push((table.arena.len() as u32, word.len() as u32));
            table.arena.push_str(&word);
            table.entries.push(entry);
        }
        table
    }

    fn get(&self, word: &str) -> Option<Entry> {
        self.get_hashed(word, fx_hash(word.as_bytes()))
    }

    /// [`WordTable::get`] of a word whose [`fx_hash`] is `fx`.
    fn get_hashed(&self, word: &str, fx: u64) -> Option<Entry> {
        let h = word_hash(fx);
        let bit = filter_bit(h);
        if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let (tag, mask) = ((h >> 32) as u32, self.slots.len() - 1);
        let mut i = h as usize & mask;
        loop {
            let (t, e) = self.slots[i];
            if t == 0 {
                return None;
            }
            if t == tag {
                let (at, len) = self.spans[e as usize];
                if &self.arena[at as usize..(at + len) as usize] == word {
                    return Some(self.entries[e as usize]);
                }
            }
            i = (i + 1) & mask;
        }
    }
}

/// What VADER knows of one lower-case word.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Entry {
    valence: Option<f64>,
    booster: Option<f64>,
    flags: u16,
}

const NEGATION: u16 = 1;
const NO: u16 = 1 << 1;
const BUT: u16 = 1 << 2;
const KIND: u16 = 1 << 3;
const OF: u16 = 1 << 4;
const LEAST: u16 = 1 << 5;
const AT_OR_VERY: u16 = 1 << 6;
const NEVER: u16 = 1 << 7;
const SO_OR_THIS: u16 = 1 << 8;
const WITHOUT: u16 = 1 << 9;
const DOUBT: u16 = 1 << 10;
const OR_NOR: u16 = 1 << 11;
/// A word of a special-case phrase or a two-word booster: only then are phrases compared.
const PHRASE: u16 = 1 << 12;

const FLAGGED: &[(&str, u16)] = &[
    ("no", NO),
    ("but", BUT),
    ("kind", KIND),
    ("of", OF),
    ("least", LEAST),
    ("at", AT_OR_VERY),
    ("very", AT_OR_VERY),
    ("never", NEVER),
    ("so", SO_OR_THIS),
    ("this", SO_OR_THIS),
    ("without", WITHOUT),
    ("doubt", DOUBT),
    ("or", OR_NOR),
    ("nor", OR_NOR),
];

/// One word of a text.
#[derive(Debug, Clone, Copy, Default)]
// Marks read in the rules' loops; fields are plainer there than a set of bits.
#[allow(clippy::struct_excessive_bools)]
struct WordInfo {
    span: (usize, usize),
    lower_span: (usize, usize),
    entry: Entry,
    /// Python's `isupper()` of the word as written.
    upper: bool,
    /// The word has ASCII capitals and no ASCII small letters.
    shouted: bool,
    /// The whitespace-separated token began with `@` (after other punctuation): a mention.
    mention: bool,
    /// [`fx_hash`] of the lower-case word.
    fx: u64,
    /// The word is ASCII and one run of word characters (letters, digits, `_`).
    run: bool,
}

#[cfg(test)]
const UPPER: u8 = 1;
#[cfg(test)]
const LOWER: u8 = 1 << 1;
#[cfg(test)]
const WORD: u8 = 1 << 2;

/// Per ASCII byte: a capital, a small letter, a word character (letter, digit, `_`).
#[cfg(test)]
const ASCII_CLASSES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'A'..=b'Z' => UPPER | WORD,
            b'a'..=b'z' => LOWER | WORD,
            b'0'..=b'9' | b'_' => WORD,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// The words of one text: the original spellings, their lower-case forms (ranges into two
/// buffers: no allocation per word once the buffers have grown), and what VADER knows of each.
#[derive(Default)]
pub struct Words {
    text: String,
    lower: String,
    info: Vec<WordInfo>,
    masks: ByteMasks,
    /// The words in capitals (Python's `isupper`).
    uppers: usize,
    /// The text's `!` and `?`.
    bangs: usize,
    questions: usize,
}

impl Words {
    pub fn len(&self) -> usize {
        self.info.len()
    }

    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    pub fn word(&self, i: usize) -> &str {
        let (a, b) = self.info[i].span;
        &self.text[a..b]
    }

    pub fn lower(&self, i: usize) -> &str {
        let (a, b) = self.info[i].lower_span;
        &self.lower[a..b]
    }

    /// The [`fx_hash`] of the lower-case word when it is ASCII and one run of word characters
    /// (letters, digits, `_`: most words), which is then its own only run.
    pub fn run_hash(&self, i: usize) -> Option<u64> {
        let info = &self.info[i];
        info.run.then_some(info.fx)
    }

    /// Whether the word has ASCII capitals and no ASCII small letters.
    pub fn is_shouted(&self, i: usize) -> bool {
        self.info[i].shouted
    }

    /// Whether the word's token began with `@`.
    pub fn is_mention(&self, i: usize) -> bool {
        self.info[i].mention
    }

    /// The text the words were split from (emoji described).
    pub fn text(&self) -> &str {
        &self.text
    }

    fn flags(&self, i: usize) -> u16 {
        self.info[i].entry.flags
    }

    fn has(&self, i: usize, flag: u16) -> bool {
        self.info[i].entry.flags & flag != 0
    }

    fn in_lexicon(&self, i: usize) -> bool {
        self.info[i].entry.valence.is_some()
    }

    /// Whether the words from `at` on are `phrase` (lower-case words).
    fn phrase_at(&self, at: usize, phrase: &[&str]) -> bool {
        for (i, part) in (at..).zip(phrase) {
            if i >= self.len() || self.lower(i) != *part {
                return false;
            }
        }
        true
    }
}

/// Python's `str.isspace` (what `str.split()` splits on): Unicode's White_Space, and the
/// information separators U+001C..U+001F.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

const NOT_SPACE: u8 = 0;
const SPACE: u8 = 1;
const MAYBE_SPACE: u8 = 2;

/// Per byte of UTF-8: whether it is a space (ASCII), or may begin one (the first bytes of
/// U+0085, U+00A0, U+1680, U+2000..U+205F and U+3000), or neither (every other byte: a
/// continuation byte never begins a character).
const SPACES: [u8; 256] = {
    let mut table = [NOT_SPACE; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b' ' | b'\t'..=b'\r' | 0x1c..=0x1f => SPACE,
            0xc2 | 0xe1 | 0xe2 | 0xe3 => MAYBE_SPACE,
            _ => NOT_SPACE,
        };
        b += 1;
    }
    table
};

/// The length of the space (Python's `str.isspace`) that begins at `bytes[i]`, the start of a
/// character, or 0. Unicode's spaces beyond ASCII spelt out in UTF-8: Japanese text, whose
/// every character begins with one of their first bytes (0xE3), is not decoded.
fn space_len(bytes: &[u8], i: usize) -> usize {
    match SPACES[usize::from(bytes[i])] {
        NOT_SPACE => 0,
        SPACE => 1,
        _ => match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            // U+0085, U+00A0
            (0xc2, Some(0x85 | 0xa0), _) => 2,
            // U+1680
            (0xe1, Some(0x9a), Some(0x80))
            // U+2000..U+200A, U+2028, U+2029, U+202F
            | (0xe2, Some(0x80), Some(0x80..=0x8a | 0xa8 | 0xa9 | 0xaf))
            // U+205F
            | (0xe2, Some(0x81), Some(0x9f))
            // U+3000
            | (0xe3, Some(0x80), Some(0x80)) => 3,
            _ => 0,
        },
    }
}

/// Python's `str.isupper`: a cased character, and none in lower case. (An ASCII word's case is
/// read in `Vader::words`, in the pass that lowers it.)
fn py_isupper(s: &str) -> bool {
    s.chars().any(crate::chars::is_uppercase) && !s.chars().any(crate::chars::is_lowercase)
}

/// Python's `normalize`: the sum mapped into [-1, 1], alpha 15.
fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// Python's `str.lower()` of `word`, appended to `out`. (An ASCII word is lowered in
/// `Vader::words`, in the pass that reads its case.)
fn push_lower(word: &str, out: &mut String) {
    if word.contains('\u{3a3}') {
        // A capital sigma lowers by its place in the word (final or not): the whole word.
        out.push_str(&word.to_lowercase());
    } else {
        for c in word.chars() {
            if crate::chars::lowers_to_itself(c) {
                out.push(c);
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
}

/// [`push_lower`] and [`py_isupper`] of `word` in one pass over its characters.
fn push_lower_reading_case(word: &str, out: &mut String) -> bool {
    use crate::chars::{is_lowercase, is_uppercase, lowers_to_itself};
    if word.contains('\u{3a3}') {
        push_lower(word, out);
        return py_isupper(word);
    }
    let (mut upper, mut lower) = (false, false);
    for c in word.chars() {
        upper |= is_uppercase(c);
        lower |= is_lowercase(c);
        if lowers_to_itself(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    upper && !lower
}

impl Default for Vader {
    fn default() -> Self {
        Vader::new()
    }
}

impl Vader {
    pub fn new() -> Vader {
        let mut table: HashMap<String, Entry, FastHash> =
            HashMap::with_capacity_and_hasher(7_700, FastHash::default());
        for line in LEXICON.trim_end_matches('\n').split('\n') {
            let mut fields = line.trim().split('\t');
            if let (Some(word), Some(measure)) = (fields.next(), fields.next())
                && let Ok(measure) = measure.parse::<f64>()
            {
                table.entry(word.into()).or_default().valence = Some(measure);
            }
        }
        let boosters = BOOSTERS_UP
            .iter()
            .map(|&w| (w, B_INCR))
            .chain(BOOSTERS_DOWN.iter().map(|&w| (w, B_DECR)));
        for (word, value) in boosters {
            table.entry(word.into()).or_default().booster = Some(value);
            if word.contains(' ') {
                for part in word.split(' ') {
                    table.entry(part.into()).or_default().flags |= PHRASE;
                }
            }
        }
        for word in NEGATE {
            table.entry((*word).into()).or_default().flags |= NEGATION;
        }
        for (word, flag) in FLAGGED {
            table.entry((*word).into()).or_default().flags |= flag;
        }
        for (phrase, _) in SPECIAL_CASES.iter().chain(BOOSTER_PHRASES) {
            for part in *phrase {
                table.entry((*part).into()).or_default().flags |= PHRASE;
            }
        }
        let mut emoji = HashMap::with_capacity_and_hasher(1_300, FastHash::default());
        let mut emoji_bits = vec![0u64; 0x11_0000 / 64];
        for line in EMOJI.trim_end_matches('\n').split('\n') {
            let mut fields = line.trim().split('\t');
            if let (Some(key), Some(description)) = (fields.next(), fields.next()) {
                // Only one-character keys can match: the reference looks characters up.
                let mut chars = key.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    emoji.insert(c, description);
                    emoji_bits[c as usize / 64] |= 1 << (c as usize % 64);
                }
            }
        }
        Vader {
            table: WordTable::new(table),
            emoji,
            emoji_bits,
        }
    }

    pub fn len(&self) -> usize {
        self.table
            .entries
            .iter()
            .filter(|e| e.valence.is_some())
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn valence(&self, word: &str) -> Option<f64> {
        self.table.get(word).and_then(|e| e.valence)
    }

    /// What the table knows of `lower` (whose [`fx_hash`] is `fx`), and whether it negates;
    /// `run`: the word is all ASCII word characters (no apostrophe to look for).
    fn entry(&self, lower: &str, fx: u64, run: bool) -> Entry {
        let mut entry = self.table.get_hashed(lower, fx).unwrap_or_default();
        if run {
            return entry;
        }
        // Not `str::contains`: building its searcher for every word costs more than the rest;
        // most words have no apostrophe, found (or not) by one memchr.
        let b = lower.as_bytes();
        if memchr::memchr_iter(b'\'', b)
            .any(|i| i > 0 && b[i - 1] == b'n' && b.get(i + 1) == Some(&b't'))
        {
            entry.flags |= NEGATION;
        }
        entry
    }

    /// The text with each emoji replaced by its description (as the reference does first),
    /// trimmed, into `out`.
    fn describe_emoji(&self, text: &str, out: &mut String) {
        out.clear();
        let is_emoji = |c: char| self.emoji_bits[c as usize / 64] & (1 << (c as usize % 64)) != 0;
        // Every key is at or above U+00A9; most texts have none: copied whole.
        if text.is_ascii() || !text.chars().any(is_emoji) {
            out.push_str(text.trim_matches(py_space));
            return;
        }
        let mut prev_space = true;
        for c in text.chars() {
            let description = if is_emoji(c) {
                self.emoji.get(&c)
            } else {
                None
            };
            if let Some(d) = description {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(d);
                prev_space = false;
            } else {
                out.push(c);
                prev_space = c == ' ';
            }
        }
        let trimmed = out.trim_matches(py_space);
        if trimmed.len() != out.len() {
            let start = trimmed.as_ptr() as usize - out.as_ptr() as usize;
            let end = start + trimmed.len();
            out.truncate(end);
            out.drain(..start);
        }
    }

    /// Splits `text` into VADER's words (emoji described, whitespace-separated, punctuation
    /// stripped), their lower-case forms and what VADER knows of each.
    pub fn words(&self, text: &str, words: &mut Words) {
        let mut described = std::mem::take(&mut words.text);
        self.describe_emoji(text, &mut described);
        words.text = described;
        words.lower.clear();
        words.info.clear();
        self.mask_words(words);
    }

    /// [`Vader::words`] byte by byte and character by character: what the masks are tested
    /// against.
    #[cfg(test)]
    fn any_words(&self, words: &mut Words) {
        let text = words.text.as_str();
        let all_ascii = text.is_ascii();
        let bytes = text.as_bytes();
        // Bytes, not characters: nothing is decoded (SPACES and `space_len`).
        let space_at = |i: usize| space_len(bytes, i);
        let mut i = 0;
        while i < bytes.len() {
            let n = space_at(i);
            if n > 0 {
                i += n;
                continue;
            }
            let start = i;
            i += 1;
            while i < bytes.len() {
                let class = SPACES[usize::from(bytes[i])];
                if class == SPACE || (class == MAYBE_SPACE && space_at(i) > 0) {
                    break;
                }
                i += 1;
            }
            let (mut a, mut b) = (start, i);
            while a < b && bytes[a].is_ascii_punctuation() {
                a += 1;
            }
            while b > a && bytes[b - 1].is_ascii_punctuation() {
                b -= 1;
            }
            let ascii = all_ascii || text[a..b].is_ascii();
            if b - a <= 2 || (!ascii && text[a..b].chars().nth(2).is_none()) {
                (a, b) = (start, i);
            }
            let word = &text[a..b];
            let lower_start = words.lower.len();
            let (upper, run) = if all_ascii || word.is_ascii() {
                // One pass: lower-cased, cased letters seen, all word characters or not.
                let (mut seen, mut all) = (0u8, WORD);
                for &c in word.as_bytes() {
                    let class = ASCII_CLASSES[usize::from(c)];
                    seen |= class;
                    all &= class;
                    words.lower.push(char::from(c.to_ascii_lowercase()));
                }
                (seen & UPPER != 0 && seen & LOWER == 0, all == WORD)
            } else {
                push_lower(word, &mut words.lower);
                (py_isupper(word), false)
            };
            let lower = &words.lower[lower_start..];
            let fx = fx_hash(lower.as_bytes());
            let mention = bytes[start..i]
                .iter()
                .find(|&&c| !(c.is_ascii_punctuation() && c != b'@'))
                .is_some_and(|&c| c == b'@');
            let shouted = word.bytes().all(|c| !c.is_ascii_lowercase())
                && word.bytes().any(|c| c.is_ascii_uppercase());
            words.info.push(WordInfo {
                span: (a, b),
                lower_span: (lower_start, words.lower.len()),
                entry: self.entry(lower, fx, run),
                upper,
                shouted,
                mention,
                fx,
                run,
            });
        }
        words.uppers = words.info.iter().filter(|w| w.upper).count();
        words.bangs = memchr::memchr_iter(b'!', bytes).count();
        words.questions = memchr::memchr_iter(b'?', bytes).count();
    }

    /// [`Vader::words`] read off bit masks of the bytes' classes: a word's bounds, case and
    /// mention mark are a few bit operations; only a word with characters beyond ASCII is
    /// read character by character. The text is lowered in one pass (ASCII letters only), so
    /// that an ASCII word's lower-case form is where the word is; other words' forms follow.
    fn mask_words(&self, words: &mut Words) {
        let Words {
            text,
            lower,
            info,
            masks,
            uppers,
            bangs,
            questions,
        } = words;
        let bytes = text.as_bytes();
        lower.push_str(text);
        lower.make_ascii_lowercase();
        masks.fill_words(bytes);
        *bangs = masks.count(|b| b.bang);
        *questions = masks.count(|b| b.question);
        *uppers = 0;
        let n = bytes.len();
        if !text.is_ascii() {
            // Spaces beyond ASCII: U+3000 by its three bytes (0xE3 begins every Japanese
            // character), the others by their first bytes.
            static IDEOGRAPHIC: LazyLock<memchr::memmem::Finder<'static>> =
                LazyLock::new(|| memchr::memmem::Finder::new("\u{3000}"));
            let ideographic = IDEOGRAPHIC.find_iter(bytes);
            for at in memchr::memchr3_iter(0xc2, 0xe1, 0xe2, bytes).chain(ideographic) {
                for k in at..at + space_len(bytes, at) {
                    masks.set_space(k);
                }
            }
        }
        let not_space = |b: &Block| !b.space;
        let not_punct = |b: &Block| !b.punct;
        let mut i = 0;
        loop {
            let start = masks.find(not_space, i, n);
            if start == n {
                break;
            }
            let end = masks.find(|b| b.space, start, n);
            i = end;
            // Punctuation off both ends, unless that leaves two characters or fewer.
            let (mut a, mut b) = (masks.find(not_punct, start, end), end);
            if a < end {
                b = masks.rfind(not_punct, a, end).map_or(a, |last| last + 1);
            }
            let mut ascii = !masks.any(|b| b.high, a, b);
            if b - a <= 2 || (!ascii && text[a..b].chars().nth(2).is_none()) {
                (a, b) = (start, end);
                ascii = !masks.any(|b| b.high, a, b);
            }
            // The first character that is not punctuation other than `@` is an `@`.
            let first = masks.find(|b| !b.punct | b.at, start, end);
            let mention = first < end && bytes[first] == b'@';
            let shouted = masks.any(|b| b.upper, a, b) && !masks.any(|b| b.lower, a, b);
            let (lower_span, upper, run) = if ascii {
                ((a, b), shouted, !masks.any(|b| !b.word, a, b))
            } else {
                let from = lower.len();
                let upper = push_lower_reading_case(&text[a..b], lower);
                ((from, lower.len()), upper, false)
            };
            let word = &lower[lower_span.0..lower_span.1];
            let fx = fx_hash(word.as_bytes());
            *uppers += usize::from(upper);
            info.push(WordInfo {
                span: (a, b),
                lower_span,
                entry: self.entry(word, fx, run),
                upper,
                shouted,
                mention,
                fx,
                run,
            });
        }
    }

    /// VADER's scores of `text`.
    pub fn polarity(&self, text: &str) -> Polarity {
        let mut words = Words::default();
        let mut sentiments = Vec::new();
        self.polarity_with(text, &mut words, &mut sentiments)
    }

    /// [`Vader::polarity`] with buffers the caller keeps between texts; `sentiments` is left
    /// holding each word's valence (after the rules).
    pub fn polarity_with(
        &self,
        text: &str,
        words: &mut Words,
        sentiments: &mut Vec<f64>,
    ) -> Polarity {
        self.words(text, words);
        let w = &*words;
        let n = w.len();
        let is_cap_diff = w.uppers > 0 && w.uppers < n;
        sentiments.clear();
        for i in 0..n {
            let entry = w.info[i].entry;
            if entry.booster.is_some() || (i + 1 < n && entry.flags & KIND != 0 && w.has(i + 1, OF))
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(sentiment_valence(w, i, is_cap_diff));
        }
        but_check(w, sentiments);
        score_valence(sentiments, w.bangs, w.questions)
    }
}

fn sentiment_valence(w: &Words, i: usize, is_cap_diff: bool) -> f64 {
    let Some(lexical) = w.info[i].entry.valence else {
        return 0.0;
    };
    let n = w.len();
    let mut valence = lexical;
    if w.has(i, NO) && i != n - 1 && w.in_lexicon(i + 1) {
        valence = 0.0;
    }
    if (i > 0 && w.has(i - 1, NO))
        || (i > 1 && w.has(i - 2, NO))
        || (i > 2 && w.has(i - 3, NO) && w.has(i - 1, OR_NOR))
    {
        valence = lexical * N_SCALAR;
    }
    if is_cap_diff && w.info[i].upper {
        valence += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    for start_i in 0..3 {
        if i > start_i && !w.in_lexicon(i - (start_i + 1)) {
            let before = i - (start_i + 1);
            let mut s = scalar_inc_dec(w, before, valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, w, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, w, i);
            }
        }
    }
    least_check(valence, w, i)
}

fn scalar_inc_dec(w: &Words, at: usize, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(b) = w.info[at].entry.booster else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -b } else { b };
    if w.info[at].upper && is_cap_diff {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

/// Phrases around word `i` (which is at least the fourth): a special case sets the valence,
/// a two-word booster before it adds to it. Compared only when a word nearby is part of one.
fn special_idioms_check(mut valence: f64, w: &Words, i: usize) -> f64 {
    let n = w.len();
    let near = (i - 3..(i + 3).min(n)).any(|k| w.flags(k) & PHRASE != 0);
    if !near {
        return valence;
    }
    let special = |at: usize, len: usize, limit: usize| {
        SPECIAL_CASES
            .iter()
            .find(|(k, _)| k.len() == len && at + len <= limit && w.phrase_at(at, k))
            .map(|(_, v)| *v)
    };
    // onezero, twoonezero, twoone, threetwoone, threetwo: the first that is one decides.
    let before = [
        (i - 1, 2, n),
        (i - 2, 3, n),
        (i - 2, 2, i),
        (i - 3, 3, i),
        (i - 3, 2, i - 1),
    ];
    for (at, len, limit) in before {
        if let Some(v) = special(at, len, limit) {
            valence = v;
            break;
        }
    }
    if n - 1 > i
        && let Some(v) = special(i, 2, n)
    {
        valence = v;
    }
    if n - 1 > i + 1
        && let Some(v) = special(i, 3, n)
    {
        valence = v;
    }
    // Two-word boosters (`kind of`, `sort of`, `just enough`) just before: threetwo, twoone.
    for (at, limit) in [(i - 3, i - 1), (i - 2, i)] {
        for (phrase, value) in BOOSTER_PHRASES {
            if at + 2 <= limit && w.phrase_at(at, phrase) {
                valence += value;
            }
        }
    }
    valence
}

fn least_check(valence: f64, w: &Words, i: usize) -> f64 {
    if i > 1 && !w.in_lexicon(i - 1) && w.has(i - 1, LEAST) {
        if !w.has(i - 2, AT_OR_VERY) {
            return valence * N_SCALAR;
        }
    } else if i > 0 && !w.in_lexicon(i - 1) && w.has(i - 1, LEAST) {
        return valence * N_SCALAR;
    }
    valence
}

fn negation_check(valence: f64, w: &Words, start_i: usize, i: usize) -> f64 {
    match start_i {
        0 if w.has(i - 1, NEGATION) => valence * N_SCALAR,
        1 => {
            if w.has(i - 2, NEVER) && w.has(i - 1, SO_OR_THIS) {
                valence * 1.25
            } else if w.has(i - 2, WITHOUT) && w.has(i - 1, DOUBT) {
                valence
            } else if w.has(i - 2, NEGATION) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            if (w.has(i - 3, NEVER) && w.has(i - 2, SO_OR_THIS)) || w.has(i - 1, SO_OR_THIS) {
                valence * 1.25
            } else if w.has(i - 3, WITHOUT) && (w.has(i - 2, DOUBT) || w.has(i - 1, DOUBT)) {
                valence
            } else if w.has(i - 3, NEGATION) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// After a "but", sentiments weigh 1.5 times, before it half. As in the reference, each value
/// rescales the first sentiment equal to it (`list.index`), which is itself when values differ.
fn but_check(w: &Words, sentiments: &mut [f64]) {
    let Some(bi) = (0..w.len()).find(|&i| w.has(i, BUT)) else {
        return;
    };
    for k in 0..sentiments.len() {
        let value = sentiments[k];
        let si = sentiments.iter().position(|&s| s == value).unwrap_or(k);
        if si < bi {
            sentiments[si] = value * 0.5;
        } else if si > bi {
            sentiments[si] = value * 1.5;
        }
    }
}

/// `bangs` and `questions`: the text's `!` and `?`.
fn punctuation_emphasis(bangs: usize, questions: usize) -> f64 {
    let ep = bangs.min(4);
    let qm = questions;
    let ep_amplifier = ep as f64 * 0.292;
    let qm_amplifier = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep_amplifier + qm_amplifier
}

fn score_valence(sentiments: &[f64], bangs: usize, questions: usize) -> Polarity {
    if sentiments.is_empty() {
        return Polarity::default();
    }
    let mut sum = sentiments.iter().fold(0.0, |a, s| a + s);
    let amplifier = punctuation_emphasis(bangs, questions);
    if sum > 0.0 {
        sum += amplifier;
    } else if sum < 0.0 {
        sum -= amplifier;
    }
    let compound = normalize(sum);
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amplifier;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    Polarity {
        neg: (neg_sum / total).abs(),
        neu: (f64::from(neu_count) / total).abs(),
        pos: (pos_sum / total).abs(),
        compound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexicons_are_whole() {
        let v = Vader::new();
        assert_eq!(v.len(), 7_506);
        assert_eq!(v.valence("kinda"), None);
        assert_eq!(v.valence("good"), Some(1.9));
        assert_eq!(v.emoji.get(&'😁'), Some(&"beaming face with smiling eyes"));
    }

    #[test]
    fn the_two_word_boosters_are_the_lists_ones() {
        let listed: Vec<(String, f64)> = BOOSTERS_UP
            .iter()
            .map(|w| (w, B_INCR))
            .chain(BOOSTERS_DOWN.iter().map(|w| (w, B_DECR)))
            .filter(|(w, _)| w.contains(' '))
            .map(|(w, v)| ((*w).to_string(), v))
            .collect();
        let phrases: Vec<(String, f64)> = BOOSTER_PHRASES
            .iter()
            .map(|(p, v)| (p.join(" "), *v))
            .collect();
        assert_eq!(listed, phrases);
    }

    #[test]
    fn words_keep_emoticons_and_lose_the_punctuation_around_words() {
        let v = Vader::new();
        let mut w = Words::default();
        v.words("  Make sure you :) or :D today!!  ", &mut w);
        let words: Vec<&str> = (0..w.len()).map(|i| w.word(i)).collect();
        assert_eq!(words, ["Make", "sure", "you", ":)", "or", ":D", "today"]);
        assert_eq!(w.lower(0), "make");
    }

    #[test]
    fn the_spaces_spelt_out_in_utf8_are_pythons_on_every_code_point() {
        let mut buf = [0u8; 8];
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            let n = c.encode_utf8(&mut buf).len();
            let want = if py_space(c) { n } else { 0 };
            assert_eq!(space_len(&buf[..n], 0), want, "{c:?}");
        }
    }

    #[test]
    fn every_word_of_the_table_is_found_past_its_filter() {
        let t = &vader().table;
        let found = (0..t.entries.len())
            .filter(|&e| {
                let (at, len) = t.spans[e];
                let word = &t.arena[at as usize..(at + len) as usize];
                t.get(word) == Some(t.entries[e])
            })
            .count();
        assert_eq!(found, t.entries.len());
        // And the filter turns most other words away (about 1 in 9 passes it).
        let bit = |w: &str| filter_bit(word_hash(fx_hash(w.as_bytes())));
        let passed = (0..10_000)
            .map(|i| format!("zz{i}"))
            .filter(|w| t.filter[bit(w) / 64] & (1 << (bit(w) % 64)) != 0)
            .count();
        assert!(passed < 2_000, "{passed}");
    }

    /// A word's fields: spelling, lower-case form, entry, upper, shouted, mention, hash, run;
    /// and the text's counts (the same for every word).
    type Fields = (
        String,
        String,
        Entry,
        bool,
        bool,
        bool,
        u64,
        bool,
        [usize; 3],
    );

    /// Every word's fields, as one way of splitting gives them.
    fn described(w: &Words) -> Vec<Fields> {
        (0..w.len())
            .map(|i| {
                let x = &w.info[i];
                let (word, lower) = (w.word(i).to_string(), w.lower(i).to_string());
                let counts = [w.uppers, w.bangs, w.questions];
                (
                    word, lower, x.entry, x.upper, x.shouted, x.mention, x.fx, x.run, counts,
                )
            })
            .collect()
    }

    /// The masks' way and the byte-by-byte way, on the same text.
    fn both_ways(v: &Vader, text: &str) -> [Vec<Fields>; 2] {
        let mut w = Words::default();
        v.words(text, &mut w);
        let fast = described(&w);
        w.lower.clear();
        w.info.clear();
        v.any_words(&mut w);
        [fast, described(&w)]
    }

    #[test]
    fn every_text_has_the_same_words_either_way() {
        let v = Vader::new();
        let (mut texts, mut beyond_ascii) = (0, 0);
        for text in crate::testkit_texts::fixture_texts() {
            texts += 1;
            beyond_ascii += usize::from(!text.is_ascii());
            let [fast, slow] = both_ways(&v, &text);
            assert_eq!(fast, slow, "{text:?}");
        }
        assert!(
            texts > 3_000 && beyond_ascii > 1_000,
            "{texts} {beyond_ascii}"
        );
        // Words across 64-byte blocks, punctuation alone, mentions behind punctuation,
        // short words kept whole, spaces Python has and Rust's split_whitespace has not.
        let long = format!("{} GREAT!!!", "a".repeat(70));
        for text in [
            long.as_str(),
            "(@GOP) \"@x\" ... ?! :) a. I'm NOT happy,but OK \x1cwow\x1f @ !@ @@",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!! x",
            "ΣΑΣ é! «Él» …ok\u{3000}日本語のテキスト\u{a0}x\u{2029}@ÉA éA ÉX, ﬁ İs",
        ] {
            let [fast, slow] = both_ways(&v, text);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_has_the_same_words_either_way(
            text in "[ a-zA-Z0-9_@#!?.,'\"():;\t\x1c\u{85}\u{a0}\u{2000}\u{2026}\u{3000}\u{3042}éÉΣİ-]{0,150}"
        ) {
            let v = vader();
            let [fast, slow] = both_ways(v, &text);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    fn vader() -> &'static Vader {
        static VADER: std::sync::OnceLock<Vader> = std::sync::OnceLock::new();
        VADER.get_or_init(Vader::new)
    }

    #[test]
    fn words_split_on_every_unicode_space_as_str_split_does() {
        let v = Vader::new();
        let mut w = Words::default();
        // Every non-ASCII White_Space character, and characters that share their first byte.
        let spaces =
            "\u{85}\u{a0}\u{1680}\u{2000}\u{2005}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";
        let text: String = spaces
            .chars()
            .zip(
                [
                    "é",
                    "¢x",
                    "ᚁa",
                    "—b",
                    "…c",
                    "€d",
                    "ぁe",
                    "、f",
                    "“g",
                    "g”",
                    "h\u{2060}i",
                ]
                .iter(),
            )
            .flat_map(|(space, word)| [word.to_string(), space.to_string()])
            .collect::<Vec<_>>()
            .concat();
        v.words(&text, &mut w);
        let ours: Vec<&str> = (0..w.len()).map(|i| w.word(i)).collect();
        let python: Vec<&str> = text.split(py_space).filter(|t| !t.is_empty()).collect();
        assert_eq!(ours, python);
        assert_eq!(ours.len(), 11);
    }

    #[test]
    fn but_rescales_the_first_equal_sentiment_as_the_reference_does() {
        let v = Vader::new();
        let mut w = Words::default();
        v.words("a b but c d", &mut w);
        // The 1.0 after "but" finds the halved 2.0 before it, and halves it again: the
        // reference's `[0.5, 1.0, 0.0, 1.0, 4.5]`.
        let mut s = [2.0, 2.0, 0.0, 1.0, 3.0];
        but_check(&w, &mut s);
        assert_eq!(s, [0.5, 1.0, 0.0, 1.0, 4.5]);
    }

    #[test]
    fn scores_equal_the_references_on_every_text_it_printed() {
        // jobs/pipeline/reference/vader_reference.py: VADER's examples, a case of each rule,
        // and the texts of the shipped tweet samples, unrounded.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/vader/reference.jsonl"
        );
        let reference = std::fs::read_to_string(path).expect("the reference file");
        let v = Vader::new();
        let mut checked = 0;
        for line in reference.lines() {
            let r: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let text = r["text"].as_str().expect("text");
            let got = v.polarity(text);
            // serde_json's own float parsing may be one unit in the last place off: read the
            // digits as Rust parses them (exactly).
            let exact = |key: &str| -> f64 {
                let at = line.rfind(&format!("\"{key}\": ")).expect(key) + key.len() + 4;
                let digits: String = line[at..]
                    .chars()
                    .take_while(|c| !matches!(c, ',' | '}'))
                    .collect();
                digits.trim().parse().expect("a number")
            };
            let want = Polarity {
                neg: exact("neg"),
                neu: exact("neu"),
                pos: exact("pos"),
                compound: exact("compound"),
            };
            assert_eq!(got, want, "{text:?}");
            checked += 1;
        }
        assert_eq!(checked, 3_299);
    }
}

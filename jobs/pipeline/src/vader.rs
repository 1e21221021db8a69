//! VADER (Hutto & Gilbert 2014), the rule-based sentiment of social-media text, as the reference
//! implementation (PyPI `vaderSentiment` 3.3.2) computes it: the same lexicons (embedded, MIT),
//! the same rules in the same order, quirks included (the contrastive "but" rescales the *first*
//! sentiment equal to each one, as Python's `list.index` does), so the scores equal the
//! reference's to the last bit; `tests/vader_reference.rs` checks them against values the
//! reference printed. The classifier uses them as features ([`crate::classify`]).
//!
//! Speed: one pass splits and lowers the words into one buffer; a word is looked up once.

use std::collections::HashMap;

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

/// Phrases that set a valence of their own.
const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
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
    lexicon: HashMap<Box<str>, f64, FastHash>,
    boosters: HashMap<&'static str, f64, FastHash>,
    emoji: HashMap<char, &'static str, FastHash>,
}

/// The words of one text: the original spellings and their lower-case forms, as ranges into
/// two buffers (no allocation per word once the buffers have grown).
#[derive(Default)]
pub struct Words {
    text: String,
    spans: Vec<(usize, usize)>,
    lower: String,
    lower_spans: Vec<(usize, usize)>,
}

impl Words {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn word(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.text[a..b]
    }

    pub fn lower(&self, i: usize) -> &str {
        let (a, b) = self.lower_spans[i];
        &self.lower[a..b]
    }
}

/// Python's `str.isspace` (what `str.split()` splits on): Unicode's White_Space, and the
/// information separators U+001C..U+001F.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.isupper`: a cased character, and none in lower case.
fn py_isupper(s: &str) -> bool {
    if s.is_ascii() {
        let b = s.as_bytes();
        return b.iter().any(u8::is_ascii_uppercase) && !b.iter().any(u8::is_ascii_lowercase);
    }
    s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// A word with the punctuation around it stripped, unless that leaves two characters or fewer
/// (then it was likely an emoticon, kept as written).
fn strip_punctuation(token: &str) -> &str {
    let stripped = token.trim_matches(is_punctuation);
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

fn negated(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
}

/// Python's `normalize`: the sum mapped into [-1, 1], alpha 15.
fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

impl Default for Vader {
    fn default() -> Self {
        Vader::new()
    }
}

impl Vader {
    pub fn new() -> Vader {
        let mut lexicon = HashMap::with_capacity_and_hasher(7_600, FastHash::default());
        for line in LEXICON.trim_end_matches('\n').split('\n') {
            let mut fields = line.trim().split('\t');
            if let (Some(word), Some(measure)) = (fields.next(), fields.next())
                && let Ok(measure) = measure.parse::<f64>()
            {
                lexicon.insert(Box::<str>::from(word), measure);
            }
        }
        let mut boosters = HashMap::with_capacity_and_hasher(100, FastHash::default());
        boosters.extend(BOOSTERS_UP.iter().map(|&w| (w, B_INCR)));
        boosters.extend(BOOSTERS_DOWN.iter().map(|&w| (w, B_DECR)));
        let mut emoji = HashMap::with_capacity_and_hasher(1_300, FastHash::default());
        for line in EMOJI.trim_end_matches('\n').split('\n') {
            let mut fields = line.trim().split('\t');
            if let (Some(key), Some(description)) = (fields.next(), fields.next()) {
                // Only one-character keys can match: the reference looks characters up.
                let mut chars = key.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    emoji.insert(c, description);
                }
            }
        }
        Vader {
            lexicon,
            boosters,
            emoji,
        }
    }

    pub fn len(&self) -> usize {
        self.lexicon.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lexicon.is_empty()
    }

    pub fn valence(&self, word: &str) -> Option<f64> {
        self.lexicon.get(word).copied()
    }

    /// The text with each emoji replaced by its description (as the reference does first),
    /// trimmed, into `out`.
    fn describe_emoji(&self, text: &str, out: &mut String) {
        out.clear();
        let mut prev_space = true;
        for c in text.chars() {
            // Every key is at or above U+00A9: ASCII passes straight through.
            let description = if c.is_ascii() {
                None
            } else {
                self.emoji.get(&c)
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
    /// stripped) and their lower-case forms.
    pub fn words(&self, text: &str, words: &mut Words) {
        let mut described = std::mem::take(&mut words.text);
        self.describe_emoji(text, &mut described);
        words.text = described;
        words.spans.clear();
        words.lower.clear();
        words.lower_spans.clear();
        let base = words.text.as_ptr() as usize;
        for token in words.text.split(py_space).filter(|t| !t.is_empty()) {
            let w = strip_punctuation(token);
            let start = w.as_ptr() as usize - base;
            words.spans.push((start, start + w.len()));
            let lower_start = words.lower.len();
            if w.is_ascii() {
                words
                    .lower
                    .extend(w.bytes().map(|b| char::from(b.to_ascii_lowercase())));
            } else {
                words.lower.push_str(&w.to_lowercase());
            }
            words.lower_spans.push((lower_start, words.lower.len()));
        }
    }

    /// VADER's scores of `text`.
    pub fn polarity(&self, text: &str) -> Polarity {
        let mut words = Words::default();
        let mut sentiments = Vec::new();
        self.polarity_with(text, &mut words, &mut sentiments)
    }

    /// [`Vader::polarity`] with buffers the caller keeps between texts.
    pub fn polarity_with(
        &self,
        text: &str,
        words: &mut Words,
        sentiments: &mut Vec<f64>,
    ) -> Polarity {
        self.words(text, words);
        let n = words.len();
        let is_cap_diff = {
            let caps = (0..n).filter(|&i| py_isupper(words.word(i))).count();
            caps > 0 && caps < n
        };
        sentiments.clear();
        for i in 0..n {
            let lower = words.lower(i);
            if self.boosters.contains_key(lower)
                || (i + 1 < n && lower == "kind" && words.lower(i + 1) == "of")
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.sentiment_valence(words, i, is_cap_diff));
        }
        but_check(words, sentiments);
        score_valence(sentiments, &words.text)
    }

    fn in_lexicon(&self, word: &str) -> bool {
        self.lexicon.contains_key(word)
    }

    fn sentiment_valence(&self, w: &Words, i: usize, is_cap_diff: bool) -> f64 {
        let lower = w.lower(i);
        let Some(&lexical) = self.lexicon.get(lower) else {
            return 0.0;
        };
        let n = w.len();
        let mut valence = lexical;
        if lower == "no" && i != n - 1 && self.in_lexicon(w.lower(i + 1)) {
            valence = 0.0;
        }
        if (i > 0 && w.lower(i - 1) == "no")
            || (i > 1 && w.lower(i - 2) == "no")
            || (i > 2 && w.lower(i - 3) == "no" && matches!(w.lower(i - 1), "or" | "nor"))
        {
            valence = lexical * N_SCALAR;
        }
        if is_cap_diff && py_isupper(w.word(i)) {
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start_i in 0..3 {
            if i > start_i && !self.in_lexicon(w.lower(i - (start_i + 1))) {
                let before = i - (start_i + 1);
                let mut s =
                    self.scalar_inc_dec(w.word(before), w.lower(before), valence, is_cap_diff);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, w, start_i, i);
                if start_i == 2 {
                    valence = self.special_idioms_check(valence, w, i);
                }
            }
        }
        self.least_check(valence, w, i)
    }

    fn scalar_inc_dec(&self, word: &str, lower: &str, valence: f64, is_cap_diff: bool) -> f64 {
        let Some(&b) = self.boosters.get(lower) else {
            return 0.0;
        };
        let mut scalar = if valence < 0.0 { -b } else { b };
        if py_isupper(word) && is_cap_diff {
            scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        scalar
    }

    fn special_idioms_check(&self, mut valence: f64, w: &Words, i: usize) -> f64 {
        let n = w.len();
        let pair = |a: usize, b: usize| format!("{} {}", w.lower(a), w.lower(b));
        let triple = |a: usize| format!("{} {} {}", w.lower(a), w.lower(a + 1), w.lower(a + 2));
        let onezero = pair(i - 1, i);
        let twoonezero = triple(i - 2);
        let twoone = pair(i - 2, i - 1);
        let threetwoone = triple(i - 3);
        let threetwo = pair(i - 3, i - 2);
        let special = |s: &str| SPECIAL_CASES.iter().find(|(k, _)| *k == s).map(|(_, v)| *v);
        for seq in [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo] {
            if let Some(v) = special(seq) {
                valence = v;
                break;
            }
        }
        if n - 1 > i
            && let Some(v) = special(&pair(i, i + 1))
        {
            valence = v;
        }
        if n - 1 > i + 1
            && let Some(v) = special(&triple(i))
        {
            valence = v;
        }
        for ngram in [&threetwoone, &threetwo, &twoone] {
            if let Some(b) = self.boosters.get(ngram.as_str()) {
                valence += b;
            }
        }
        valence
    }

    fn least_check(&self, valence: f64, w: &Words, i: usize) -> f64 {
        if i > 1 && !self.in_lexicon(w.lower(i - 1)) && w.lower(i - 1) == "least" {
            if w.lower(i - 2) != "at" && w.lower(i - 2) != "very" {
                return valence * N_SCALAR;
            }
        } else if i > 0 && !self.in_lexicon(w.lower(i - 1)) && w.lower(i - 1) == "least" {
            return valence * N_SCALAR;
        }
        valence
    }
}

fn negation_check(valence: f64, w: &Words, start_i: usize, i: usize) -> f64 {
    let so_or_this = |s: &str| s == "so" || s == "this";
    match start_i {
        0 if negated(w.lower(i - 1)) => valence * N_SCALAR,
        1 => {
            if w.lower(i - 2) == "never" && so_or_this(w.lower(i - 1)) {
                valence * 1.25
            } else if w.lower(i - 2) == "without" && w.lower(i - 1) == "doubt" {
                valence
            } else if negated(w.lower(i - 2)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            if (w.lower(i - 3) == "never" && so_or_this(w.lower(i - 2)))
                || so_or_this(w.lower(i - 1))
            {
                valence * 1.25
            } else if w.lower(i - 3) == "without"
                && (w.lower(i - 2) == "doubt" || w.lower(i - 1) == "doubt")
            {
                valence
            } else if negated(w.lower(i - 3)) {
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
    let Some(bi) = (0..w.len()).find(|&i| w.lower(i) == "but") else {
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

fn punctuation_emphasis(text: &str) -> f64 {
    let ep = text.bytes().filter(|&b| b == b'!').count().min(4);
    let qm = text.bytes().filter(|&b| b == b'?').count();
    let ep_amplifier = ep as f64 * 0.292;
    let qm_amplifier = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep_amplifier + qm_amplifier
}

fn score_valence(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity::default();
    }
    let mut sum = sentiments.iter().fold(0.0, |a, s| a + s);
    let amplifier = punctuation_emphasis(text);
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
        assert_eq!(v.valence("good"), Some(1.9));
        assert_eq!(v.emoji.get(&'😁'), Some(&"beaming face with smiling eyes"));
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

//! What the classifier sees of a post: hashed word unigrams, bigrams and 5-character prefixes
//! (present or not, scaled to unit length), and dense figures that carry over to debates the
//! model never saw ([`DENSE`]: VADER's four scores, which carry negation, intensifiers and
//! emphasis, its positive and negative words, the LabMT mean, and marks of emphasis).

use crate::vader::{Polarity, Vader, Words, fx_hash};

/// The dense features, in the order the model file names them.
pub const DENSE: [&str; 12] = [
    "vader_neg",
    "vader_neu",
    "vader_pos",
    "vader_compound",
    "labmt",
    "vader_positive_words",
    "vader_negative_words",
    "exclamations",
    "questions",
    "capitals",
    "retweet",
    "link",
];

/// A post's features: hashed buckets (sorted, distinct) each worth `1/sqrt(len)`, and the
/// dense figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub buckets: Vec<u32>,
    pub dense: [f64; DENSE.len()],
}

impl Features {
    /// The value of each hashed feature present (binary, L2-normalised).
    pub fn bucket_value(&self) -> f64 {
        if self.buckets.is_empty() {
            0.0
        } else {
            1.0 / (self.buckets.len() as f64).sqrt()
        }
    }
}

/// Turns texts into [`Features`]; keeps its buffers between posts.
pub struct Featurizer {
    vader: Vader,
    bits: u32,
    words: Words,
    sentiments: Vec<f64>,
    hashes: Vec<u64>,
    prefixes: Vec<u64>,
    /// Sorts and dedupes the buckets when there are at most 2^16 of them (else a sort does).
    set: Option<BucketSet>,
}

/// A set of buckets (below 2^16) that gives them back sorted without a comparison sort (sort
/// and dedup of a post's ~40 buckets took about 0.45 us, this way about 0.3): a bucket sets its
/// bit in a bitmap, the bitmap's word its bit in a summary, and the bits read back in order are
/// the buckets sorted.
struct BucketSet {
    bitmap: Vec<u64>,
    summary: Vec<u64>,
}

impl BucketSet {
    const MAX_BITS: u32 = 16;

    fn new(bits: u32) -> Option<BucketSet> {
        let words = (1usize << bits).div_ceil(64);
        (bits <= Self::MAX_BITS).then(|| BucketSet {
            bitmap: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
        })
    }

    fn insert(&mut self, bucket: u32) {
        let word = bucket as usize / 64;
        self.bitmap[word] |= 1 << (bucket % 64);
        self.summary[word / 64] |= 1 << (word % 64);
    }

    /// Appends the buckets, sorted, to `out`, and empties the set.
    fn drain_sorted(&mut self, out: &mut Vec<u32>) {
        for (s, summary) in self.summary.iter_mut().enumerate() {
            let mut words = std::mem::take(summary);
            while words != 0 {
                let word = s * 64 + words.trailing_zeros() as usize;
                words &= words - 1;
                let mut bits = std::mem::take(&mut self.bitmap[word]);
                while bits != 0 {
                    out.push((word * 64) as u32 + bits.trailing_zeros());
                    bits &= bits - 1;
                }
            }
        }
    }
}

/// A word's hash (FxHash over 8 bytes at a time): VADER's table hashes words the same way.
fn hash(bytes: &[u8]) -> u64 {
    fx_hash(bytes)
}

/// Spreads a 64-bit hash over its top bits (splitmix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash of two words in a row.
fn bigram(first: u64, second: u64) -> u64 {
    first.rotate_left(17) ^ second.wrapping_mul(BIGRAM_SALT)
}

/// A longer word also counts by its first characters (`terrib`le, `terrif`ic): a word the
/// training set never spelt that way still shares its stem.
const PREFIX: usize = 5;
const PREFIX_SALT: u64 = 0x7072_6566_6978_0000;
const BIGRAM_SALT: u64 = 0x0000_0100_0000_01b3;

/// The runs of word characters (letters, digits, `_`) in a lower-case word, with how many
/// characters each has and where its first `PREFIX` characters end.
fn for_each_run(word: &str, mut f: impl FnMut(&str, usize, usize)) {
    if word.is_ascii() {
        let bytes = word.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            f(&word[start..i], i - start, PREFIX.min(i - start));
        }
        return;
    }
    let is_word = |c: char| crate::chars::is_alphanumeric(c) || c == '_';
    let mut chars = word.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if !is_word(c) {
            chars.next();
            continue;
        }
        let (mut end, mut n, mut prefix_end) = (start, 0, start);
        while let Some(&(at, c)) = chars.peek() {
            if !is_word(c) {
                break;
            }
            end = at + c.len_utf8();
            n += 1;
            if n == PREFIX {
                prefix_end = end;
            }
            chars.next();
        }
        f(&word[start..end], n, prefix_end - start);
    }
}

/// The hashes of a text's words (VADER's words, lower-cased, split into runs of word
/// characters): a link is the word `url`, a mention `@user` (who is mentioned says little of
/// the mood, and names change from one debate to the next), one-character words are left out,
/// and a leading `RT @name:` is not part of the post. Words longer than [`PREFIX`] characters
/// also give the hash of their first characters, into `prefixes`.
pub fn word_hashes(words: &Words, out: &mut Vec<u64>, prefixes: &mut Vec<u64>) {
    out.clear();
    prefixes.clear();
    let skip = if words.len() > 1 && words.word(0) == "RT" && words.is_mention(1) {
        2
    } else {
        0
    };
    for i in skip..words.len() {
        let lower = words.lower(i);
        // Most words are one run of ASCII word characters, already hashed by VADER's lookup.
        if let Some(h) = words.run_hash(i).filter(|_| !words.is_mention(i)) {
            if lower.len() >= 2 {
                out.push(h);
                if lower.len() > PREFIX {
                    prefixes.push(hash(&lower.as_bytes()[..PREFIX]) ^ PREFIX_SALT);
                }
            }
            continue;
        }
        word_hashes_by_runs(lower, words.is_mention(i), out, prefixes);
    }
}

/// One word's hashes the long way: the word split into runs of word characters.
fn word_hashes_by_runs(
    lower: &str,
    mut mention: bool,
    out: &mut Vec<u64>,
    prefixes: &mut Vec<u64>,
) {
    if lower.starts_with("http://") || lower.starts_with("https://") {
        out.push(hash(b"url"));
        return;
    }
    for_each_run(lower, |run, n, prefix| {
        if mention {
            out.push(hash(b"@user"));
            mention = false;
        } else if n >= 2 {
            out.push(hash(run.as_bytes()));
            if n > PREFIX {
                prefixes.push(hash(&run.as_bytes()[..prefix]) ^ PREFIX_SALT);
            }
        }
    });
}

impl Featurizer {
    /// Buckets: 2^bits.
    pub fn new(bits: u32) -> Featurizer {
        Featurizer {
            vader: Vader::new(),
            bits,
            words: Words::default(),
            sentiments: Vec::new(),
            hashes: Vec::new(),
            prefixes: Vec::new(),
            set: BucketSet::new(bits),
        }
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The features of `text`, whose LabMT mean (through the lens) is `labmt`, into `out`.
    pub fn features_into(&mut self, text: &str, labmt: Option<f64>, out: &mut Features) {
        let Polarity {
            neg,
            neu,
            pos,
            compound,
        } = self
            .vader
            .polarity_with(text, &mut self.words, &mut self.sentiments);
        let positive = self.sentiments.iter().filter(|s| **s > 0.0).count();
        let negative = self.sentiments.iter().filter(|s| **s < 0.0).count();
        let bytes = text.as_bytes();
        let count = |b: u8| memchr::memchr_iter(b, bytes).count();
        let capitals = (0..self.words.len())
            .filter(|&i| self.words.word(i).len() > 1 && self.words.is_shouted(i))
            .count();
        out.dense = [
            neg,
            neu,
            pos,
            compound,
            labmt.map_or(0.0, |m| (m - 5.0) / 3.0),
            positive.min(5) as f64 / 5.0,
            negative.min(5) as f64 / 5.0,
            count(b'!').min(4) as f64 / 4.0,
            f64::from(u8::from(count(b'?') > 0)),
            capitals.min(5) as f64 / 5.0,
            f64::from(u8::from(text.starts_with("RT @"))),
            f64::from(u8::from(crate::text::find_http(text).is_some())),
        ];
        word_hashes(&self.words, &mut self.hashes, &mut self.prefixes);
        out.buckets.clear();
        let shift = 64 - self.bits;
        let bucket = |h: u64| (mix(h) >> shift) as u32;
        if let Some(set) = &mut self.set {
            for (i, &h) in self.hashes.iter().enumerate() {
                set.insert(bucket(h));
                if i > 0 {
                    set.insert(bucket(bigram(self.hashes[i - 1], h)));
                }
            }
            for &h in &self.prefixes {
                set.insert(bucket(h));
            }
            set.drain_sorted(&mut out.buckets);
        } else {
            for (i, &h) in self.hashes.iter().enumerate() {
                out.buckets.push(bucket(h));
                if i > 0 {
                    out.buckets.push(bucket(bigram(self.hashes[i - 1], h)));
                }
            }
            out.buckets.extend(self.prefixes.iter().map(|&h| bucket(h)));
            out.buckets.sort_unstable();
            out.buckets.dedup();
        }
    }

    pub fn features(&mut self, text: &str, labmt: Option<f64>) -> Features {
        let mut f = Features::default();
        self.features_into(text, labmt, &mut f);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<u64> {
        let (mut out, mut prefixes) = (Vec::new(), Vec::new());
        let mut w = Words::default();
        Vader::new().words(text, &mut w);
        word_hashes(&w, &mut out, &mut prefixes);
        out
    }

    #[test]
    fn words_are_lowered_links_and_mentions_are_one_word_and_the_retweet_prefix_goes() {
        let h = |w: &str| hash(w.as_bytes());
        assert_eq!(
            words("RT @GOP: Trump WON tonight, @realDonaldTrump! https://t.co/x #GOPDebate a"),
            [
                h("trump"),
                h("won"),
                h("tonight"),
                h("@user"),
                h("url"),
                h("gopdebate")
            ]
        );
        // "RT" not followed by a mention is a word like any other.
        assert_eq!(words("RT this"), [h("rt"), h("this")]);
        assert_eq!(words("ÉNORME"), [h("énorme")]);
    }

    #[test]
    fn the_shortcut_for_words_of_one_run_gives_the_hashes_of_the_long_way() {
        let vader = Vader::new();
        let mut w = Words::default();
        let (mut fast, mut fast_prefixes) = (Vec::new(), Vec::new());
        let (mut slow, mut slow_prefixes) = (Vec::new(), Vec::new());
        let mut shortcuts = 0;
        for text in crate::testkit_texts::fixture_texts() {
            vader.words(&text, &mut w);
            word_hashes(&w, &mut fast, &mut fast_prefixes);
            let skip = usize::from(w.len() > 1 && w.word(0) == "RT" && w.is_mention(1)) * 2;
            slow.clear();
            slow_prefixes.clear();
            for i in skip..w.len() {
                shortcuts += usize::from(w.run_hash(i).is_some());
                word_hashes_by_runs(w.lower(i), w.is_mention(i), &mut slow, &mut slow_prefixes);
            }
            assert_eq!(fast, slow, "{text:?}");
            assert_eq!(fast_prefixes, slow_prefixes, "{text:?}");
        }
        assert!(shortcuts > 20_000, "{shortcuts}");
    }

    proptest::proptest! {
        #[test]
        fn the_bucket_set_sorts_and_dedupes_as_a_sort_does(
            bits in 8u32..=16,
            raw in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..200),
        ) {
            let mut set = BucketSet::new(bits).expect("16 bits or fewer");
            let raw: Vec<u32> = raw.iter().map(|b| b >> (32 - bits)).collect();
            let mut got = Vec::new();
            for &b in &raw {
                set.insert(b);
            }
            set.drain_sorted(&mut got);
            let mut want = raw.clone();
            want.sort_unstable();
            want.dedup();
            proptest::prop_assert_eq!(&got, &want);
            // And it is empty again.
            got.clear();
            set.drain_sorted(&mut got);
            proptest::prop_assert!(got.is_empty());
        }
    }

    #[test]
    fn features_are_the_same_with_the_bucket_set_or_a_sort() {
        let mut with_set = Featurizer::new(16);
        let mut with_sort = Featurizer::new(16);
        with_sort.set = None;
        for text in crate::testkit_texts::fixture_texts() {
            let (a, b) = (
                with_set.features(&text, Some(5.5)),
                with_sort.features(&text, Some(5.5)),
            );
            assert_eq!(a, b, "{text:?}");
        }
        assert!(Featurizer::new(17).set.is_none());
    }

    #[test]
    fn buckets_are_distinct_sorted_and_unit_length() {
        let mut f = Featurizer::new(16);
        let x = f.features("good good night", Some(7.0));
        // good, "good good", "good night", night: the repeated word counts once.
        assert_eq!(x.buckets.len(), 4);
        assert!(x.buckets.windows(2).all(|w| w[0] < w[1]));
        assert!((x.bucket_value() * x.bucket_value() * 4.0 - 1.0).abs() < 1e-12);
        assert!((x.dense[4] - 2.0 / 3.0).abs() < 1e-12);
        assert!(x.dense[3] > 0.0);
    }
}

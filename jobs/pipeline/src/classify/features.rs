//! What the classifier sees of a post: hashed word unigrams and bigrams (present or not, scaled
//! to unit length), and a few dense figures that carry over to debates the model never saw
//! (VADER's four scores, which carry negation, intensifiers and emphasis, and the LabMT mean).

use crate::vader::{Polarity, Vader, Words};

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
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Spreads a 64-bit hash over its top bits (splitmix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A longer word also counts by its first characters (`terrib`le, `terrif`ic): a word the
/// training set never spelt that way still shares its stem.
const PREFIX: usize = 5;
const PREFIX_SALT: u64 = 0x7072_6566_6978_0000;

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The hashes of a text's words, lower-cased: a link is the word `url`, a mention `@user`
/// (who is mentioned says little of the mood, and names change from one debate to the next),
/// one-character words are left out, and a leading `RT @name:` is not part of the post.
pub fn word_hashes(text: &str, out: &mut Vec<u64>, prefixes: &mut Vec<u64>) {
    out.clear();
    prefixes.clear();
    let mut tokens = text.split_whitespace().peekable();
    if tokens.peek() == Some(&"RT") {
        let mut ahead = tokens.clone();
        ahead.next();
        if ahead.peek().is_some_and(|t| t.starts_with('@')) {
            tokens.next();
            tokens.next();
        }
    }
    let url = fnv(FNV_OFFSET, b"url");
    let user = fnv(FNV_OFFSET, b"@user");
    let mut lower = [0u8; 4];
    for token in tokens {
        let head = token.as_bytes();
        if head.len() > 7
            && (head[..7].eq_ignore_ascii_case(b"http://")
                || head.len() > 8 && head[..8].eq_ignore_ascii_case(b"https://"))
        {
            out.push(url);
            continue;
        }
        let mut chars = token.char_indices().peekable();
        while let Some(&(at, c)) = chars.peek() {
            if !is_word_char(c) {
                chars.next();
                continue;
            }
            let mention = token[..at].ends_with('@');
            let (mut h, mut n, mut prefix) = (FNV_OFFSET, 0usize, 0u64);
            while let Some(&(_, c)) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                if c.is_ascii() {
                    h = fnv(h, &[c.to_ascii_lowercase() as u8]);
                } else {
                    for l in c.to_lowercase() {
                        h = fnv(h, l.encode_utf8(&mut lower).as_bytes());
                    }
                }
                n += 1;
                if n == PREFIX {
                    prefix = h;
                }
                chars.next();
            }
            if mention {
                out.push(user);
            } else if n >= 2 {
                out.push(h);
                if n > PREFIX {
                    prefixes.push(prefix ^ PREFIX_SALT);
                }
            }
        }
    }
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
        }
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    fn bucket(&self, h: u64) -> u32 {
        (mix(h) >> (64 - self.bits)) as u32
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
        let count = |b: u8| bytes.iter().filter(|&&x| x == b).count();
        let capitals = (0..self.words.len())
            .filter(|&i| {
                let w = self.words.word(i);
                w.len() > 1 && w.bytes().all(|b| !b.is_ascii_lowercase()) && w.bytes().any(|b| b.is_ascii_uppercase())
            })
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
            f64::from(u8::from(memchr::memmem::find(bytes, b"http").is_some())),
        ];
        word_hashes(text, &mut self.hashes, &mut self.prefixes);
        out.buckets.clear();
        for (i, &h) in self.hashes.iter().enumerate() {
            out.buckets.push(self.bucket(h));
            if i > 0 {
                let bigram = self.hashes[i - 1].rotate_left(17) ^ h.wrapping_mul(FNV_PRIME);
                out.buckets.push(self.bucket(bigram));
            }
        }
        for &h in &self.prefixes {
            out.buckets.push(self.bucket(h));
        }
        out.buckets.sort_unstable();
        out.buckets.dedup();
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
        word_hashes(text, &mut out, &mut prefixes);
        out
    }

    #[test]
    fn words_are_lowered_links_and_mentions_are_one_word_and_the_retweet_prefix_goes() {
        let h = |w: &str| fnv(FNV_OFFSET, w.as_bytes());
        assert_eq!(
            words("RT @GOP: Trump WON tonight, @realDonaldTrump! https://t.co/x #GOPDebate a"),
            [h("trump"), h("won"), h("tonight"), h("@user"), h("url"), h("gopdebate")]
        );
        // "RT" not followed by a mention is a word like any other.
        assert_eq!(words("RT this"), [h("rt"), h("this")]);
        assert_eq!(words("ÉNORME"), [h("énorme")]);
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

//! Which candidates a tweet is about: every candidate one of whose track terms (names, @handles,
//! hashtags) occurs in the text, case-insensitively, on word boundaries.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateTerms {
    pub key: String,
    pub terms: Vec<String>,
}

impl std::str::FromStr for CandidateTerms {
    type Err = String;
    /// `trump=Trump,Donald Trump,@realDonaldTrump`
    fn from_str(s: &str) -> Result<Self, String> {
        let (key, terms) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not KEY=TERM,TERM,..."))?;
        let terms: Vec<String> = terms
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if key.trim().is_empty() || terms.is_empty() {
            return Err(format!("`{s}` needs a key and at least one term"));
        }
        Ok(CandidateTerms {
            key: key.trim().to_string(),
            terms,
        })
    }
}

pub struct Attributor {
    keys: Vec<String>,
    /// Pattern index -> candidate index.
    owner: Vec<usize>,
    automaton: AhoCorasick,
}

fn is_word_char(c: char) -> bool {
    crate::chars::is_alphanumeric(c) || c == '_'
}

impl Attributor {
    pub fn new(candidates: &[CandidateTerms]) -> Attributor {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (i, c) in candidates.iter().enumerate() {
            for t in &c.terms {
                patterns.push(t.clone());
                owner.push(i);
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // A DFA: the crate's fastest search kind (and its largest; a debate has a few dozen terms).
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("track terms build an automaton");
        Attributor {
            keys: candidates.iter().map(|c| c.key.clone()).collect(),
            owner,
            automaton,
        }
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Indexes (into [`Attributor::keys`]) of the candidates `text` mentions, ascending.
    pub fn candidates(&self, text: &str, out: &mut Vec<usize>) {
        out.clear();
        for m in self.automaton.find_overlapping_iter(text) {
            let matched = &text[m.start()..m.end()];
            // A term that starts (ends) with a non-word character such as `@` or `#` needs no
            // boundary on that side.
            let before_ok =
                !matched.starts_with(is_word_char) || !text[..m.start()].ends_with(is_word_char);
            let after_ok =
                !matched.ends_with(is_word_char) || !text[m.end()..].starts_with(is_word_char);
            if before_ok && after_ok {
                let c = self.owner[m.pattern().as_usize()];
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributor() -> Attributor {
        Attributor::new(&[
            "trump=Trump,Donald Trump,@realDonaldTrump,#Trump2016"
                .parse()
                .unwrap(),
            "paul=Rand Paul,@RandPaul".parse().unwrap(),
            "bush=Jeb Bush,Jeb,@JebBush".parse().unwrap(),
        ])
    }

    fn who(text: &str) -> Vec<String> {
        let a = attributor();
        let mut out = Vec::new();
        a.candidates(text, &mut out);
        out.into_iter().map(|i| a.keys()[i].clone()).collect()
    }

    #[test]
    fn terms_match_on_word_boundaries_in_any_case() {
        assert_eq!(who("TRUMP vs jeb!"), ["trump", "bush"]);
        assert_eq!(who("@realDonaldTrump and #trump2016"), ["trump"]);
        assert_eq!(who("Trumpet players and Jebediah"), Vec::<String>::new());
        assert_eq!(who("rand paul's hair, #RandPaul"), ["paul"]);
        assert_eq!(who("Paul alone"), Vec::<String>::new());
        assert_eq!(who("@JebBush_fan"), Vec::<String>::new());
        assert_eq!(who("Trump\u{2019}s speech, Jeb\u{e9}"), ["trump"]);
    }
}

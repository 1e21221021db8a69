//! The classifier's cost per post, step by step, on the texts of the genuine v1.1 sample (many
//! languages) and of the labelled debate tweets (English):
//! `cargo run --release -p dw-pipeline --example classify_bench [ROUNDS]`.

use std::hint::black_box;
use std::time::Instant;

use dw_pipeline::classify::Classifier;
use dw_pipeline::classify::features::{Featurizer, word_hashes};
use dw_pipeline::labmt::{DEFAULT_LENS, Lexicon};
use dw_pipeline::vader::{Vader, Words};

fn texts(path: &str) -> Vec<String> {
    let data = std::fs::read_to_string(path).expect("the sample");
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim_end_matches('\r')).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string))
        .collect()
}

fn time(name: &str, texts: &[String], rounds: usize, mut f: impl FnMut(&str)) {
    let start = Instant::now();
    for _ in 0..rounds {
        for t in texts {
            f(t);
        }
    }
    let n = (texts.len() * rounds) as f64;
    let ns = start.elapsed().as_secs_f64() * 1e9 / n;
    println!("  {name:<28} {ns:>7.0} ns/post  {:>9.0} posts/s", 1e9 / ns);
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    for (name, file) in [
        (
            "v1.1 sample",
            "tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl",
        ),
        ("2015-08-06 replay", "data/replay/2015-08-06.jsonl"),
    ] {
        let texts = texts(&format!("{repo}/{file}"));
        println!("{name}: {} texts x {rounds}", texts.len());
        let vader = Vader::new();
        let (mut words, mut sentiments) = (Words::default(), Vec::new());
        time("vader words", &texts, rounds, |t| {
            vader.words(t, &mut words);
            black_box(words.len());
        });
        time("vader", &texts, rounds, |t| {
            black_box(vader.polarity_with(t, &mut words, &mut sentiments));
        });
        let (mut hashes, mut prefixes) = (Vec::new(), Vec::new());
        time("vader words + word hashes", &texts, rounds, |t| {
            vader.words(t, &mut words);
            word_hashes(&words, &mut hashes, &mut prefixes);
            black_box(hashes.len());
        });
        let mut featurizer = Featurizer::new(16);
        let mut features = dw_pipeline::classify::features::Features::default();
        time("features (all)", &texts, rounds, |t| {
            featurizer.features_into(t, Some(5.0), &mut features);
        });
        // The floor of any featuriser over words: split at ASCII spaces, lower-case, one hash
        // and one bucket per word (no lexicon, no rules, no bigrams).
        let (mut lower, mut buckets) = (String::new(), Vec::<u32>::new());
        time("floor: split, lower, hash", &texts, rounds, |t| {
            buckets.clear();
            for w in t.split_ascii_whitespace() {
                lower.clear();
                lower.push_str(w);
                lower.make_ascii_lowercase();
                let mut h = dw_pipeline::fasthash::FastHasher::default();
                std::hash::Hasher::write(&mut h, lower.as_bytes());
                buckets.push((std::hash::Hasher::finish(&h) >> 48) as u32);
            }
            black_box(buckets.len());
        });
        let lexicon = Lexicon::labmt1();
        time("labmt (for scale)", &texts, rounds, |t| {
            black_box(lexicon.score(t, Some(DEFAULT_LENS)));
        });
        let mut classifier = Classifier::shipped();
        time("classify (features+model)", &texts, rounds, |t| {
            black_box(classifier.classify(t, Some(5.0)));
        });
    }
}

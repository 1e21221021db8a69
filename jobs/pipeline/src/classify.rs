//! Which way a post leans: `negative`, `neutral` or `positive`, with the probability of that
//! class, from a linear model over the post's words and its VADER and LabMT scores
//! ([`features`]). The shipped model (`data/model/post-class.txt`, trained by `dw model train`
//! on the labelled first-GOP-debate tweets; its README says how and what it scored) is built in.

pub mod features;
pub mod model;
pub mod train;

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use features::{Features, Featurizer};
use model::{Model, PackedBuckets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Negative = 0,
    Neutral = 1,
    Positive = 2,
}

/// The classes in the order of every per-class array.
pub const CLASSES: [Class; 3] = [Class::Negative, Class::Neutral, Class::Positive];

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Negative => "negative",
            Class::Neutral => "neutral",
            Class::Positive => "positive",
        }
    }
}

/// A post's class, the probability of it, and every class's probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    pub class: Class,
    pub p: f64,
    pub probabilities: [f64; 3],
}

/// The model dw ships (`dw model train`'s output, built in).
const SHIPPED: &str = include_str!("../data/model/post-class.txt");

/// The shipped model, parsed once per process.
pub fn shipped_model() -> Arc<Model> {
    static SHIPPED_MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    SHIPPED_MODEL
        .get_or_init(|| {
            // Checked by a test: the built-in file always parses.
            Arc::new(Model::parse(SHIPPED).unwrap_or_else(|e| panic!("the shipped model: {e}")))
        })
        .clone()
}

/// A model and the buffers to featurise posts with it.
pub struct Classifier {
    featurizer: Featurizer,
    model: Arc<Model>,
    packed: PackedBuckets,
    scratch: Features,
}

impl Classifier {
    pub fn new(model: Arc<Model>) -> Classifier {
        Classifier {
            featurizer: Featurizer::new(model.bits),
            packed: PackedBuckets::new(&model),
            model,
            scratch: Features::default(),
        }
    }

    /// The shipped model.
    pub fn shipped() -> Classifier {
        Classifier::new(shipped_model())
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Labels `text`, whose LabMT mean through the usual lens is `labmt`.
    pub fn classify(&mut self, text: &str, labmt: Option<f64>) -> Label {
        self.featurizer
            .features_into(text, labmt, &mut self.scratch);
        let logits = self
            .model
            .logits_with(&self.scratch, |b| self.packed.row(b));
        let (class, p, probabilities) = model::decide(logits);
        Label {
            class,
            p,
            probabilities,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rows_give_the_full_tables_logits_bit_for_bit() {
        let model = shipped_model();
        let packed = PackedBuckets::new(&model);
        assert_eq!(packed.len(), 22_705);
        let mut f = Featurizer::new(model.bits);
        let mut features = Features::default();
        for text in crate::testkit_texts::fixture_texts() {
            f.features_into(&text, Some(5.5), &mut features);
            let full = model.logits(&features);
            let from_packed = model.logits_with(&features, |b| packed.row(b));
            assert_eq!(
                full.map(f64::to_bits),
                from_packed.map(f64::to_bits),
                "{text:?}"
            );
        }
        // Every bucket: kept rows found where they are, zero rows not kept.
        for b in 0..model.buckets.len() as u32 {
            let row = model.buckets[b as usize];
            let want = row.iter().any(|w| *w != 0.0).then_some(&row);
            assert_eq!(packed.row(b), want, "bucket {b}");
        }
    }

    #[test]
    fn the_shipped_model_reads_and_labels_posts() {
        let mut c = Classifier::shipped();
        assert_eq!(c.model().bits, 16);
        // Texts written for this test (not from the labelled set).
        let l = c.classify("What a disaster. He lied again, terrible answer", Some(3.5));
        assert_eq!(l.class, Class::Negative, "{l:?}");
        let l = c.classify("Loved her answer, great night, so proud!", Some(7.2));
        assert_eq!(l.class, Class::Positive, "{l:?}");
        assert!((l.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(l.p, l.probabilities[Class::Positive as usize]);
    }
}

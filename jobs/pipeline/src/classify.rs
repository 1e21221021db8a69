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
use model::Model;

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
    scratch: Features,
}

impl Classifier {
    pub fn new(model: Arc<Model>) -> Classifier {
        Classifier {
            featurizer: Featurizer::new(model.bits),
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
        let (class, p, probabilities) = self.model.decide(&self.scratch);
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

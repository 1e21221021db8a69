//! The trained weights and their file: a header, then one line per weight, text so that a
//! change of model reads as a diff.
//!
//! ```text
//! dw-post-classifier 1
//! bits 16
//! classes negative neutral positive
//! bias B_NEG B_NEU B_POS
//! dense vader_neg W_NEG W_NEU W_POS
//! ...
//! bucket 40411 W_NEG W_NEU W_POS
//! ...
//! ```
//! Buckets not listed weigh 0. A `#` line is a comment (how the model was made).

use super::features::{DENSE, Features};
use super::{CLASSES, Class};

const MAGIC: &str = "dw-post-classifier 1";

/// A linear model over [`Features`]: per class a weight per bucket and per dense feature, and
/// a bias (which carries the adjustment that balances the classes' F1).
#[derive(Clone, PartialEq)]
pub struct Model {
    pub bits: u32,
    /// 2^bits rows, one weight per class.
    pub buckets: Vec<[f32; 3]>,
    pub dense: [[f64; 3]; DENSE.len()],
    pub bias: [f64; 3],
    /// What the file says of how it was made (its `#` lines).
    pub comments: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct ModelError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Debug for Model {
    /// Not the 2^bits rows: what the model is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("bits", &self.bits)
            .field(
                "weighted_buckets",
                &self
                    .buckets
                    .iter()
                    .filter(|w| w.iter().any(|x| *x != 0.0))
                    .count(),
            )
            .field("bias", &self.bias)
            .field("comments", &self.comments)
            .finish_non_exhaustive()
    }
}

impl Model {
    pub fn zero(bits: u32) -> Model {
        Model {
            bits,
            buckets: vec![[0.0; 3]; 1 << bits],
            dense: [[0.0; 3]; DENSE.len()],
            bias: [0.0; 3],
            comments: Vec::new(),
        }
    }

    /// The per-class scores (log-odds up to a constant) of a post.
    pub fn logits(&self, f: &Features) -> [f64; 3] {
        self.logits_with(f, |b| Some(&self.buckets[b as usize]))
    }

    /// [`Model::logits`] with the bucket rows from `row` (`None`: a row of zeros).
    pub fn logits_with<'m>(
        &self,
        f: &Features,
        row: impl Fn(u32) -> Option<&'m [f32; 3]>,
    ) -> [f64; 3] {
        let mut z = self.bias;
        let mut sum = [0f32; 3];
        for &b in &f.buckets {
            if let Some(w) = row(b) {
                sum[0] += w[0];
                sum[1] += w[1];
                sum[2] += w[2];
            }
        }
        let v = f.bucket_value();
        for c in 0..3 {
            z[c] += f64::from(sum[c]) * v;
            for (d, x) in f.dense.iter().enumerate() {
                z[c] += x * self.dense[d][c];
            }
        }
        z
    }

    /// Each class's probability.
    pub fn probabilities(&self, f: &Features) -> [f64; 3] {
        softmax(self.logits(f))
    }

    pub fn write(&self) -> String {
        let mut out = String::new();
        out.push_str(MAGIC);
        out.push('\n');
        for c in &self.comments {
            out.push_str(&format!("# {c}\n"));
        }
        out.push_str(&format!("bits {}\n", self.bits));
        out.push_str("classes");
        for c in CLASSES {
            out.push(' ');
            out.push_str(c.name());
        }
        out.push('\n');
        let [a, b, c] = self.bias;
        out.push_str(&format!("bias {a} {b} {c}\n"));
        for (name, [a, b, c]) in DENSE.iter().zip(self.dense) {
            out.push_str(&format!("dense {name} {a} {b} {c}\n"));
        }
        for (i, [a, b, c]) in self.buckets.iter().enumerate() {
            if [a, b, c].iter().any(|w| **w != 0.0) {
                out.push_str(&format!("bucket {i} {a} {b} {c}\n"));
            }
        }
        out
    }

    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let err = |line: usize, message: String| ModelError { line, message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, MAGIC)) => {}
            _ => return Err(err(1, format!("not a dw post classifier (want `{MAGIC}`)"))),
        }
        let mut model: Option<Model> = None;
        let mut comments = Vec::new();
        let mut seen_classes = false;
        for (n, line) in lines {
            if let Some(c) = line.strip_prefix('#') {
                comments.push(c.trim().to_string());
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let floats = |from: usize| -> Result<[f64; 3], ModelError> {
                if fields.len() != from + 3 {
                    return Err(err(
                        n,
                        format!("want {} fields, found {}", from + 3, fields.len()),
                    ));
                }
                let mut w = [0.0; 3];
                for (k, f) in fields[from..].iter().enumerate() {
                    w[k] = f
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(n, format!("`{f}` is not a weight")))?;
                }
                Ok(w)
            };
            let need = |m: &mut Option<Model>| -> Result<(), ModelError> {
                if m.is_none() {
                    return Err(err(n, "`bits` must come first".to_string()));
                }
                Ok(())
            };
            match fields.first().copied() {
                None => {}
                Some("bits") => {
                    let bits = fields
                        .get(1)
                        .and_then(|b| b.parse::<u32>().ok())
                        .filter(|b| (8..=24).contains(b))
                        .ok_or_else(|| err(n, "bits: want a number from 8 to 24".to_string()))?;
                    model = Some(Model::zero(bits));
                }
                Some("classes") => {
                    let want: Vec<&str> = CLASSES.iter().map(|c| c.name()).collect();
                    if fields[1..] != want[..] {
                        return Err(err(n, format!("classes: want `{}`", want.join(" "))));
                    }
                    seen_classes = true;
                }
                Some("bias") => {
                    need(&mut model)?;
                    let w = floats(1)?;
                    if let Some(m) = model.as_mut() {
                        m.bias = w;
                    }
                }
                Some("dense") => {
                    need(&mut model)?;
                    let name = fields.get(1).copied().unwrap_or_default();
                    let d = DENSE
                        .iter()
                        .position(|x| *x == name)
                        .ok_or_else(|| err(n, format!("`{name}` is not a dense feature")))?;
                    let w = floats(2)?;
                    if let Some(m) = model.as_mut() {
                        m.dense[d] = w;
                    }
                }
                Some("bucket") => {
                    need(&mut model)?;
                    let w = floats(2)?;
                    if let Some(m) = model.as_mut() {
                        let i = fields[1]
                            .parse::<usize>()
                            .ok()
                            .filter(|i| *i < m.buckets.len())
                            .ok_or_else(|| err(n, format!("`{}` is not a bucket", fields[1])))?;
                        m.buckets[i] = w.map(|x| x as f32);
                    }
                }
                Some(other) => return Err(err(n, format!("`{other}`: unknown line"))),
            }
        }
        let end = text.lines().count();
        let mut model = model.ok_or_else(|| err(end, "no `bits` line".to_string()))?;
        if !seen_classes {
            return Err(err(end, "no `classes` line".to_string()));
        }
        model.comments = comments;
        Ok(model)
    }

    /// The class of a post and its probability.
    pub fn decide(&self, f: &Features) -> (Class, f64, [f64; 3]) {
        decide(self.logits(f))
    }
}

/// The class with the highest probability, that probability, and every class's.
pub fn decide(logits: [f64; 3]) -> (Class, f64, [f64; 3]) {
    let p = softmax(logits);
    let mut best = 0;
    for c in 1..3 {
        if p[c] > p[best] {
            best = c;
        }
    }
    (CLASSES[best], p[best], p)
}

/// A model's bucket rows that are not all zero, packed (a third of the 2^16 rows of the
/// shipped model: 270 KB, not 790 KB, which a post's ~40 random reads miss in the cache far
/// less): a bit per bucket says whether its row is kept, a count per 64 buckets where it is.
/// A row of zeros adds nothing to a sum, so the logits are [`Model::logits`]'s bit for bit.
pub struct PackedBuckets {
    kept: Vec<u64>,
    before: Vec<u32>,
    rows: Vec<[f32; 3]>,
}

impl PackedBuckets {
    pub fn new(model: &Model) -> PackedBuckets {
        let mut packed = PackedBuckets {
            kept: vec![0; model.buckets.len().div_ceil(64)],
            before: Vec::with_capacity(model.buckets.len().div_ceil(64)),
            rows: Vec::new(),
        };
        for (i, chunk) in model.buckets.chunks(64).enumerate() {
            packed.before.push(packed.rows.len() as u32);
            for (j, row) in chunk.iter().enumerate() {
                if row.iter().any(|w| *w != 0.0) {
                    packed.kept[i] |= 1 << j;
                    packed.rows.push(*row);
                }
            }
        }
        packed
    }

    /// Bucket `b`'s row, or `None` for a row of zeros.
    pub fn row(&self, b: u32) -> Option<&[f32; 3]> {
        let (word, bit) = (b as usize / 64, b % 64);
        let kept = self.kept[word];
        if kept & (1 << bit) == 0 {
            return None;
        }
        let rank = (kept & ((1 << bit) - 1)).count_ones();
        Some(&self.rows[(self.before[word] + rank) as usize])
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

pub fn softmax(z: [f64; 3]) -> [f64; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = z.map(|x| (x - m).exp());
    let s = e[0] + e[1] + e[2];
    e.map(|x| x / s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_reads_back_as_written() {
        let mut m = Model::zero(8);
        m.bias = [0.25, -1.0 / 3.0, 1e-9];
        m.dense[3] = [-2.5, 0.0, 2.5];
        m.buckets[7] = [0.1, -0.2, 0.3];
        m.comments = vec!["made by a test".to_string()];
        let text = m.write();
        assert_eq!(Model::parse(&text), Ok(m));
    }

    #[test]
    fn a_bad_line_is_named() {
        let good = Model::zero(8).write();
        let bad = good.replace("bias 0 0 0", "bias 0 x 0");
        assert_eq!(
            Model::parse(&bad).map(|_| ()),
            Err(ModelError {
                line: 4,
                message: "`x` is not a weight".to_string()
            })
        );
        let short = good.replace("bias 0 0 0", "bias 0 0");
        assert_eq!(
            Model::parse(&short).map_err(|e| e.to_string()),
            Err("line 4: want 4 fields, found 3".to_string())
        );
        assert_eq!(
            Model::parse("hello").map_err(|e| e.line),
            Err(1),
            "not a model file"
        );
    }
}

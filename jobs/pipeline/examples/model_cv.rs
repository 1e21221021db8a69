//! The classifier's cross-validation on a labelled CSV, with options to try others:
//! `cargo run --release -p dw-pipeline --example model_cv -- CSV [BITS] [C] [SEED]`.

use dw_pipeline::classify::train::{self, TrainOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a labelled CSV");
    let mut options = TrainOptions::default();
    if let Some(bits) = args.next() {
        options.bits = bits.parse().expect("bits");
    }
    if let Some(c) = args.next() {
        options.c = c.parse().expect("C");
    }
    if let Some(seed) = args.next() {
        options.seed = seed.parse().expect("seed");
    }
    let data = std::fs::read_to_string(&path).expect("the CSV");
    let rows = train::read_csv(&data).expect("labelled rows");
    let started = std::time::Instant::now();
    let examples = train::examples(&rows, options.bits);
    let folds = train::cross_validate(&examples, &options);
    print!("{}", train::report(&folds));
    println!(
        "{} rows, {options:?}, {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
}

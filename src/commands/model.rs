//! `dw model train`: the per-post classifier, cross-validated and trained on labelled posts.

use dw_pipeline::classify::train::{self, FoldReport, TrainOptions};
use serde::Serialize;

use super::Context;
use crate::cli::ModelTrainArgs;
use crate::error::{Error, Result};
use crate::files::write_file;
use crate::log;

#[derive(Serialize)]
struct Trained<'a> {
    model: String,
    posts: usize,
    folds: &'a [FoldReport],
    mean_macro_f1: f64,
}

pub(super) fn train(ctx: &Context, args: &ModelTrainArgs) -> Result<()> {
    let data = std::fs::read_to_string(&args.data).map_err(|e| {
        Error::input_with_hint(
            format!("cannot read {}: {e}", args.data.display()),
            "give a labelled CSV with --data (text and sentiment columns)",
        )
    })?;
    let rows = train::read_csv(&data)
        .map_err(|e| Error::input(format!("{}: {e}", args.data.display())))?;
    if rows.len() < usize::from(args.folds) * 3 {
        return Err(Error::input(format!(
            "{}: {} labelled posts are too few for {} folds",
            args.data.display(),
            rows.len(),
            args.folds
        )));
    }
    let options = TrainOptions {
        seed: args.seed,
        folds: usize::from(args.folds),
        ..TrainOptions::default()
    };
    log::info(&format!(
        "cross-validating on {} posts ({} folds), then training on all of them",
        rows.len(),
        options.folds
    ));
    let source = args.data.file_name().map_or_else(
        || args.data.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (model, folds) = train::train_and_validate(&rows, &source, &options);
    write_file(&args.out, model.write().as_bytes())?;
    let mean = train::mean_macro_f1(&folds);
    let text = format!(
        "{}model: {} (cross-validated macro-F1 {mean:.3})\n",
        train::report(&folds),
        args.out.display()
    );
    ctx.print(
        &text,
        &Trained {
            model: args.out.display().to_string(),
            posts: rows.len(),
            folds: &folds,
            mean_macro_f1: mean,
        },
    )
}

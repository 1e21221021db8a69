//! `dw model train` end to end: the cross-validation it prints (text and JSON), and the model
//! file it writes, the same for the same data and seed. (The shipped model's own figure is
//! checked in dw-pipeline, from its folds.)

mod common;

use common::{dw, run};

/// Posts whose words decide their class, written for this test.
fn labelled_csv() -> String {
    let good = ["great", "love", "wonderful", "best", "proud"];
    let bad = ["awful", "hate", "terrible", "worst", "liar"];
    let plain = ["tonight", "stage", "question", "moderator", "minutes"];
    let mut csv = String::from("id,text,sentiment\n");
    for i in 0..150 {
        let (words, label) = match i % 3 {
            0 => (&good, "Positive"),
            1 => (&bad, "Negative"),
            _ => (&plain, "Neutral"),
        };
        csv.push_str(&format!(
            "{i},\"the debate, {} {} \"\"{}\"\"\",{label}\n",
            words[i % 5],
            plain[(i / 3) % 5],
            words[(i / 5) % 5]
        ));
    }
    csv
}

#[test]
fn training_prints_every_fold_and_writes_the_same_model_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("labels.csv");
    std::fs::write(&data, labelled_csv()).unwrap();
    let train = |out: &str, global: &[&str], after: &[&str]| {
        let mut cmd = dw();
        cmd.args(global)
            .args(["model", "train", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(dir.path().join(out))
            .args(after);
        let r = run(&mut cmd);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let text = train("a.txt", &[], &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("fold     posts    model F1"), "{text}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with(char::is_numeric))
            .count(),
        5
    );
    assert!(lines[6].starts_with("mean       150"), "{text}");
    assert!(
        lines[7].ends_with("(cross-validated macro-F1 1.000)"),
        "{text}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&train("b.txt", &["--output", "json"], &[])).unwrap();
    assert_eq!(json["posts"], 150);
    assert_eq!(json["folds"].as_array().unwrap().len(), 5);
    assert_eq!(json["mean_macro_f1"], 1.0);
    for judge in ["model", "labmt", "vader"] {
        let fold = &json["folds"][0][judge];
        assert!(fold["macro_f1"].is_f64(), "{judge}: {fold}");
        assert_eq!(fold["f1"].as_array().unwrap().len(), 3, "{judge}: {fold}");
    }

    let a = std::fs::read_to_string(dir.path().join("a.txt")).unwrap();
    assert_eq!(
        a,
        std::fs::read_to_string(dir.path().join("b.txt")).unwrap()
    );
    let model = dw_pipeline::classify::model::Model::parse(&a).unwrap();
    assert!(
        model.comments[0].contains("labels.csv: 150 posts (50 negative, 50 neutral, 50 positive)"),
        "{:?}",
        model.comments
    );
    // Another seed deals other folds: the model's bias shift may differ, the file says so.
    train("c.txt", &[], &["--seed", "7"]);
    let c = std::fs::read_to_string(dir.path().join("c.txt")).unwrap();
    assert!(c.contains("seed 7"));
}

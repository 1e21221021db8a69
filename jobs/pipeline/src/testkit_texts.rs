//! Texts the unit tests share.

/// Every text of the genuine v1.1 sample (many languages and scripts) and of the
/// 2015-08-06 replay (English).
pub(crate) fn fixture_texts() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut texts = Vec::new();
    for file in [
        "tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl",
        "data/replay/2015-08-06.jsonl",
    ] {
        let data = std::fs::read_to_string(format!("{root}/{file}")).expect("fixture");
        texts.extend(data.lines().filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l.trim_end_matches('\r')).ok()?;
            Some(v.get("text")?.as_str()?.to_string())
        }));
    }
    assert!(texts.len() > 3_000, "{}", texts.len());
    texts
}

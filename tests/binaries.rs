//! The job binaries built for EMR 4.x by `dw build-jobs` (scripts/test builds them into
//! $DW_EMR_BINARIES): no glibc symbol newer than 2.17, no library beyond glibc's, and they run.

mod common;

use common::{dw, run};

#[test]
fn the_cluster_binaries_run_on_glibc_2_17() {
    let Ok(dir) = std::env::var("DW_EMR_BINARIES") else {
        assert!(
            std::env::var("DW_REQUIRE_PEERS").is_err(),
            "DW_REQUIRE_PEERS is set but DW_EMR_BINARIES is not: scripts/test builds them"
        );
        eprintln!("skipped: no cluster binaries (dw build-jobs; scripts/test builds them)");
        return;
    };
    let r = run(dw().args([
        "build-jobs",
        "--check-only",
        "--output",
        "json",
        "--out",
        &dir,
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(checks.len(), 2);
    for c in &checks {
        let name = c["name"].as_str().unwrap();
        assert_eq!(c["ok"], true, "{c}");
        let (major, minor) = c["newest_glibc"]
            .as_str()
            .and_then(|v| v.strip_prefix("GLIBC_"))
            .and_then(|v| v.split_once('.'))
            .map(|(a, b)| (a.parse::<u32>().unwrap(), b.parse::<u32>().unwrap()))
            .unwrap();
        assert!(
            (major, minor) <= (2, 17),
            "{name} needs {}",
            c["newest_glibc"]
        );
        for lib in c["needed"].as_array().unwrap() {
            let lib = lib.as_str().unwrap();
            assert!(
                [
                    "libc.so.6",
                    "libm.so.6",
                    "libpthread.so.0",
                    "libdl.so.2",
                    "librt.so.1",
                    "ld-linux-x86-64.so.2"
                ]
                .contains(&lib),
                "{name} needs {lib}"
            );
        }
        assert!(
            c["version"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{name} ")),
            "{c}"
        );
        eprintln!("{name}: {:.1} MB", c["bytes"].as_f64().unwrap() / 1e6);
    }
}

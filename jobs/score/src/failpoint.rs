//! A test hook for losing a process at exactly the moment that matters.

/// A test hook: `DW_SCORE_FAILPOINT=POINT:N` kills this process with SIGKILL the Nth time it
/// passes POINT (`after-write`: a closed window written; `before-commit`: windows written,
/// offsets not yet committed; `after-partial`: open windows published; `merge-write`: the merger wrote a merged window), so that the tests can
/// lose a member at exactly the moments that matter.
#[derive(Default)]
pub(crate) struct Failpoint {
    point: Option<(String, u64)>,
    passed: u64,
}

impl Failpoint {
    pub(crate) fn from_env() -> Failpoint {
        let point = std::env::var("DW_SCORE_FAILPOINT").ok().and_then(|v| {
            let (name, n) = v.split_once(':')?;
            Some((name.to_string(), n.parse().ok()?))
        });
        Failpoint { point, passed: 0 }
    }

    pub(crate) fn hit(&mut self, here: &str) {
        let Some((name, n)) = &self.point else { return };
        if name != here {
            return;
        }
        self.passed += 1;
        if self.passed >= *n {
            crate::log(&format!("failpoint {here}:{n}: killing this process"));
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &std::process::id().to_string()])
                .status();
            std::process::abort();
        }
    }
}

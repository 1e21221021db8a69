//! The windows `dw watch` holds: of each window (start, member) the latest revision, merged
//! across the scorers that wrote parts of it. What one reader found is applied once here and
//! fanned out to every page.

use std::collections::BTreeMap;

use dw_pipeline::window::Window;
use jiff::Timestamp;
use serde::Serialize;

/// At most this many warnings are kept (the newest); a page shows them all.
const KEPT_WARNINGS: usize = 50;

type PartKey = (Timestamp, Option<String>);

#[derive(Debug, Default)]
pub(crate) struct Board {
    debate: String,
    /// The window length of the first window read; windows of another length are refused (two
    /// lengths would count tweets twice in a bin).
    length_secs: Option<u32>,
    parts: BTreeMap<PartKey, Window>,
    merged: BTreeMap<Timestamp, Window>,
    warnings: Vec<String>,
    /// When (server time) a window last arrived or changed.
    last_change: Option<Timestamp>,
}

/// Everything a page needs to draw from scratch.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Snapshot<'a> {
    pub windows: Vec<&'a Window>,
    pub warnings: &'a [String],
    pub last_change: Option<Timestamp>,
}

impl Board {
    pub(crate) fn new(debate: &str) -> Self {
        Board {
            debate: debate.to_string(),
            ..Board::default()
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = Board::new(&self.debate);
    }

    pub(crate) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
        if self.warnings.len() > KEPT_WARNINGS {
            self.warnings.remove(0);
        }
    }

    /// Applies windows read from the source; returns the merged windows that changed, and the
    /// warnings for those it refused.
    pub(crate) fn apply(&mut self, windows: Vec<Window>) -> (Vec<Window>, Vec<String>) {
        let mut touched = std::collections::BTreeSet::new();
        let mut refused = Vec::new();
        for w in windows {
            if w.debate != self.debate {
                refused.push(format!(
                    "a window of {} at {} is not of this debate ({}), skipped",
                    w.debate, w.start, self.debate
                ));
                continue;
            }
            let length = *self.length_secs.get_or_insert(w.length_secs);
            if w.length_secs != length {
                refused.push(format!(
                    "the window at {} is {} s long, the others {length} s: skipped",
                    w.start, w.length_secs
                ));
                continue;
            }
            let key = (w.start, w.member.clone());
            // The latest revision wins; of equal ones, the last read (as `dw report` does).
            if self
                .parts
                .get(&key)
                .is_some_and(|p| p.revision > w.revision)
            {
                continue;
            }
            if self.parts.get(&key) == Some(&w) {
                continue;
            }
            touched.insert(w.start);
            self.parts.insert(key, w);
        }
        let mut changed = Vec::new();
        for start in touched {
            let mut parts = self
                .parts
                .range((start, None)..)
                .take_while(|(k, _)| k.0 == start);
            let Some((_, first)) = parts.next() else {
                continue;
            };
            let mut merged = first.clone();
            for (_, p) in parts {
                merged.merge(p);
            }
            merged.member = None;
            self.merged.insert(start, merged.clone());
            changed.push(merged);
        }
        if !changed.is_empty() {
            self.last_change = Some(Timestamp::now());
        }
        for r in &refused {
            self.warn(r.clone());
        }
        (changed, refused)
    }

    /// Every scorer's part of every window as read (the latest revision of each), unmerged: a
    /// published page that goes on reading the parts itself starts from these, so that a part
    /// it fetches again replaces its own earlier copy instead of adding to a merged window.
    pub(crate) fn snapshot_parts(&self) -> Snapshot<'_> {
        Snapshot {
            windows: self.parts.values().collect(),
            warnings: &self.warnings,
            last_change: self.last_change,
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            windows: self.merged.values().collect(),
            warnings: &self.warnings,
            last_change: self.last_change,
        }
    }

    pub(crate) fn last_change(&self) -> Option<Timestamp> {
        self.last_change
    }

    pub(crate) fn len(&self) -> usize {
        self.merged.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.merged.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start_min: i64, member: Option<&str>, tweets: u64, revision: u32) -> Window {
        let mut w = Window::new(
            "2015-08-06",
            1_438_909_200_000 + start_min * 60_000,
            60,
            &["trump".into()],
        );
        w.member = member.map(str::to_string);
        w.tweets = tweets;
        w.revision = revision;
        w.candidates.get_mut("trump").unwrap().tweets = tweets;
        w
    }

    #[test]
    fn parts_of_scorers_merge_and_a_later_revision_replaces_an_earlier_one() {
        let mut b = Board::new("2015-08-06");
        let (changed, _) = b.apply(vec![window(0, Some("a"), 3, 0), window(0, Some("b"), 4, 0)]);
        assert_eq!(changed.len(), 1);
        assert_eq!((changed[0].tweets, changed[0].member.clone()), (7, None));
        // A revision of a's part: the merged window is a's new part plus b's.
        let (changed, _) = b.apply(vec![window(0, Some("a"), 5, 1)]);
        assert_eq!(changed[0].tweets, 9);
        // An older revision read late changes nothing; the same window again neither.
        assert!(b.apply(vec![window(0, Some("a"), 3, 0)]).0.is_empty());
        assert!(b.apply(vec![window(0, Some("a"), 5, 1)]).0.is_empty());
        assert_eq!(b.snapshot().windows.len(), 1);
        // Unmerged, for a page that reads the parts itself.
        let parts = b.snapshot_parts();
        assert_eq!(parts.windows.len(), 2);
        assert_eq!(parts.windows.iter().map(|w| w.tweets).sum::<u64>(), 9);
    }

    #[test]
    fn windows_of_another_debate_or_length_are_refused_with_a_warning() {
        let mut b = Board::new("2015-08-06");
        let mut other = window(1, None, 1, 0);
        other.debate = "2015-09-16".into();
        let mut long = window(2, None, 1, 0);
        long.length_secs = 300;
        let (changed, refused) = b.apply(vec![window(0, None, 1, 0), other, long]);
        assert_eq!(changed.len(), 1);
        assert_eq!(refused.len(), 2);
        assert_eq!(b.snapshot().warnings.len(), 2);
    }
}

//! Where a debate's results live under a results prefix: the one statement of the layout that
//! dw-score writes and its merger, `dw report`, `dw watch` and `dw cluster status` read.
//!
//! ```text
//! <prefix>/<debate>/windows/<start>.json           merged windows (or a lone scorer's)
//! <prefix>/<debate>/parts/<start>.<member>.json    a group member's part of a window
//! <prefix>/<debate>/members/<member>.json          a member's heartbeat
//! ```
//! An empty prefix puts `<debate>/` at the bucket's top.

/// The three folders of a debate's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Windows,
    Parts,
    Members,
}

impl Folder {
    pub fn name(self) -> &'static str {
        match self {
            Folder::Windows => "windows",
            Folder::Parts => "parts",
            Folder::Members => "members",
        }
    }
}

/// A results prefix (`dw/results`; slashes around it do not matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    prefix: String,
}

impl Results {
    pub fn new(prefix: &str) -> Results {
        Results {
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    /// `s3://BUCKET/PREFIX` (no slash after it; an empty prefix: the bucket).
    pub fn location(&self, bucket: &str) -> String {
        if self.prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{}", self.prefix)
        }
    }

    /// `s3://BUCKET/PREFIX/<debate>/`: a debate's results as people are shown them.
    pub fn debate_location(&self, bucket: &str, debate: &str) -> String {
        format!("s3://{bucket}/{}", self.debate(debate))
    }

    /// `rel` under the prefix.
    pub fn key(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// `<prefix>/<debate>/`.
    pub fn debate(&self, debate: &str) -> String {
        self.key(&format!("{debate}/"))
    }

    /// `<prefix>/<debate>/<folder>/`: what to list.
    pub fn folder(&self, debate: &str, folder: Folder) -> String {
        self.key(&relative(debate, folder))
    }

    /// `<prefix>/<debate>/members/<member>.json`.
    pub fn member(&self, debate: &str, member: &str) -> String {
        self.key(&format!(
            "{}{member}.json",
            relative(debate, Folder::Members)
        ))
    }
}

/// `<debate>/<folder>/`, under no prefix (what [`crate::window::Window::key`] starts with).
pub fn relative(debate: &str, folder: Folder) -> String {
    format!("{debate}/{}/", folder.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_with_and_without_a_prefix() {
        let r = Results::new("/dw/results/");
        assert_eq!(
            r.folder("2015-08-06", Folder::Windows),
            "dw/results/2015-08-06/windows/"
        );
        assert_eq!(
            r.folder("2015-08-06", Folder::Parts),
            "dw/results/2015-08-06/parts/"
        );
        assert_eq!(
            r.member("2015-08-06", "core-1"),
            "dw/results/2015-08-06/members/core-1.json"
        );
        assert_eq!(r.debate("2015-08-06"), "dw/results/2015-08-06/");
        let top = Results::new("");
        assert_eq!(
            top.folder("2015-08-06", Folder::Members),
            "2015-08-06/members/"
        );
        assert_eq!(top.key("x"), "x");
        assert_eq!(r.location("b"), "s3://b/dw/results");
        assert_eq!(top.location("b"), "s3://b");
        assert_eq!(
            r.debate_location("b", "2015-08-06"),
            "s3://b/dw/results/2015-08-06/"
        );
        assert_eq!(top.debate_location("b", "2015-08-06"), "s3://b/2015-08-06/");
    }
}

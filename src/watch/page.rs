//! The debate page: one HTML file, its script and its style, embedded in `dw` (no CDN, works
//! offline). The same files make `dw publish`'s static copy.

pub(crate) const INDEX: &str = include_str!("../../assets/page/index.html");
pub(crate) const SCRIPT: &str = include_str!("../../assets/page/page.js");
pub(crate) const STYLE: &str = include_str!("../../assets/page/page.css");

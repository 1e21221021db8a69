//! The debate page: one HTML file, its script and its style, embedded in `dw` (no CDN, works
//! offline). The same files make `dw publish`'s static copy.

pub const INDEX: &str = include_str!("../../assets/page/index.html");
pub const SCRIPT: &str = include_str!("../../assets/page/page.js");
pub const STYLE: &str = include_str!("../../assets/page/page.css");

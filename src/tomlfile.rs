//! Reading TOML files into typed values, with errors that point at file, line and column.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Parses `text` (read from `path`, shown in errors) into `T`. A bad key or value becomes
/// [`Error::Toml`] with the line, the column and an excerpt of the source.
pub(crate) fn parse<T: DeserializeOwned>(path: &str, text: &str, hint: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim();
        match message.strip_prefix(SECRET) {
            // The value may be a secret: the excerpt shows its line without it.
            Some(message) if span.end <= text.len() && span.start <= span.end => {
                let hidden = "\"(not shown)\"";
                let text = format!("{}{hidden}{}", &text[..span.start], &text[span.end..]);
                let span = span.start..span.start + hidden.len();
                located(path, &text, span, message.trim().to_string(), hint)
            }
            _ => located(path, text, span, message.to_string(), hint),
        }
    })
}

/// Starts the error message of a value that may be a secret: its report does not echo it.
pub(crate) const SECRET: &str = "(secret) ";

/// An [`Error::Toml`] for the byte range `span` of `text`.
pub(crate) fn located(
    path: &str,
    text: &str,
    span: std::ops::Range<usize>,
    message: String,
    hint: &str,
) -> Error {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let source_line = text[line_start..line_end].trim_end_matches('\r');
    let width = text[start..span.end.clamp(start, line_end)]
        .chars()
        .count()
        .max(1);
    let gutter = " ".repeat(line_no.to_string().len());
    let excerpt = format!(
        "{gutter} |\n{line_no} | {source_line}\n{gutter} | {}{}\n",
        " ".repeat(column - 1),
        "^".repeat(width)
    );
    Error::Toml {
        path: path.to_string(),
        line: line_no,
        column,
        message,
        excerpt,
        hint: hint.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
    }

    #[test]
    fn unknown_key_points_at_its_line_and_column() {
        let err = parse::<T>("x.toml", "a = 1\n  bb = 2\n", "see x").unwrap_err();
        let Error::Toml {
            line,
            column,
            excerpt,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!((*line, *column), (2, 3));
        assert_eq!(excerpt, "  |\n2 |   bb = 2\n  |   ^^\n");
    }
}

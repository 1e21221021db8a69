//! The LabMT reference text pipeline (labMTsimple), exactly: drop URLs, replace `---`, `--` and
//! `''` with a space, then take the tokens matching `[\w@#'&\]*\-/\[=;]+` (Python's Unicode
//! `\w`), lower-cased. Twitter's HTML escapes are decoded before, once, where a tweet is read
//! (`tweet`), so that what is scored, stored and shown is the text as written.

use std::borrow::Cow;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Twitter escapes `&`, `<` and `>` in tweet text; nothing else. Decoded in the reference's
/// order (`&lt;`, `&gt;`, then `&amp;`), so `&amp;lt;` is `&lt;`: once.
pub fn decode_entities(text: &str) -> Cow<'_, str> {
    // memchr's search, not `str::contains`'s: a tweet's text is long enough for it to pay.
    if memchr::memchr(b'&', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Python's `str.isspace()`: Unicode White_Space plus the four ASCII separators U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Where `http` first is in `text`. A searcher built once: `str::find` builds one per call,
/// which costs more than the search in a text of a tweet's length.
pub(crate) fn find_http(text: &str) -> Option<usize> {
    static HTTP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("http"));
    HTTP.find(text.as_bytes())
}

/// Whether `text` holds the two bytes `pair` one after the other.
fn has_pair(text: &str, pair: [u8; 2]) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(pair[0], b).any(|i| b.get(i + 1) == Some(&pair[1]))
}

/// Removes `https?://\S+` (each URL becomes one space).
pub fn strip_urls(text: &str) -> Cow<'_, str> {
    if find_http(text).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_http(rest) {
        let after = &rest[i + 4..];
        let scheme_len = if after.starts_with("://") {
            Some(7)
        } else if after.starts_with("s://") {
            Some(8)
        } else {
            None
        };
        if let Some(n) = scheme_len {
            let body = &rest[i + n..];
            let url_len = body.find(is_python_space).unwrap_or(body.len());
            if url_len == 0 {
                // `\S+` needs one character: not a URL.
                out.push_str(&rest[..i + n]);
                rest = body;
            } else {
                out.push_str(&rest[..i]);
                out.push(' ');
                rest = &body[url_len..];
            }
        } else {
            out.push_str(&rest[..i + 4]);
            rest = after;
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `---`, `--` and `''` become a space (in that order, as the reference does).
pub fn replace_dashes(text: &str) -> Cow<'_, str> {
    if !has_pair(text, *b"--") && !has_pair(text, *b"''") {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("---", " ")
            .replace("--", " ")
            .replace("''", " "),
    )
}

/// The ASCII characters of a token, by code: looked up once per character of every tweet.
const ASCII_TOKEN: [bool; 128] = {
    let mut table = [false; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'@' | b'#' | b'\'' | b'&' | b']' | b'*' | b'-' | b'/' | b'[' | b'=' | b';'
            );
        c += 1;
    }
    table
};

/// A character of `[\w@#'&\]*\-/\[=;]` as Python's `re` reads it on `str`.
#[inline]
pub fn is_token_char(c: char) -> bool {
    static PLANE: std::sync::OnceLock<Box<crate::chars::Plane>> = std::sync::OnceLock::new();
    if c.is_ascii() {
        return ASCII_TOKEN[c as usize];
    }
    crate::chars::cached(&PLANE, c, is_word_category)
}

/// Python's `\w` beyond ASCII: letters and numbers by general category.
fn is_word_category(c: char) -> bool {
    use GeneralCategory::{
        DecimalNumber, LetterNumber, LowercaseLetter, ModifierLetter, OtherLetter, OtherNumber,
        TitlecaseLetter, UppercaseLetter,
    };
    matches!(
        get_general_category(c),
        UppercaseLetter
            | LowercaseLetter
            | TitlecaseLetter
            | ModifierLetter
            | OtherLetter
            | DecimalNumber
            | LetterNumber
            | OtherNumber
    )
}

/// Calls `f` with each lower-cased token of `text` (already cleaned). `buf` is reused.
pub fn for_each_token(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    for_each_raw_token(text, |token| {
        lower_into(token, buf);
        f(buf);
    });
}

/// Calls `f` with each token of `text` (already cleaned) as it is written.
pub fn for_each_raw_token<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match (is_token_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                f(&text[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        f(&text[s..]);
    }
}

/// `token` lower-cased into `buf`, as Python's `str.lower()` does.
pub fn lower_into(token: &str, buf: &mut String) {
    if token.is_ascii() {
        buf.clear();
        buf.push_str(token);
        buf.make_ascii_lowercase();
    } else if token.contains('Σ') {
        // A final sigma lowers by its context: the whole-string rule.
        *buf = token.to_lowercase();
    } else {
        buf.clear();
        buf.extend(token.chars().flat_map(char::to_lowercase));
    }
}

/// The whole cleaning pipeline before tokenizing.
pub fn clean(text: &str) -> String {
    with_clean(text, str::to_string)
}

/// Calls `f` with the cleaned text, copying only what a step changed.
pub fn with_clean<T>(text: &str, f: impl FnOnce(&str) -> T) -> T {
    let no_urls = strip_urls(text);
    f(&replace_dashes(&no_urls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = String::new();
        for_each_token(&clean(text), &mut buf, |t| out.push(t.to_string()));
        out
    }

    #[test]
    fn tokens_follow_the_reference_regex() {
        assert_eq!(
            tokens("RT @DanScavino: #GOPDebate w/ Trump's HAPPY-ish day; a=b [x]"),
            [
                "rt",
                "@danscavino",
                "#gopdebate",
                "w/",
                "trump's",
                "happy-ish",
                "day;",
                "a=b",
                "[x]"
            ]
        );
        assert_eq!(
            tokens("well--maybe---not ''quoted''"),
            ["well", "maybe", "not", "quoted"]
        );
        assert_eq!(tokens("Ünïcödé ÇA_VA 42"), ["ünïcödé", "ça_va", "42"]);
    }

    #[test]
    fn token_characters_are_the_general_categories_on_every_code_point() {
        for c in (0x80..0x11_0000u32).filter_map(char::from_u32) {
            assert_eq!(is_token_char(c), is_word_category(c), "{c:?}");
        }
    }

    #[test]
    fn urls_are_removed_before_tokens() {
        assert_eq!(
            tokens("fun & games https://t.co/G2gGjY1bJD http://t.co… end"),
            ["fun", "&", "games", "end"]
        );
        // Escapes are the reader's business (`tweet`): here a text is taken as written.
        assert_eq!(tokens("fun &amp; games"), ["fun", "&amp;", "games"]);
        assert_eq!(decode_entities("&amp;lt; &lt;3 &gt; &amp;"), "&lt; <3 > &");
        assert_eq!(tokens("http:// alone"), ["http", "//", "alone"]);
    }
}

#[cfg(test)]
mod lowering {
    use proptest::prelude::*;

    proptest! {
        /// The searches built once find what `str`'s find.
        #[test]
        fn searches_find_what_strs_find(text in "[-'htps:/é ]{0,24}") {
            prop_assert_eq!(super::find_http(&text), text.find("http"));
            prop_assert_eq!(super::has_pair(&text, *b"--"), text.contains("--"));
            prop_assert_eq!(super::has_pair(&text, *b"''"), text.contains("''"));
        }

        /// Tokens are lowered as the whole-string rule lowers them (final sigma included).
        #[test]
        fn tokens_lower_as_strings_do(text in "[a-zA-Z ΣσςÄİ\\p{Lu}\\p{Ll}]{0,30}") {
            let mut ours = Vec::new();
            let mut buf = String::new();
            super::for_each_token(&text, &mut buf, |t| ours.push(t.to_string()));
            let split: Vec<String> = text
                .split(|c: char| !super::is_token_char(c))
                .filter(|t| !t.is_empty())
                .map(str::to_lowercase)
                .collect();
            prop_assert_eq!(ours, split);
        }
    }
}

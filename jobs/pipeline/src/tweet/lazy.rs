//! The scorer's fast path for a v1.1 status: it walks the top-level keys, reads the few fields
//! a [`Tweet`] needs, and skips every other value by its brackets (`structure`) instead of
//! tokenising it: about 3 of a status's ~4.3 KB are the user, entities and retweeted status.
//!
//! Its contract: for every line serde_json reads as a v1.1 tweet, the same [`Tweet`]. It returns
//! `None` (the caller then parses with serde_json) for anything else it meets: a notice, a v2
//! tweet, an escaped key, a field of an unexpected type or seen twice, a missing field, a line
//! that does not end where the object does. It checks the structure of the values it skips
//! (their brackets and quotes), not their characters: a line cut short in transit, the damage
//! a stream or archive actually suffers, is never a tweet (fuzz-tested at every cut), while
//! junk inside a skipped value with its brackets intact would pass. Twitter writes JSON;
//! dw-ingest and the scorer both use this path.

// `Option<Option<_>>`: the outer `None` hands the line to serde_json; the inner one is JSON's
// `null`.
#![allow(clippy::option_option)]

use std::borrow::Cow;

use super::structure::{backslash, close_of, quote_or_backslash, scalar_end, string_close};
use super::{Tweet, parse_v1_time};

/// Reads a v1.1 status, or says `None`: let serde_json read this line. Only the strings it
/// returns are checked to be UTF-8 (a whole-line check would be one more pass over ~4 KB).
pub(super) fn v1_tweet(line: &[u8]) -> Option<Tweet<'_>> {
    let mut c = Cursor { bytes: line, at: 0 };
    let status = c.status(true)?;
    c.ws();
    if c.at != c.bytes.len() {
        return None;
    }
    let created_ms = match (&status.timestamp_ms, &status.created_at) {
        (Some(ms), _) => ms.parse::<i64>().ok()?,
        (None, Some(at)) => parse_v1_time(at).ok()?,
        (None, None) => return None,
    };
    Some(Tweet {
        id: status.id_str?,
        created_ms,
        text: super::twitter_text(status.texts.best()?),
        user: status.screen_name.unwrap_or_default(),
        retweeted_text: status.retweeted.flatten().map(super::twitter_text),
    })
}

/// A status's texts, in the order `Tweet::text` prefers them.
#[derive(Default)]
struct Texts<'a> {
    extended: Option<Cow<'a, str>>,
    full_text: Option<Cow<'a, str>>,
    text: Option<Cow<'a, str>>,
}

impl<'a> Texts<'a> {
    fn best(self) -> Option<Cow<'a, str>> {
        self.extended.or(self.full_text).or(self.text)
    }
}

#[derive(Default)]
struct Status<'a> {
    id_str: Option<Cow<'a, str>>,
    created_at: Option<Cow<'a, str>>,
    timestamp_ms: Option<Cow<'a, str>>,
    texts: Texts<'a>,
    screen_name: Option<Cow<'a, str>>,
    /// `Some(None)`: `"retweeted_status": null`.
    retweeted: Option<Option<Cow<'a, str>>>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace. Twitter writes none between tokens: one compare
    /// says so (every byte above the space is not JSON's whitespace).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match self.bytes.get(self.at) {
            Some(&b) if b > b' ' => Some(b),
            _ => {
                self.ws();
                self.bytes.get(self.at).copied()
            }
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// `{` then its first key, or `None` for `{}`: `Some(true)` when a member follows.
    fn open_object(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(false);
        }
        Some(true)
    }

    /// After a member's value: `Some(true)` when another member follows, `Some(false)` at `}`.
    fn next_member(&mut self) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.at += 1;
                Some(true)
            }
            b'}' => {
                self.at += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A key and its colon. An escaped key (`"\u0074ext"`) is left to serde_json.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.at;
        let end = quote_or_backslash(self.bytes, start)?;
        if self.bytes[end] == b'\\' {
            return None;
        }
        self.at = end + 1;
        self.eat(b':')?;
        Some(&self.bytes[start..end])
    }

    /// A string, borrowed from the line unless it has escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let open = self.at;
        let escaped = self.skip_string()?;
        let inner = utf8(self.bytes.get(open + 1..self.at - 1)?)?;
        if escaped {
            unescape(inner).map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(inner))
        }
    }

    /// From an opening quote to just past its closing quote; whether it holds an escape.
    fn skip_string(&mut self) -> Option<bool> {
        let (end, escaped) = string_close(self.bytes, self.at + 1)?;
        self.at = end;
        Some(escaped)
    }

    /// A string or `null`; anything else is a line for serde_json.
    fn string_or_null(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => self.string().map(Some),
            b'n' => self.null().map(|()| None),
            _ => None,
        }
    }

    fn null(&mut self) -> Option<()> {
        self.bytes[self.at..]
            .starts_with(b"null")
            .then(|| self.at += 4)
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' | b'[' => self.at = close_of(self.bytes, self.at + 1, 1)?,
            b'"' => {
                self.skip_string()?;
            }
            _ => {
                let start = self.at;
                self.at = scalar_end(self.bytes, start);
                if self.at == start {
                    return None;
                }
            }
        }
        Some(())
    }

    /// A status object (`top`: the line itself; else a retweeted status).
    fn status(&mut self, top: bool) -> Option<Status<'a>> {
        let mut s = Status::default();
        // Each field at most once: serde_json refuses a duplicate field.
        let mut seen = 0u16;
        let mut once = |bit: u16| {
            let first = seen & bit == 0;
            seen |= bit;
            first.then_some(())
        };
        let mut more = self.open_object()?;
        while more {
            match self.key()? {
                b"id_str" => {
                    once(1)?;
                    s.id_str = self.string_or_null()?;
                }
                b"created_at" => {
                    once(2)?;
                    s.created_at = self.string_or_null()?;
                }
                b"timestamp_ms" => {
                    once(4)?;
                    s.timestamp_ms = self.string_or_null()?;
                }
                b"text" => {
                    once(8)?;
                    s.texts.text = self.string_or_null()?;
                }
                b"full_text" => {
                    once(16)?;
                    s.texts.full_text = self.string_or_null()?;
                }
                b"extended_tweet" => {
                    once(32)?;
                    s.texts.extended = self.object_or_null(b"full_text")?;
                }
                b"user" => {
                    once(64)?;
                    s.screen_name = self.object_or_null(b"screen_name")?;
                }
                // serde_json reads a retweeted status as a status too; one level is all
                // Twitter sends.
                b"retweeted_status" if top => {
                    once(128)?;
                    s.retweeted = Some(match self.peek()? {
                        b'n' => self.null().map(|()| None)?,
                        _ => self.status(false)?.texts.best(),
                    });
                }
                b"retweeted_status" | b"delete" | b"limit" | b"disconnect" | b"warning"
                | b"status_withheld" | b"user_withheld" | b"scrub_geo" | b"data" | b"includes" => {
                    return None;
                }
                _ => self.skip_value()?,
            }
            more = self.next_member()?;
        }
        Some(s)
    }

    /// One string member of an object (or of `null`): the member's value, the rest of the
    /// object skipped by its brackets once the member is read.
    fn object_or_null(&mut self, wanted: &[u8]) -> Option<Option<Cow<'a, str>>> {
        if self.peek()? == b'n' {
            return self.null().map(|()| None);
        }
        let mut more = self.open_object()?;
        while more {
            if self.key()? == wanted {
                let value = self.string_or_null()?;
                self.at = close_of(self.bytes, self.at, 1)?;
                return Some(value);
            }
            self.skip_value()?;
            more = self.next_member()?;
        }
        Some(None)
    }
}

/// `bytes` as text, if UTF-8. Twitter escapes every character beyond ASCII, so its strings
/// are ASCII, which `is_ascii` checks inline a word at a time: `from_utf8` is a call that costs
/// about as much as the rest of reading a short string.
fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

/// A JSON string's escapes decoded; `None` for what serde_json would refuse (an unknown escape,
/// a lone surrogate), so that it says why.
fn unescape(inner: &str) -> Option<String> {
    let bytes = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut at = 0;
    loop {
        // Non-ASCII text comes as one escape after another (`\u3042\u308a`): look for the
        // next backslash only when the next byte is not one.
        if bytes.get(at) != Some(&b'\\') {
            let Some(next) = backslash(bytes, at) else {
                break;
            };
            out.push_str(&inner[at..next]);
            at = next;
        }
        let (c, len) = match *bytes.get(at + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => match hex4(bytes, at + 2)? {
                high @ 0xD800..=0xDBFF => {
                    if bytes.get(at + 6..at + 8)? != b"\\u" {
                        return None;
                    }
                    let low = hex4(bytes, at + 8)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return None;
                    }
                    (
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?,
                        12,
                    )
                }
                unit => (char::from_u32(unit)?, 6),
            },
            _ => return None,
        };
        out.push(c);
        at += len;
    }
    out.push_str(&inner[at..]);
    Some(out)
}

/// Four hex digits (either case) as a number.
fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let &[a, b, c, d] = bytes.get(at..at + 4)? else {
        return None;
    };
    let [a, b, c, d] = [a, b, c, d].map(|x| u32::from(HEX[usize::from(x)]));
    // A byte that is not a digit is 0xFF: then their OR is 16 or more.
    ((a | b | c | d) < 16).then_some(a << 12 | b << 8 | c << 4 | d)
}

/// Per byte: its value as a hex digit, or 0xFF.
const HEX: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Any text escaped as serde_json escapes it (and as Twitter does: `\/`, `\uXXXX`
        /// pairs) comes back whole.
        #[test]
        fn unescape_undoes_escaping(text in "\\PC{0,40}", ascii_only in any::<bool>()) {
            let mut quoted = serde_json::to_string(&text).unwrap_or_default();
            if ascii_only {
                quoted = quoted.chars().map(|c| if c.is_ascii() { c.to_string() } else {
                    c.encode_utf16(&mut [0; 2]).iter().map(|u| format!("\\u{u:04x}")).collect()
                }).collect();
            }
            quoted = quoted.replace('/', "\\/");
            prop_assert_eq!(super::unescape(&quoted[1..quoted.len() - 1]), Some(text));
        }

        /// Escapes of any shape, well-formed or not: what serde_json reads, or `None` where it
        /// refuses.
        #[test]
        fn unescape_agrees_with_serde_json(
            pieces in proptest::collection::vec(prop_oneof![
                Just("a"), Just("\\n"), Just("\\/"), Just("\\\\"), Just("\\\""),
                Just("\\u00e9"), Just("\\ud83d"), Just("\\ude00"), Just("\\u12"), Just("\\x"),
                Just("\\uDBFF\\uDFFF"), Just("\\u0000"), Just("é"),
            ], 0..8),
        ) {
            let inner = pieces.concat();
            let reference = serde_json::from_str::<String>(&format!("\"{inner}\"")).ok();
            prop_assert_eq!(super::unescape(&inner), reference, "{}", inner);
        }
    }
}

//! Reading newline-delimited records with a bound on line length: a gigantic line is skipped and
//! reported, never held whole in memory. CRLF line ends are accepted.

use std::io::{self, BufRead};

/// 1 MiB: far above any tweet (about 4 KB, 10 KB with every extension).
pub const MAX_LINE: usize = 1 << 20;

#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line without its line end (and without a trailing `\r`).
    Text,
    /// A line longer than the bound; its bytes were skipped.
    TooLong(usize),
}

/// Reads the next line into `buf` (cleared first). `Ok(None)` at end of input.
pub fn read_line<R: BufRead + ?Sized>(
    input: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<Line>> {
    buf.clear();
    let mut skipped = 0usize;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match memchr_newline(available) {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if skipped > 0 || buf.len() + chunk.len() > max {
            skipped += buf.len() + chunk.len();
            buf.clear();
        } else {
            buf.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(available.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if skipped > 0 {
        return Ok(Some(Line::TooLong(skipped)));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(Line::Text))
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_crlf_and_oversized() {
        let data = b"one\r\ntwo\n0123456789\nlast";
        let mut r = io::BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(l) = read_line(&mut r, &mut buf, 8).unwrap() {
            got.push((l, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(
            got,
            vec![
                (Line::Text, "one".into()),
                (Line::Text, "two".into()),
                (Line::TooLong(10), String::new()),
                (Line::Text, "last".into()),
            ]
        );
    }
}

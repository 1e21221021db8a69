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

/// Lines read in place: each is a slice of the reader's own buffer, not copied out of a
/// `BufReader`'s into another (4.3 KB statuses from a cached file: 850 -> 740 ns a line, about
/// 1.5% of dw-score's time a tweet). The same lines, bounds and line ends as [`read_line`].
pub struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    max: usize,
    eof: bool,
}

impl<R: io::Read> LineReader<R> {
    /// A reader of lines up to `max` bytes, with a 64 KiB buffer (it grows for a longer line;
    /// 256 KiB was no faster).
    pub fn new(input: R, max: usize) -> LineReader<R> {
        LineReader::with_capacity(input, 64 << 10, max)
    }

    pub fn with_capacity(input: R, capacity: usize, max: usize) -> LineReader<R> {
        LineReader {
            input,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            max,
            eof: false,
        }
    }

    /// The next line (without its line end; an over-long line as [`Line::TooLong`] and no
    /// bytes), or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(Line, &[u8])>> {
        // Bytes of an over-long line already dropped, and where the search for `\n` resumes.
        let mut skipped = 0usize;
        let mut scanned = self.start;
        let line_end = loop {
            if let Some(i) = memchr_newline(&self.buf[scanned..self.end]) {
                break Some(scanned + i);
            }
            if self.eof {
                if self.start == self.end && skipped == 0 {
                    return Ok(None);
                }
                break None;
            }
            if self.end - self.start > self.max {
                skipped += self.end - self.start;
                (self.start, self.end) = (0, 0);
            } else if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.end, self.start) = (self.end - self.start, 0);
            }
            scanned = self.end;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        let from = self.start;
        let to = line_end.unwrap_or(self.end);
        self.start = line_end.map_or(self.end, |i| i + 1);
        if skipped > 0 || to - from > self.max {
            return Ok(Some((Line::TooLong(skipped + to - from), &[])));
        }
        let mut line = &self.buf[from..to];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        Ok(Some((Line::Text, line)))
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    // SIMD: a byte loop here was 6% of dw-ingest's time on 4 KB lines.
    memchr::memchr(b'\n', b)
}

/// Opens an archive file for reading by lines, gunzipped (every member) when its name ends in
/// `.gz`. Streamed: a 200 MB archive is never in memory whole.
pub fn open_archive(path: &std::path::Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = std::fs::File::open(path)?;
    Ok(if path.to_string_lossy().ends_with(".gz") {
        Box::new(io::BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(io::BufReader::new(file)),
        ))
    } else {
        Box::new(io::BufReader::with_capacity(1 << 16, file))
    })
}

/// Archive files read one after the other as one stream, a line break between two (so the
/// last line of one never runs into the first of the next). Holds `keep` (e.g. the temporary
/// directory the files are in) as long as it is read.
pub struct Archives<K> {
    paths: std::collections::VecDeque<std::path::PathBuf>,
    current: Option<Box<dyn BufRead + Send>>,
    _keep: K,
}

impl<K> Archives<K> {
    pub fn new(paths: Vec<std::path::PathBuf>, keep: K) -> Archives<K> {
        Archives {
            paths: paths.into(),
            current: None,
            _keep: keep,
        }
    }
}

impl<K> io::Read for Archives<K> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.current.is_none() {
                let Some(next) = self.paths.pop_front() else {
                    return Ok(0);
                };
                self.current =
                    Some(open_archive(&next).map_err(|e| {
                        io::Error::new(e.kind(), format!("{}: {e}", next.display()))
                    })?);
            }
            if let Some(r) = self.current.as_mut() {
                let n = r.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
            }
            self.current = None;
            if !buf.is_empty() {
                buf[0] = b'\n';
                return Ok(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CRLF ends, an over-long line skipped and counted, a last line without an end: the
    /// same from `read_line` and from a `LineReader`.
    #[test]
    fn lines_crlf_and_oversized() {
        let data = b"one\r\ntwo\n0123456789\nlast";
        let want = vec![
            (Line::Text, "one".to_string()),
            (Line::Text, "two".into()),
            (Line::TooLong(10), String::new()),
            (Line::Text, "last".into()),
        ];
        let mut r = io::BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(l) = read_line(&mut r, &mut buf, 8).unwrap() {
            got.push((l, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(got, want);
        let mut r = LineReader::with_capacity(&data[..], 4, 8);
        let mut got = Vec::new();
        while let Some((l, bytes)) = r.next_line().unwrap() {
            got.push((l, String::from_utf8(bytes.to_vec()).unwrap()));
        }
        assert_eq!(got, want);
    }

    /// A reader that hands out at most `step` bytes a call, as a pipe or socket may.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    proptest::proptest! {
        /// Any bytes, any buffer and read sizes, any bound: the lines `read_line` gives.
        #[test]
        fn lines_in_place_are_read_lines_lines(
            data in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b'a'), proptest::strategy::Just(b'\n'),
                proptest::strategy::Just(b'\r'), proptest::strategy::Just(b'z'),
            ], 0..200),
            capacity in 1usize..40,
            step in 1usize..50,
            max in 0usize..30,
        ) {
            let mut want = Vec::new();
            let mut r = io::BufReader::with_capacity(capacity, &data[..]);
            let mut buf = Vec::new();
            while let Some(l) = read_line(&mut r, &mut buf, max).unwrap() {
                want.push((l, buf.clone()));
            }
            let mut got = Vec::new();
            let mut r = LineReader::with_capacity(Trickle { data: &data, step }, capacity, max);
            while let Some((l, bytes)) = r.next_line().unwrap() {
                got.push((l, bytes.to_vec()));
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    /// A plain file without a final line break, then a gzip one: read as one stream, lines
    /// kept apart.
    #[test]
    fn archives_read_one_after_the_other() {
        use std::io::{Read, Write};
        let dir = std::env::temp_dir().join(format!("dw-archives-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("000-a.jsonl");
        std::fs::write(&plain, "one\ntwo").unwrap();
        let zipped = dir.join("001-b.jsonl.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&zipped).unwrap(),
            flate2::Compression::default(),
        );
        gz.write_all(b"three\n").unwrap();
        gz.finish().unwrap();
        let mut text = String::new();
        Archives::new(vec![plain, zipped], ())
            .read_to_string(&mut text)
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, ["one", "two", "three"]);
    }
}

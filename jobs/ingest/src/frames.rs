//! Splitting a stream's bytes into messages: Twitter v1.1 with `delimited=length` sends each
//! message after its length in bytes on a line of its own; keep-alives are blank lines; v2 and
//! archives are newline-delimited. CRLF or LF, across any chunking.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `<length>\r\n<message of length bytes>`
    Length,
    /// One message per line.
    Lines,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    Message(Vec<u8>),
    KeepAlive,
    /// Bytes that break the framing (a length that is not a number, or too large).
    Garbage(Vec<u8>),
}

/// The largest message accepted: far above any tweet.
pub(crate) const MAX_MESSAGE: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct Framer {
    framing: Framing,
    buf: Vec<u8>,
    /// Length-delimited: the length announced for the message being read.
    pending: Option<usize>,
}

impl Framer {
    pub(crate) fn new(framing: Framing) -> Framer {
        Framer {
            framing,
            buf: Vec::new(),
            pending: None,
        }
    }

    /// Bytes received but not yet a whole frame (a connection that drops mid-message leaves
    /// them: the framer goes with the connection, and the message comes again after
    /// reconnecting).
    #[cfg(test)]
    pub(crate) fn partial(&self) -> usize {
        self.buf.len()
    }

    /// Adds received bytes and returns the frames they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if let Some(len) = self.pending {
                if self.buf.len() < len {
                    break;
                }
                let message: Vec<u8> = self.buf.drain(..len).collect();
                self.pending = None;
                out.push(trimmed(&message));
                continue;
            }
            let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_MESSAGE {
                    out.push(Frame::Garbage(std::mem::take(&mut self.buf)));
                }
                break;
            };
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            let text = trim_line(&line);
            if text.is_empty() {
                out.push(Frame::KeepAlive);
                continue;
            }
            match self.framing {
                Framing::Lines => out.push(Frame::Message(text.to_vec())),
                Framing::Length => match std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<usize>().ok())
                {
                    Some(len) if len > 0 && len <= MAX_MESSAGE => self.pending = Some(len),
                    _ => out.push(Frame::Garbage(line)),
                },
            }
        }
        out
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ') {
        end -= 1;
    }
    &line[..end]
}

/// A length-delimited message includes its own line end: drop it.
fn trimmed(message: &[u8]) -> Frame {
    let t = trim_line(message);
    if t.is_empty() {
        Frame::KeepAlive
    } else {
        Frame::Message(t.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn delimited(messages: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            out.extend_from_slice(b"\r\n"); // a keep-alive between messages
            out.extend_from_slice(format!("{}\r\n{m}\r\n", m.len() + 2).as_bytes());
        }
        out
    }

    #[test]
    fn length_delimited_messages_across_chunks() {
        let bytes = delimited(&["{\"a\":1}", "{\"text\":\"line\\nbreak\"}"]);
        for chunk in [1, 2, 3, 7, 100] {
            let mut f = Framer::new(Framing::Length);
            let mut got = Vec::new();
            for c in bytes.chunks(chunk) {
                got.extend(f.push(c));
            }
            let messages: Vec<Frame> = got.into_iter().filter(|x| *x != Frame::KeepAlive).collect();
            assert_eq!(
                messages,
                vec![
                    Frame::Message(b"{\"a\":1}".to_vec()),
                    Frame::Message(b"{\"text\":\"line\\nbreak\"}".to_vec())
                ],
                "chunk {chunk}"
            );
            assert_eq!(f.partial(), 0);
        }
    }

    #[test]
    fn lines_and_garbage() {
        let mut f = Framer::new(Framing::Lines);
        assert_eq!(
            f.push(b"{\"x\":1}\r\n\n{\"y\""),
            vec![Frame::Message(b"{\"x\":1}".to_vec()), Frame::KeepAlive]
        );
        assert_eq!(f.partial(), 4);
        let mut f = Framer::new(Framing::Length);
        assert!(matches!(f.push(b"abc\r\n")[0], Frame::Garbage(_)));
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16)) {
            for framing in [Framing::Length, Framing::Lines] {
                let mut f = Framer::new(framing);
                for c in &chunks {
                    let _ = f.push(c);
                }
            }
        }

        #[test]
        fn whatever_the_chunking_the_messages_are_the_same(
            messages in prop::collection::vec("[a-z0-9{}\":,\\\\ ]{1,40}", 1..10),
            cut in 1usize..50,
        ) {
            let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
            let bytes = delimited(&refs);
            let mut f = Framer::new(Framing::Length);
            let mut got = Vec::new();
            for c in bytes.chunks(cut) {
                got.extend(f.push(c).into_iter().filter_map(|x| match x { Frame::Message(m) => Some(String::from_utf8(m).unwrap()), _ => None }));
            }
            let want: Vec<String> = messages.iter().map(|m| m.trim_end_matches([' ', '\r', '\n']).to_string()).filter(|m| !m.is_empty()).collect();
            prop_assert_eq!(got, want);
        }
    }
}

//! The one HTTP/1.1 parser every `http` server uses (weft, tokio, smol and
//! the hand-written epoll loop), so that only the runtime differs; and the
//! load generator's reading of the responses.
//!
//! Deliberately tiny: a request line, headers, an optional `Content-Length`
//! body; no chunked request bodies (refused with 400), no header folding.
//! Requests may be pipelined: [`serve`] answers every complete request in a
//! buffer, in order.

#![forbid(unsafe_code)]

/// The answer to `GET /`.
pub(crate) const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";

/// The answer to any other path or method.
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/// The answer to a request we cannot parse; the connection closes after it.
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// What the load generator sends: a keep-alive `GET /`.
pub(crate) const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: weft-bench\r\nAccept: */*\r\n\r\n";

/// The most bytes a request's head may take.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// The most header lines a request may carry.
const MAX_HEADERS: usize = 64;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not HTTP/1.x as this parser reads it.
    Malformed,
    /// The head is longer than [`MAX_HEAD`] or has too many headers.
    TooLarge,
    /// `Transfer-Encoding` on a request: not supported.
    Unsupported,
}

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a [u8],
    pub(crate) path: &'a [u8],
    /// Whether the connection stays open after the response.
    pub(crate) keep_alive: bool,
    /// Bytes of the buffer the request took, head and body.
    pub(crate) len: usize,
}

/// The offset just past the first `\r\n\r\n` in `buf`.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 3 < buf.len() {
        // Jump from '\n' to '\n': the terminator's second '\n' is 3 bytes on.
        match buf[i + 3] {
            b'\n' if &buf[i..i + 3] == b"\r\n\r" => return Some(i + 4),
            b'\r' | b'\n' => i += 1,
            _ => i += 4,
        }
    }
    None
}

fn is_token(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

fn parse_len(v: &[u8]) -> Option<usize> {
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0, |n, &d| n * 10 + usize::from(d - b'0')))
}

/// Parse the first request in `buf`: `Ok(None)` while it is incomplete.
pub(crate) fn parse_request(buf: &[u8]) -> Result<Option<Request<'_>>, ParseError> {
    let Some(end) = head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(ParseError::TooLarge)
        } else {
            Ok(None)
        };
    };
    if end > MAX_HEAD {
        return Err(ParseError::TooLarge);
    }
    let mut lines = buf[..end - 4]
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().ok_or(ParseError::Malformed)?;
    let mut parts = first.split(|&c| c == b' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Malformed);
    };
    if !is_token(method) || path.is_empty() || path.iter().any(|c| c.is_ascii_control()) {
        return Err(ParseError::Malformed);
    }
    let mut keep_alive = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => return Err(ParseError::Malformed),
    };
    let mut body = None;
    for (n, line) in lines.enumerate() {
        if n >= MAX_HEADERS {
            return Err(ParseError::TooLarge);
        }
        let colon = line
            .iter()
            .position(|&c| c == b':')
            .ok_or(ParseError::Malformed)?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if !is_token(name) || value.iter().any(|&c| c.is_ascii_control() && c != b'\t') {
            return Err(ParseError::Malformed);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let len = parse_len(value).ok_or(ParseError::Malformed)?;
            if body.is_some_and(|b| b != len) {
                return Err(ParseError::Malformed);
            }
            body = Some(len);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(ParseError::Unsupported);
        } else if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    let len = end
        .checked_add(body.unwrap_or(0))
        .ok_or(ParseError::TooLarge)?;
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some(Request {
        method,
        path,
        keep_alive,
        len,
    }))
}

/// What [`serve`] did with a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Served {
    /// Bytes of complete requests it answered (drop them from the buffer).
    pub(crate) consumed: usize,
    /// Close the connection once `out` is written.
    pub(crate) close: bool,
}

/// Answer every complete request at the start of `input`, appending the
/// responses to `out`. The server logic all four `http` servers share.
pub(crate) fn serve(input: &[u8], out: &mut Vec<u8>) -> Served {
    let mut consumed = 0;
    loop {
        match parse_request(&input[consumed..]) {
            Ok(Some(req)) => {
                consumed += req.len;
                out.extend_from_slice(if req.method == b"GET" && req.path == b"/" {
                    HELLO
                } else {
                    NOT_FOUND
                });
                if !req.keep_alive {
                    return Served {
                        consumed,
                        close: true,
                    };
                }
            }
            Ok(None) => {
                return Served {
                    consumed,
                    close: false,
                }
            }
            Err(_) => {
                out.extend_from_slice(BAD_REQUEST);
                return Served {
                    consumed: input.len(),
                    close: true,
                };
            }
        }
    }
}

/// The load generator's view of a response at the start of `buf`: its
/// status and total length once the head is complete (`Ok(None)` before).
pub(crate) fn parse_response(buf: &[u8]) -> Result<Option<(u16, usize)>, String> {
    let Some(end) = head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err("a response head longer than 8 KiB".into())
        } else {
            Ok(None)
        };
    };
    let head = &buf[..end];
    let status = head
        .strip_prefix(b"HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            format!(
                "not an HTTP/1.1 status line: {:?}",
                String::from_utf8_lossy(head)
            )
        })?;
    let mut body = 0;
    for line in head.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(colon) = line.iter().position(|&c| c == b':') {
            if line[..colon].eq_ignore_ascii_case(b"content-length") {
                body = parse_len(trim(&line[colon + 1..]))
                    .ok_or("a bad Content-Length in a response")?;
            }
        }
    }
    Ok(Some((status, end + body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keep_alive_get() {
        let r = parse_request(REQUEST).unwrap().unwrap();
        assert_eq!(r.method, b"GET");
        assert_eq!(r.path, b"/");
        assert!(r.keep_alive);
        assert_eq!(r.len, REQUEST.len());
    }

    #[test]
    fn incomplete_requests_wait_for_more() {
        for cut in 0..REQUEST.len() {
            assert_eq!(parse_request(&REQUEST[..cut]), Ok(None), "cut at {cut}");
        }
        let post = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc";
        assert_eq!(parse_request(post), Ok(None));
        let whole = b"POST /x HTTP/1.1\r\ncontent-length: 5\r\n\r\nabcde";
        assert_eq!(parse_request(whole).unwrap().unwrap().len, whole.len());
    }

    #[test]
    fn connection_headers_and_versions() {
        let r = parse_request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(!r.unwrap().unwrap().keep_alive);
        let r = parse_request(b"GET / HTTP/1.0\r\n\r\n");
        assert!(!r.unwrap().unwrap().keep_alive);
        let r = parse_request(b"GET / HTTP/1.0\r\nconnection:  Keep-Alive \r\n\r\n");
        assert!(r.unwrap().unwrap().keep_alive);
    }

    #[test]
    fn bad_requests_are_refused() {
        let bad: [&[u8]; 8] = [
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ];
        for b in bad {
            assert_eq!(
                parse_request(b),
                Err(ParseError::Malformed),
                "{}",
                String::from_utf8_lossy(b)
            );
        }
        let te = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse_request(te), Err(ParseError::Unsupported));
        let long = vec![b'a'; MAX_HEAD + 1];
        assert_eq!(parse_request(&long), Err(ParseError::TooLarge));
    }

    #[test]
    fn serve_answers_pipelined_requests_in_order() {
        let mut input = REQUEST.to_vec();
        input.extend_from_slice(b"GET /nope HTTP/1.1\r\n\r\n");
        input.extend_from_slice(&REQUEST[..10]);
        let mut out = Vec::new();
        let s = serve(&input, &mut out);
        assert_eq!(s.consumed, input.len() - 10);
        assert!(!s.close);
        assert!(out.starts_with(HELLO));
        assert_eq!(&out[HELLO.len()..], NOT_FOUND);
    }

    #[test]
    fn serve_closes_after_close_and_after_garbage() {
        let mut out = Vec::new();
        let s = serve(b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n", &mut out);
        assert_eq!((s.consumed, s.close), (18, true));
        assert_eq!(out, HELLO);
        out.clear();
        let s = serve(b"garbage\r\n\r\n", &mut out);
        assert!(s.close);
        assert_eq!(out, BAD_REQUEST);
    }

    #[test]
    fn responses_are_read_whole() {
        assert_eq!(parse_response(HELLO), Ok(Some((200, HELLO.len()))));
        assert_eq!(parse_response(&HELLO[..20]), Ok(None));
        assert_eq!(parse_response(NOT_FOUND), Ok(Some((404, NOT_FOUND.len()))));
        assert!(parse_response(b"SPDY/3 200\r\n\r\n").is_err());
    }
}

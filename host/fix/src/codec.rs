//! FIX tag=value encoding: fields `tag=value<SOH>`, framed by BeginString(8), BodyLength(9) and
//! CheckSum(10).
//!
//! * [`Message`] is an ordered list of fields without 8, 9 and 10 (MsgType(35) first); values are
//!   bytes (FIX is ASCII; DATA fields such as RawData(96) may hold anything, their length given by
//!   the preceding length field).
//! * [`encode`] writes one message: `8=BEGIN|9=LEN|...fields...|10=SUM|`, LEN counting the bytes
//!   from the field after 9 up to and including the SOH before 10, SUM the byte sum of everything
//!   before `10=` modulo 256, three digits.
//! * [`decode`] takes bytes off a stream: a whole message, `Incomplete` (read more), or `Garbled`
//!   with the number of bytes to drop and why (bad BeginString, BodyLength, CheckSum or field
//!   syntax). It never panics, whatever the input: garbage is skipped up to the next `8=FIX`.

use std::fmt::Write as _;

use rust_decimal::Decimal;

pub const SOH: u8 = 0x01;

/// Largest BodyLength accepted; anything larger is garbage (our messages are a few hundred bytes).
pub const MAX_BODY_LEN: usize = 1 << 20;

/// Length field -> the DATA field whose length it gives (FIX 4.4).
const DATA_FIELDS: &[(u32, u32)] = &[
    (90, 91),
    (93, 89),
    (95, 96),
    (212, 213),
    (348, 349),
    (350, 351),
    (352, 353),
    (354, 355),
    (356, 357),
    (358, 359),
    (360, 361),
    (362, 363),
    (364, 365),
    (445, 446),
    (618, 619),
    (621, 622),
];

fn data_tag_for(len_tag: u32) -> Option<u32> {
    DATA_FIELDS
        .iter()
        .find(|(l, _)| *l == len_tag)
        .map(|(_, d)| *d)
}

/// Why bytes off the wire are not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("{0} bytes before BeginString(8) skipped")]
    Garbage(usize),
    #[error("BeginString(8) malformed")]
    BadBeginString,
    #[error("BodyLength(9) missing or malformed")]
    BadBodyLength,
    #[error("BodyLength(9) {0} above the limit of {MAX_BODY_LEN}")]
    TooLong(usize),
    #[error("CheckSum(10) not where BodyLength(9) says (wrong BodyLength)")]
    NoCheckSum,
    #[error("CheckSum(10) is {got:03}, the bytes sum to {want:03}")]
    CheckSum { got: u32, want: u32 },
    #[error("field syntax at byte {0}: expected tag=value<SOH>")]
    FieldSyntax(usize),
    #[error("tag {0:?} is not a positive integer")]
    BadTag(String),
    #[error("the first field is not MsgType(35)")]
    NoMsgType,
    #[error("DATA field {tag}: length {len} runs past the message")]
    DataLength { tag: u32, len: usize },
}

/// A problem with one field of a well-framed message: what a session Reject(3) reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tag {tag}: {reason}")]
pub struct FieldError {
    pub tag: u32,
    pub reason: RejectReason,
}

/// SessionRejectReason(373) values used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    RequiredTagMissing,
    ValueIncorrect,
    IncorrectDataFormat,
    CompIdProblem,
    SendingTimeAccuracy,
    InvalidMsgType,
    Other,
}

impl RejectReason {
    pub fn code(self) -> u32 {
        match self {
            RejectReason::RequiredTagMissing => 1,
            RejectReason::ValueIncorrect => 5,
            RejectReason::IncorrectDataFormat => 6,
            RejectReason::CompIdProblem => 9,
            RejectReason::SendingTimeAccuracy => 10,
            RejectReason::InvalidMsgType => 11,
            RejectReason::Other => 99,
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RejectReason::RequiredTagMissing => "required tag missing",
            RejectReason::ValueIncorrect => "value is incorrect (out of range) for this tag",
            RejectReason::IncorrectDataFormat => "incorrect data format for value",
            RejectReason::CompIdProblem => "CompID problem",
            RejectReason::SendingTimeAccuracy => "SendingTime accuracy problem",
            RejectReason::InvalidMsgType => "invalid MsgType",
            RejectReason::Other => "other",
        })
    }
}

/// One FIX message: fields in order, without BeginString, BodyLength and CheckSum.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Message {
    data: Vec<u8>,
    /// (tag, start, end) into `data`.
    fields: Vec<(u32, u32, u32)>,
}

impl std::fmt::Debug for Message {
    /// `35=D|49=..`, with the values of secret-bearing tags (Password(554), RawData(96),
    /// NewPassword(925)) replaced by `***`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display_redacted())
    }
}

/// Tags whose values are never printed.
pub const SECRET_TAGS: &[u32] = &[96, 554, 925, 91];

impl Message {
    /// A message of this MsgType (its first field).
    pub fn new(msg_type: &str) -> Message {
        let mut m = Message {
            data: Vec::with_capacity(256),
            fields: Vec::with_capacity(24),
        };
        m.push(35, msg_type);
        m
    }

    pub fn push(&mut self, tag: u32, value: impl AsRef<[u8]>) -> &mut Self {
        let v = value.as_ref();
        let start = self.data.len() as u32;
        self.data.extend_from_slice(v);
        self.fields.push((tag, start, self.data.len() as u32));
        self
    }

    pub fn push_u64(&mut self, tag: u32, v: u64) -> &mut Self {
        let mut b = itoa_buf();
        let s = fmt_u64(&mut b, v);
        self.push(tag, s)
    }

    /// A decimal in plain notation without trailing zeros (`0.50000` is written `0.5`).
    pub fn push_decimal(&mut self, tag: u32, v: Decimal) -> &mut Self {
        let mut s = String::with_capacity(24);
        let _ = write!(s, "{}", v.normalize());
        self.push(tag, s)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// MsgType(35) (the first field; empty if the message has none).
    pub fn msg_type(&self) -> &str {
        match self.fields.first() {
            Some(&(35, s, e)) => {
                std::str::from_utf8(&self.data[s as usize..e as usize]).unwrap_or("")
            }
            _ => "",
        }
    }

    /// Fields in order.
    pub fn fields(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.fields
            .iter()
            .map(|&(t, s, e)| (t, &self.data[s as usize..e as usize]))
    }

    /// The first value of `tag`, as bytes.
    pub fn get_bytes(&self, tag: u32) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.0 == tag)
            .map(|&(_, s, e)| &self.data[s as usize..e as usize])
    }

    /// The first value of `tag` as text (None when absent or not UTF-8).
    pub fn get(&self, tag: u32) -> Option<&str> {
        self.get_bytes(tag)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn has(&self, tag: u32) -> bool {
        self.fields.iter().any(|f| f.0 == tag)
    }

    /// A required text field.
    pub fn req(&self, tag: u32) -> Result<&str, FieldError> {
        match self.get_bytes(tag) {
            None => Err(FieldError {
                tag,
                reason: RejectReason::RequiredTagMissing,
            }),
            Some(b) => std::str::from_utf8(b).map_err(|_| FieldError {
                tag,
                reason: RejectReason::IncorrectDataFormat,
            }),
        }
    }

    /// An optional unsigned integer field.
    pub fn get_u64(&self, tag: u32) -> Result<Option<u64>, FieldError> {
        match self.get_bytes(tag) {
            None => Ok(None),
            Some(b) => parse_u64(b).map(Some).ok_or(FieldError {
                tag,
                reason: RejectReason::IncorrectDataFormat,
            }),
        }
    }

    pub fn req_u64(&self, tag: u32) -> Result<u64, FieldError> {
        self.get_u64(tag)?.ok_or(FieldError {
            tag,
            reason: RejectReason::RequiredTagMissing,
        })
    }

    /// An optional decimal (PRICE, QTY) field.
    pub fn get_decimal(&self, tag: u32) -> Result<Option<Decimal>, FieldError> {
        match self.get(tag) {
            None if !self.has(tag) => Ok(None),
            None => Err(FieldError {
                tag,
                reason: RejectReason::IncorrectDataFormat,
            }),
            Some(s) => parse_decimal(s).map(Some).ok_or(FieldError {
                tag,
                reason: RejectReason::IncorrectDataFormat,
            }),
        }
    }

    pub fn req_decimal(&self, tag: u32) -> Result<Decimal, FieldError> {
        self.get_decimal(tag)?.ok_or(FieldError {
            tag,
            reason: RejectReason::RequiredTagMissing,
        })
    }

    /// A single-character field (CHAR).
    pub fn get_char(&self, tag: u32) -> Result<Option<u8>, FieldError> {
        match self.get_bytes(tag) {
            None => Ok(None),
            Some([c]) if c.is_ascii_graphic() => Ok(Some(*c)),
            Some(_) => Err(FieldError {
                tag,
                reason: RejectReason::IncorrectDataFormat,
            }),
        }
    }

    pub fn req_char(&self, tag: u32) -> Result<u8, FieldError> {
        self.get_char(tag)?.ok_or(FieldError {
            tag,
            reason: RejectReason::RequiredTagMissing,
        })
    }

    /// A BOOLEAN field: `Y` or `N`.
    pub fn get_bool(&self, tag: u32) -> Result<Option<bool>, FieldError> {
        match self.get_bytes(tag) {
            None => Ok(None),
            Some(b"Y") => Ok(Some(true)),
            Some(b"N") => Ok(Some(false)),
            Some(_) => Err(FieldError {
                tag,
                reason: RejectReason::IncorrectDataFormat,
            }),
        }
    }

    /// `35=A|34=1|...|` with SOH shown as `|` and secrets as `***`: safe to log.
    pub fn display_redacted(&self) -> String {
        let mut s = String::with_capacity(self.data.len() + 4 * self.fields.len());
        for (tag, v) in self.fields() {
            let _ = write!(s, "{tag}=");
            if SECRET_TAGS.contains(&tag) {
                s.push_str("***");
            } else {
                for &b in v {
                    s.push(if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '?'
                    });
                }
            }
            s.push('|');
        }
        s
    }
}

fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

fn fmt_u64(buf: &mut [u8; 20], mut v: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// An unsigned decimal integer, digits only, no sign, at most 19 digits.
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0')))
}

/// A FIX PRICE/QTY value: optional `-`, digits, optional `.` and digits.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let norm = match (int.is_empty(), frac.is_empty()) {
        (true, _) => format!("0.{frac}"),
        (false, true) => int.to_string(),
        (false, false) => format!("{int}.{frac}"),
    };
    let d = Decimal::from_str_exact(&norm).ok()?;
    Some(if s.starts_with('-') { -d } else { d })
}

/// Appends the wire form of `msg` to `out`: BeginString, BodyLength, the fields, CheckSum.
pub fn encode(begin: &str, msg: &Message, out: &mut Vec<u8>) {
    let body_len: usize = msg
        .fields
        .iter()
        .map(|&(t, s, e)| digits(u64::from(t)) + 2 + (e - s) as usize)
        .sum();
    let start = out.len();
    out.reserve(body_len + begin.len() + 24);
    out.extend_from_slice(b"8=");
    out.extend_from_slice(begin.as_bytes());
    out.push(SOH);
    out.extend_from_slice(b"9=");
    let mut b = itoa_buf();
    out.extend_from_slice(fmt_u64(&mut b, body_len as u64));
    out.push(SOH);
    for (tag, v) in msg.fields() {
        out.extend_from_slice(fmt_u64(&mut b, u64::from(tag)));
        out.push(b'=');
        out.extend_from_slice(v);
        out.push(SOH);
    }
    let sum = checksum(&out[start..]);
    out.extend_from_slice(b"10=");
    out.push(b'0' + (sum / 100) as u8);
    out.push(b'0' + (sum / 10 % 10) as u8);
    out.push(b'0' + (sum % 10) as u8);
    out.push(SOH);
}

fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Sum of the bytes modulo 256.
pub fn checksum(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |a, &x| (a + u32::from(x)) & 0xff)
}

/// What `decode` found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole message of `len` bytes, with its BeginString.
    Message {
        begin: String,
        msg: Message,
        len: usize,
    },
    /// More bytes are needed.
    Incomplete,
    /// `len` bytes (at least 1) are not a message and are to be dropped.
    Garbled { len: usize, error: CodecError },
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The next message at the start of `buf`.
pub fn decode(buf: &[u8]) -> Decoded {
    if buf.is_empty() {
        return Decoded::Incomplete;
    }
    // resynchronise on "8=FIX"
    if !buf.starts_with(b"8=FIX") {
        if b"8=FIX".starts_with(&buf[..buf.len().min(5)]) {
            return Decoded::Incomplete;
        }
        let skip = match find(buf, b"8=FIX", 1) {
            Some(i) => i,
            // keep a tail that may be the start of "8=FIX"
            None => (1..5.min(buf.len()))
                .rev()
                .find(|&k| b"8=FIX".starts_with(&buf[buf.len() - k..]))
                .map_or(buf.len(), |k| buf.len() - k),
        };
        if skip == 0 {
            return Decoded::Incomplete;
        }
        return Decoded::Garbled {
            len: skip,
            error: CodecError::Garbage(skip),
        };
    }
    let resync = |error: CodecError| {
        let len = find(buf, b"8=FIX", 1).unwrap_or(buf.len());
        Decoded::Garbled { len, error }
    };
    // 8=...<SOH>
    let Some(e8) = buf.iter().take(32).position(|&b| b == SOH) else {
        return if buf.len() < 32 {
            Decoded::Incomplete
        } else {
            resync(CodecError::BadBeginString)
        };
    };
    let begin = match std::str::from_utf8(&buf[2..e8]) {
        Ok(s) if s.bytes().all(|b| b.is_ascii_graphic()) => s.to_string(),
        _ => return resync(CodecError::BadBeginString),
    };
    // 9=digits<SOH>
    let p9 = e8 + 1;
    let rest = &buf[p9..];
    if rest.len() < 2 {
        return if b"9=".starts_with(rest) {
            Decoded::Incomplete
        } else {
            resync(CodecError::BadBodyLength)
        };
    }
    if &rest[..2] != b"9=" {
        return resync(CodecError::BadBodyLength);
    }
    let Some(e9) = rest.iter().take(12).position(|&b| b == SOH) else {
        return if rest.len() < 12 && rest[2..].iter().all(u8::is_ascii_digit) {
            Decoded::Incomplete
        } else {
            resync(CodecError::BadBodyLength)
        };
    };
    let Some(body_len) = parse_u64(&rest[2..e9]) else {
        return resync(CodecError::BadBodyLength);
    };
    let body_len = body_len as usize;
    if body_len > MAX_BODY_LEN {
        return resync(CodecError::TooLong(body_len));
    }
    let body_start = p9 + e9 + 1;
    let body_end = body_start + body_len;
    let total = body_end + 7;
    if buf.len() < total {
        // a CheckSum already visible earlier than BodyLength says is a wrong BodyLength
        return Decoded::Incomplete;
    }
    let trailer = &buf[body_end..total];
    if &trailer[..3] != b"10="
        || trailer[6] != SOH
        || !trailer[3..6].iter().all(u8::is_ascii_digit)
        || (body_len > 0 && buf[body_end - 1] != SOH)
    {
        return resync(CodecError::NoCheckSum);
    }
    let got = trailer[3..6]
        .iter()
        .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    let want = checksum(&buf[..body_end]);
    if got != want {
        return Decoded::Garbled {
            len: total,
            error: CodecError::CheckSum { got, want },
        };
    }
    match parse_fields(&buf[body_start..body_end], body_start) {
        Ok(msg) => Decoded::Message {
            begin,
            msg,
            len: total,
        },
        Err(error) => Decoded::Garbled { len: total, error },
    }
}

fn parse_fields(body: &[u8], offset: usize) -> Result<Message, CodecError> {
    let mut m = Message {
        data: Vec::with_capacity(body.len()),
        fields: Vec::with_capacity(24),
    };
    let mut i = 0;
    let mut data_len: Option<(u32, usize)> = None;
    while i < body.len() {
        let Some(eq) = body[i..].iter().position(|&b| b == b'=') else {
            return Err(CodecError::FieldSyntax(offset + i));
        };
        let tag_b = &body[i..i + eq];
        let tag = match parse_u64(tag_b) {
            Some(t) if t > 0 && t <= u64::from(u32::MAX) && tag_b[0] != b'0' => t as u32,
            _ => {
                return Err(CodecError::BadTag(
                    String::from_utf8_lossy(tag_b).into_owned(),
                ))
            }
        };
        let vstart = i + eq + 1;
        let vend = match data_len.take() {
            Some((dtag, len)) if dtag == tag => {
                let end = vstart + len;
                if end >= body.len() || body[end] != SOH {
                    return Err(CodecError::DataLength { tag, len });
                }
                end
            }
            _ => match body[vstart..].iter().position(|&b| b == SOH) {
                Some(p) => vstart + p,
                None => return Err(CodecError::FieldSyntax(offset + vstart)),
            },
        };
        if vend == vstart {
            return Err(CodecError::FieldSyntax(offset + vstart));
        }
        if let Some(dtag) = data_tag_for(tag) {
            if let Some(n) = parse_u64(&body[vstart..vend]) {
                data_len = Some((dtag, n as usize));
            }
        }
        m.push(tag, &body[vstart..vend]);
        i = vend + 1;
    }
    if m.fields.first().map(|f| f.0) != Some(35) {
        return Err(CodecError::NoMsgType);
    }
    Ok(m)
}

/// Splits a byte stream into messages: `push` bytes as they are read, then take messages with
/// `next` until it returns None. Garbled input is reported through `next` and dropped.
#[derive(Debug, Default)]
pub struct Reader {
    buf: Vec<u8>,
    pos: usize,
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 32 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next message (Ok) or a dropped stretch of garbage (Err); None when more bytes are
    /// needed.
    pub fn next_message(&mut self) -> Option<Result<(String, Message), CodecError>> {
        match decode(&self.buf[self.pos..]) {
            Decoded::Incomplete => None,
            Decoded::Message { begin, msg, len } => {
                self.pos += len;
                Some(Ok((begin, msg)))
            }
            Decoded::Garbled { len, error } => {
                self.pos += len.max(1);
                Some(Err(error))
            }
        }
    }

    /// Bytes held that are not yet a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
    }
}

// ---- UTCTimestamp ----

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYYMMDD-HH:MM:SS.sss` (UTC, milliseconds) of ns since the Unix epoch.
pub fn utc_timestamp(ns: u64) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let ms = (ns / 1_000_000) % 1000;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{ms:03}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// ns since the Unix epoch of a UTCTimestamp: `YYYYMMDD-HH:MM:SS` with optional `.sss`,
/// `.ssssss` or `.sssssssss`.
pub fn parse_utc_timestamp(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 17 || b[8] != b'-' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| parse_u64(&b[r]);
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(12..14)?, num(15..17)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let frac_ns = match &b[17..] {
        [] => 0,
        [b'.', f @ ..] if matches!(f.len(), 3 | 6 | 9) => {
            parse_u64(f)? * 10u64.pow(9 - f.len() as u32)
        }
        _ => return None,
    };
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    if days < 0 {
        return None;
    }
    Some(((days as u64 * 86_400) + h * 3600 + mi * 60 + se) * 1_000_000_000 + frac_ns)
}

/// Wall-clock ns since the Unix epoch.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(s: &str) -> Vec<u8> {
        s.replace('|', "\x01").into_bytes()
    }

    #[test]
    fn binance_logon_example_has_the_documented_checksum_and_length() {
        // fix-api.md, "Resulting Logon <A> message"
        let w = wire("8=FIX.4.4|9=247|35=A|34=1|49=EXAMPLE|52=20240627-11:17:25.223|56=SPOT|95=88|96=4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA==|98=0|108=30|141=Y|553=sBRXrJx2DsOraMXOaUovEhgVRcjOvCtQwnWj8VxkOh1xqboS02SPGfKi2h8spZJb|25035=2|10=227|");
        let Decoded::Message { begin, msg, len } = decode(&w) else {
            panic!("not decoded: {:?}", decode(&w))
        };
        assert_eq!(begin, "FIX.4.4");
        assert_eq!(len, w.len());
        assert_eq!(msg.msg_type(), "A");
        assert_eq!(msg.get(553).map(str::len), Some(64));
        let mut out = Vec::new();
        encode(&begin, &msg, &mut out);
        assert_eq!(out, w, "re-encoding gives the same bytes");
    }

    #[test]
    fn encode_decode_round_trip_with_data_field_holding_soh() {
        let mut m = Message::new("D");
        m.push(49, "ME").push(56, "YOU").push_u64(34, 12);
        m.push(95, "3").push(96, b"a\x01b");
        m.push_decimal(38, Decimal::new(50000, 5));
        let mut out = Vec::new();
        encode("FIX.4.4", &m, &mut out);
        let Decoded::Message { msg, len, .. } = decode(&out) else {
            panic!()
        };
        assert_eq!(len, out.len());
        assert_eq!(msg, m);
        assert_eq!(msg.get(38), Some("0.5"));
        assert_eq!(msg.get_bytes(96), Some(&b"a\x01b"[..]));
        assert_eq!(msg.req_u64(34), Ok(12));
    }

    #[test]
    fn bad_checksum_is_garbled_and_skipped_whole() {
        let mut w = wire("8=FIX.4.4|9=5|35=0|10=000|");
        let sum = checksum(&w[..w.len() - 7]);
        assert_ne!(sum, 0);
        match decode(&w) {
            Decoded::Garbled { len, error } => {
                assert_eq!(len, w.len());
                assert_eq!(error, CodecError::CheckSum { got: 0, want: sum });
            }
            other => panic!("{other:?}"),
        }
        // fixed, it decodes
        let n = w.len();
        w[n - 2] = b'0' + (sum % 10) as u8;
        w[n - 3] = b'0' + (sum / 10 % 10) as u8;
        w[n - 4] = b'0' + (sum / 100) as u8;
        assert!(matches!(decode(&w), Decoded::Message { .. }));
    }

    #[test]
    fn wrong_body_length_resyncs_to_the_next_message() {
        let mut good = Vec::new();
        encode("FIX.4.4", &Message::new("0"), &mut good);
        let mut w = wire("8=FIX.4.4|9=3|35=0|10=123|");
        w.extend_from_slice(&good);
        match decode(&w) {
            Decoded::Garbled { len, error } => {
                assert_eq!(error, CodecError::NoCheckSum);
                assert_eq!(&w[len..], &good[..]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn leading_garbage_is_dropped_up_to_begin_string() {
        let mut good = Vec::new();
        encode("FIX.4.4", &Message::new("1"), &mut good);
        let mut w = b"hello\x01world".to_vec();
        w.extend_from_slice(&good);
        let mut r = Reader::new();
        r.push(&w);
        assert_eq!(r.next_message(), Some(Err(CodecError::Garbage(11))));
        let Some(Ok((_, m))) = r.next_message() else {
            panic!()
        };
        assert_eq!(m.msg_type(), "1");
        assert_eq!(r.next_message(), None);
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn byte_at_a_time_gives_the_same_messages() {
        let mut w = Vec::new();
        for t in ["A", "0", "8", "5"] {
            let mut m = Message::new(t);
            m.push(58, format!("text {t}"));
            encode("FIX.4.4", &m, &mut w);
        }
        let mut r = Reader::new();
        let mut got = Vec::new();
        for b in &w {
            r.push(std::slice::from_ref(b));
            while let Some(x) = r.next_message() {
                got.push(x.unwrap().1.msg_type().to_string());
            }
        }
        assert_eq!(got, ["A", "0", "8", "5"]);
    }

    /// A framed message with `body` ('|' for SOH) and a correct length and checksum.
    fn framed(body: &str) -> Vec<u8> {
        let b = body.replace('|', "\x01");
        let mut w = format!("8=FIX.4.4\x019={}\x01{b}", b.len()).into_bytes();
        let s = checksum(&w);
        w.extend_from_slice(format!("10={s:03}\x01").as_bytes());
        w
    }

    #[rstest::rstest]
    #[case::no_msg_type(framed("49=X|"), CodecError::NoMsgType)]
    #[case::tag_not_a_number(framed("35=0|x=1|"), CodecError::BadTag("x".into()))]
    #[case::tag_leading_zero(framed("35=0|058=1|"), CodecError::BadTag("058".into()))]
    // offsets in the message: the header "8=FIX.4.4|9=8|" is 14 bytes, then "35=0|"
    #[case::no_equals(framed("35=0|58|"), CodecError::FieldSyntax(19))]
    #[case::empty_value(framed("35=0|58=|"), CodecError::FieldSyntax(22))]
    #[case::data_longer_than_message(
        framed("35=A|95=50|96=abc|"),
        CodecError::DataLength { tag: 96, len: 50 }
    )]
    #[case::body_length_not_a_number(
        b"8=FIX.4.4\x019=abc\x0135=0\x0110=000\x01".to_vec(),
        CodecError::BadBodyLength
    )]
    #[case::body_length_too_long(
        b"8=FIX.4.4\x019=99999999\x01".to_vec(),
        CodecError::TooLong(99_999_999)
    )]
    fn syntax_errors_are_named(#[case] wire: Vec<u8>, #[case] want: CodecError) {
        match decode(&wire) {
            Decoded::Garbled { error, .. } => assert_eq!(error, want),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cut_headers_are_incomplete() {
        assert_eq!(decode(b"8=FI"), Decoded::Incomplete);
        assert_eq!(decode(b"8=FIX.4.4\x019=10"), Decoded::Incomplete);
    }

    #[test]
    fn field_accessors_report_the_reject_reason() {
        let mut m = Message::new("8");
        m.push(38, "1.5")
            .push(32, "abc")
            .push(54, "12")
            .push(43, "Y");
        assert_eq!(m.req_decimal(38), Ok(Decimal::new(15, 1)));
        assert_eq!(
            m.req_decimal(32),
            Err(FieldError {
                tag: 32,
                reason: RejectReason::IncorrectDataFormat
            })
        );
        assert_eq!(
            m.req_decimal(31),
            Err(FieldError {
                tag: 31,
                reason: RejectReason::RequiredTagMissing
            })
        );
        assert_eq!(
            m.get_char(54).unwrap_err().reason,
            RejectReason::IncorrectDataFormat
        );
        assert_eq!(m.get_bool(43), Ok(Some(true)));
        assert_eq!(parse_decimal(".5"), Some(Decimal::new(5, 1)));
        assert_eq!(parse_decimal("-2."), Some(Decimal::from(-2)));
        assert_eq!(parse_decimal("1e5"), None);
        assert_eq!(parse_decimal("."), None);
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let mut m = Message::new("A");
        m.push(553, "user").push(554, "hunter2").push(96, "sig");
        let s = format!("{m:?}");
        assert!(!s.contains("hunter2") && !s.contains("sig"), "{s}");
        assert!(s.contains("553=user"));
    }

    #[test]
    fn timestamps_round_trip() {
        let ns = parse_utc_timestamp("20240627-11:17:25.223").unwrap();
        assert_eq!(utc_timestamp(ns), "20240627-11:17:25.223");
        assert_eq!(parse_utc_timestamp("19700101-00:00:00"), Some(0));
        assert_eq!(
            parse_utc_timestamp("20240612-08:52:21.636837"),
            Some(parse_utc_timestamp("20240612-08:52:21").unwrap() + 636_837_000)
        );
        assert_eq!(parse_utc_timestamp("20241301-00:00:00"), None);
        assert_eq!(parse_utc_timestamp("20240101-00:00:00.12"), None);
        assert_eq!(
            utc_timestamp(951_782_400_000_000_000),
            "20000229-00:00:00.000"
        );
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics_and_always_progresses(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut r = Reader::new();
            r.push(&bytes);
            let mut n = 0;
            while r.next_message().is_some() {
                n += 1;
                proptest::prop_assert!(n <= bytes.len() + 1);
            }
        }

        #[test]
        fn mutated_messages_never_panic(flip in 0usize..200, val in proptest::prelude::any::<u8>()) {
            let mut m = Message::new("8");
            m.push(11, "123").push(95, "4").push(96, "ab=c").push(58, "some text");
            let mut w = Vec::new();
            encode("FIX.4.4", &m, &mut w);
            let i = flip % w.len();
            w[i] = val;
            let _ = decode(&w);
        }
    }
}

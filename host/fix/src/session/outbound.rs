//! Messages out: the standard header, the next MsgSeqNum, application messages kept in the store
//! (for a resend).

use super::{is_admin, Session, SessionError};
use crate::codec::{self, Message};

/// Header tags, not copied when a message is resent.
const HEADER_TAGS: &[u32] = &[8, 9, 10, 34, 35, 43, 49, 52, 56, 97, 122];

impl Session {
    pub(super) fn header(&self, msg_type: &str, seq: u64, now: u64) -> (Message, String) {
        let mut m = Message::new(msg_type);
        let t = codec::utc_timestamp(now);
        m.push(49, &self.cfg.sender)
            .push(56, &self.cfg.target)
            .push_u64(34, seq)
            .push(52, &t);
        (m, t)
    }

    pub(super) fn copy_body(into: &mut Message, body: &Message) {
        for (tag, v) in body.fields().skip(1) {
            if !HEADER_TAGS.contains(&tag) {
                into.push(tag, v);
            }
        }
    }

    /// Sends a message with the next MsgSeqNum; application messages are kept in the store.
    /// Returns its MsgSeqNum. `wire_out` says whether it goes on the wire (a test hook drops it).
    pub fn send_message(
        &mut self,
        body: &Message,
        now: u64,
        out: &mut Vec<u8>,
        wire_out: bool,
    ) -> Result<u64, SessionError> {
        let seq = self.store.next_sender();
        let (mut m, _) = self.header(body.msg_type(), seq, now);
        Self::copy_body(&mut m, body);
        let start = out.len();
        codec::encode(&self.cfg.begin, &m, out);
        if !is_admin(body.msg_type()) {
            self.store.append(seq, &out[start..])?;
        }
        self.store.set_next_sender(seq + 1)?;
        if !wire_out {
            out.truncate(start);
        }
        self.last_sent = now;
        self.stats.sent += 1;
        tracing::trace!(msg = %m.display_redacted(), "FIX out");
        Ok(seq)
    }

    pub(super) fn send_admin(
        &mut self,
        body: Message,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Result<u64, SessionError> {
        self.send_message(&body, now, out, true)
    }
}

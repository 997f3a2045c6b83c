//! Rejects we send: session-level Reject(3) and BusinessMessageReject(j).

use super::{Session, SessionError};
use crate::codec::{Message, RejectReason};

impl Session {
    /// Sends a session-level Reject(3) of a message received.
    #[allow(clippy::too_many_arguments)]
    pub fn reject(
        &mut self,
        ref_seq: u64,
        ref_msg_type: &str,
        tag: Option<u32>,
        reason: RejectReason,
        text: &str,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        tracing::warn!(
            ref_seq,
            ref_msg_type,
            ?tag,
            "FIX: rejecting a message: {reason}: {text}"
        );
        let mut m = Message::new("3");
        m.push_u64(45, ref_seq);
        if let Some(t) = tag {
            m.push_u64(371, u64::from(t));
        }
        if !ref_msg_type.is_empty() {
            m.push(372, ref_msg_type);
        }
        m.push_u64(373, u64::from(reason.code()));
        m.push(58, text);
        self.stats.rejects_sent += 1;
        self.send_admin(m, now, out).map(|_| ())
    }

    /// Sends a BusinessMessageReject(j) (e.g. an application message type we do not handle).
    #[allow(clippy::too_many_arguments)]
    pub fn business_reject(
        &mut self,
        ref_seq: u64,
        ref_msg_type: &str,
        ref_id: Option<&str>,
        reason: u32,
        text: &str,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        let mut m = Message::new("j");
        m.push_u64(45, ref_seq).push(372, ref_msg_type);
        if let Some(id) = ref_id {
            m.push(379, id);
        }
        m.push_u64(380, u64::from(reason)).push(58, text);
        self.stats.business_rejects_sent += 1;
        self.send_message(&m, now, out, true).map(|_| ())
    }
}

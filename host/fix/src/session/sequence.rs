//! Sequence numbers: gaps from the venue (held messages, our ResendRequest, the queue drained in
//! order) and the venue's ResendRequests (resends with PossDupFlag, SequenceReset-GapFill).

use super::{Phase, Session, SessionError, SessionEvent};
use crate::codec::{self, Message};

impl Session {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_gap(
        &mut self,
        seq: u64,
        expected: u64,
        msg: Message,
        mt: &str,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        if !self.cfg.dictionary.supports_resend() {
            tracing::warn!(
                expected,
                received = seq,
                dictionary = self.cfg.dictionary.name(),
                "FIX: gap of {} messages from the venue; the venue does not support resend: skipped",
                seq - expected
            );
            self.stats.gaps_skipped += 1;
            self.store.set_next_target(seq)?;
            self.process(seq, msg, false, now, out, ev)?;
            return self.drain_queue(now, out, ev);
        }
        tracing::info!(expected, received = seq, msg_type = mt, "FIX: sequence gap");
        let handled = match mt {
            "A" => {
                self.on_logon(ev);
                true
            }
            "5" => {
                self.process(seq, msg.clone(), false, now, out, ev)?;
                return Ok(());
            }
            "2" => {
                self.answer_resend(seq, &msg, now, out, ev)?;
                true
            }
            _ => false,
        };
        self.queue.entry(seq).or_insert((msg, handled));
        if self.resend_until.is_none() {
            let mut m = Message::new("2");
            m.push_u64(7, expected).push_u64(16, 0);
            self.send_admin(m, now, out)?;
            self.stats.resend_requests_sent += 1;
            self.resend_until = Some(seq);
        }
        Ok(())
    }

    pub(super) fn drain_queue(
        &mut self,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        loop {
            let exp = self.store.next_target();
            while let Some((&s, _)) = self.queue.first_key_value() {
                if s >= exp {
                    break;
                }
                self.queue.remove(&s);
            }
            let Some((m, handled)) = self.queue.remove(&exp) else {
                break;
            };
            self.process(exp, m, handled, now, out, ev)?;
            if self.phase == Phase::Disconnected {
                break;
            }
        }
        if self
            .resend_until
            .is_some_and(|u| self.store.next_target() > u)
        {
            self.resend_until = None;
        }
        Ok(())
    }

    pub(super) fn answer_resend(
        &mut self,
        seq: u64,
        msg: &Message,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        self.stats.resend_requests_received += 1;
        let (begin, end) = match (msg.req_u64(7), msg.req_u64(16)) {
            (Ok(b), Ok(e)) => (b, e),
            (Err(e), _) | (_, Err(e)) => {
                return self.reject(seq, "2", Some(e.tag), e.reason, "ResendRequest", now, out)
            }
        };
        let last = self.store.next_sender().saturating_sub(1);
        let end = if end == 0 || end > last { last } else { end };
        tracing::info!(begin, end, "FIX: the venue asks for a resend");
        if begin == 0 || begin > end {
            return Ok(());
        }
        let mut next_gap = begin;
        for s in self.store.kept_in(begin, end) {
            let Some(orig) = self.sent_message(s) else {
                continue;
            };
            let orig_time = orig.get(52).unwrap_or("").to_string();
            let stale = match (
                self.cfg.resend_max_age_ns,
                codec::parse_utc_timestamp(&orig_time),
            ) {
                (Some(max), Some(t)) => now.saturating_sub(t) > max,
                _ => false,
            };
            if stale {
                tracing::warn!(
                    seq = s,
                    msg_type = orig.msg_type(),
                    "FIX: too old to resend: gap-filled"
                );
                ev.push(SessionEvent::NotResent { msg: orig });
                continue;
            }
            if next_gap < s {
                self.gap_fill(next_gap, s, now, out);
            }
            let mut m = Message::new(orig.msg_type());
            m.push(49, &self.cfg.sender)
                .push(56, &self.cfg.target)
                .push_u64(34, s)
                .push(43, "Y")
                .push(52, codec::utc_timestamp(now))
                .push(122, &orig_time);
            Self::copy_body(&mut m, &orig);
            codec::encode(&self.cfg.begin, &m, out);
            self.stats.messages_resent += 1;
            next_gap = s + 1;
        }
        if next_gap <= end {
            self.gap_fill(next_gap, end + 1, now, out);
        }
        self.last_sent = now;
        Ok(())
    }

    fn gap_fill(&mut self, from: u64, to: u64, now: u64, out: &mut Vec<u8>) {
        let t = codec::utc_timestamp(now);
        let mut m = Message::new("4");
        m.push(49, &self.cfg.sender)
            .push(56, &self.cfg.target)
            .push_u64(34, from)
            .push(43, "Y")
            .push(52, &t)
            .push(122, &t)
            .push(123, "Y")
            .push_u64(36, to);
        codec::encode(&self.cfg.begin, &m, out);
        self.stats.gap_fills_sent += 1;
    }
}

//! Connecting, logging on and out, and the fatal errors that end a session.

use super::{Phase, Session, SessionError, SessionEvent};
use crate::auth::LogonHeader;
use crate::codec::{self, CodecError, Message};

impl Session {
    /// A new connection: sends the Logon.
    pub fn on_connected(&mut self, now: u64, out: &mut Vec<u8>) -> Result<(), SessionError> {
        if self.cfg.reset_on_logon {
            self.store.reset()?;
        }
        self.queue.clear();
        self.resend_until = None;
        self.test_req = None;
        self.last_recv = now;
        let seq = self.store.next_sender();
        let (mut m, t) = self.header("A", seq, now);
        m.push(98, "0").push_u64(108, self.cfg.heartbeat_s);
        if self.cfg.reset_on_logon {
            m.push(141, "Y");
        }
        self.creds.logon_fields(
            &mut m,
            &LogonHeader {
                sender_comp_id: &self.cfg.sender,
                target_comp_id: &self.cfg.target,
                msg_seq_num: seq,
                sending_time: &t,
            },
        );
        self.cfg.dictionary.logon_extra(&mut m);
        codec::encode(&self.cfg.begin, &m, out);
        self.store.set_next_sender(seq + 1)?;
        self.last_sent = now;
        self.stats.sent += 1;
        self.phase = Phase::LogonSent { at: now };
        tracing::debug!(msg = %m.display_redacted(), "FIX logon sent");
        Ok(())
    }

    pub fn on_disconnected(&mut self) {
        self.phase = Phase::Disconnected;
        self.queue.clear();
        self.resend_until = None;
        self.test_req = None;
    }

    pub fn on_garbled(&mut self, err: &CodecError) {
        self.stats.garbled += 1;
        tracing::warn!(target_comp_id = %self.cfg.target, "FIX: garbled input dropped: {err}");
    }

    /// Starts a Logout of ours.
    pub fn logout(&mut self, text: &str, now: u64, out: &mut Vec<u8>) -> Result<(), SessionError> {
        let mut m = Message::new("5");
        if !text.is_empty() {
            m.push(58, text);
        }
        self.send_admin(m, now, out)?;
        self.phase = Phase::LogoutSent { at: now };
        Ok(())
    }

    pub(super) fn on_logon(&mut self, ev: &mut Vec<SessionEvent>) {
        if self.phase == Phase::Active {
            tracing::warn!("FIX: a second Logon ignored");
            return;
        }
        self.phase = Phase::Active;
        self.stats.logons += 1;
        tracing::info!(
            sender = %self.cfg.sender,
            target = %self.cfg.target,
            next_out = self.store.next_sender(),
            next_in = self.store.next_target(),
            "FIX session logged on"
        );
        ev.push(SessionEvent::LoggedOn);
    }

    pub(super) fn fatal(
        &mut self,
        reason: String,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        tracing::error!(target_comp_id = %self.cfg.target, "FIX session error: {reason}");
        if self.phase != Phase::Disconnected {
            let mut m = Message::new("5");
            m.push(58, &reason);
            self.send_admin(m, now, out)?;
        }
        ev.push(SessionEvent::Disconnect { reason });
        Ok(())
    }
}

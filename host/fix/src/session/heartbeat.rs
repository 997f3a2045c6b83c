//! Timers: logon and logout timeouts, heartbeats, test requests.

use super::{Phase, Session, SessionError, SessionEvent};
use crate::codec::Message;

impl Session {
    /// Timers: logon and logout timeouts, heartbeats, test requests.
    pub fn tick(
        &mut self,
        now: u64,
        out: &mut Vec<u8>,
        ev: &mut Vec<SessionEvent>,
    ) -> Result<(), SessionError> {
        let hb = self.cfg.heartbeat_s.saturating_mul(1_000_000_000);
        match self.phase {
            Phase::Disconnected => {}
            Phase::LogonSent { at } => {
                if now.saturating_sub(at) > self.cfg.logon_timeout_ns {
                    ev.push(SessionEvent::Disconnect {
                        reason: format!(
                            "no Logon answer within {} s",
                            self.cfg.logon_timeout_ns / 1_000_000_000
                        ),
                    });
                }
            }
            Phase::LogoutSent { at } => {
                if now.saturating_sub(at) > self.cfg.logout_timeout_ns {
                    ev.push(SessionEvent::Disconnect {
                        reason: "no Logout answer; closed".into(),
                    });
                }
            }
            Phase::Active => {
                if now.saturating_sub(self.last_sent) >= hb {
                    self.send_admin(Message::new("0"), now, out)?;
                    self.stats.heartbeats_sent += 1;
                }
                match &self.test_req {
                    Some((_, at)) if self.last_recv > *at => self.test_req = None,
                    Some((_, at)) if now.saturating_sub(*at) >= hb => {
                        ev.push(SessionEvent::Disconnect {
                            reason: "heartbeat timeout: TestRequest not answered".into(),
                        });
                    }
                    Some(_) => {}
                    None if now.saturating_sub(self.last_recv) >= hb + hb / 5 => {
                        let id = format!("TEST-{now}");
                        let mut m = Message::new("1");
                        m.push(112, &id);
                        self.send_admin(m, now, out)?;
                        self.stats.test_requests_sent += 1;
                        self.test_req = Some((id, now));
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}

//! [`FixVenue`]: the engine's [`Venue`] over a FIX 4.4 session.
//!
//! A session thread owns the connection: it connects (with a doubling backoff between attempts,
//! reset after each successful logon), logs on, reads and handles what the venue sends, keeps
//! the heartbeats, and reconnects when the connection drops. `submit` and `cancel` run on the
//! caller's thread: they encode the message, keep it in the store and write it to the socket
//! (a few microseconds; they never wait for an answer). Everything the venue says comes back
//! through `poll`, in order.
//!
//! ClOrdID(11) is `cl_ord_id_prefix` + the engine's order id in decimal; a cancel's is
//! `<order's ClOrdID>-c<n>`. Execution reports name the order by OrigClOrdID(41) when present,
//! else ClOrdID(11); reports for ids that are not ours (another session's, on Binance's
//! EVERYTHING response mode) are ignored.
//!
//! ExecutionReport(8) to [`ExecKind`]:
//!
//! | ExecType(150) | OrdStatus(39) | reported as |
//! |---|---|---|
//! | 0 New, A PendingNew | | `New` |
//! | F Trade (or 4.2's 1/2) | 2 Filled | `Fill` |
//! | F | 4 Canceled, C Expired (the trade that ended an IOC order) | `PartialFill` of the trade, then `Expired` (or `Canceled` if we had asked to cancel) |
//! | F | anything else | `PartialFill` |
//! | 4 Canceled | | `Canceled` if we sent a cancel for the order, else `Expired` (many venues report an IOC remainder as 4) |
//! | C Expired | | `Expired` |
//! | 8 Rejected | | `Rejected` |
//! | 6, E (pending), D (restated) | | nothing |
//! | I Order Status | | [`VenueEvent::Status`] (after a restart: [`Venue::request_status`]) |
//! | H Trade Cancel (bust) | | [`VenueEvent::Correction`], `Bust` of the fill ExecRefID(19) names |
//! | G Trade Correct | | [`VenueEvent::Correction`], `Correct`: that fill is now LastQty(32) at LastPx(31) |
//!
//! Trade reports are de-duplicated by ExecID(17), and every fill is kept by its ExecID (with its
//! quantity and price) beyond the order's end, for the fills of the last
//! [`KEPT_ORDERS`](crate::fills::KEPT_ORDERS) orders, so that a bust or correction arriving
//! after the order is final still says what it undoes. A bust or correction naming a fill not
//! kept (unknown, or too old), or a fill already busted, is refused: logged as an error, counted
//! ([`FixVenue::corrections_refused`]), and passed on as `CorrectionRefused` (the engine counts
//! it too); one whose own ExecID was applied
//! before (a resend) is ignored. OrderCancelReject(9) is `CancelRejected`;
//! BusinessMessageReject(j) and a session Reject(3) of one of our orders are `BusinessReject`
//! naming the order (by BusinessRejectRefID(379), or the rejected message's MsgSeqNum looked up
//! in the store). An ExecutionReport with a malformed field gets a session Reject(3) and the
//! session goes on. Other application messages get a BusinessMessageReject (unsupported type).

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::auth::AuthError;
use super::codec::{self, FieldError, Message, RejectReason};
use super::config::FixSettings;
use super::dictionary::{CancelOrder, Dictionary, NewOrder};
use super::fills::{CorrectionRefused, FillMemory};
use super::session::{Session, SessionConfig, SessionError, SessionEvent, SessionStats};
use super::store::{SeqStore, StoreError};
use tickcross_trading::venue::{
    CorrectionKind, ExecKind, ExecReport, InFlight, OrderId, OrderRequest, Side, StatusReport,
    TradeCorrection, Venue, VenueClock, VenueError, VenueEvent,
};

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("venue {venue:?}: FIX credentials: {err}")]
    Auth { venue: String, err: AuthError },
    #[error("venue {venue:?}: {err}")]
    Store { venue: String, err: StoreError },
    #[error("venue {venue:?}: FIX address {addr}: {err}")]
    Address {
        venue: String,
        addr: String,
        err: String,
    },
    #[error("venue {venue:?}: cannot start the FIX session thread: {err}")]
    Thread { venue: String, err: String },
}

struct OrderInfo {
    symbol: String,
    side: Side,
    qty: Decimal,
    cancel_sent: bool,
}

struct Inner {
    session: Session,
    writer: Option<TcpStream>,
    out: Vec<u8>,
    sev: Vec<SessionEvent>,
    orders: HashMap<OrderId, OrderInfo>,
    exec_ids: HashSet<(OrderId, String)>,
    /// Fills by ExecID, kept past their order's end for busts and corrections.
    fills: FillMemory,
    /// Busts and corrections refused (unknown ExecRefID, fill already busted).
    corrections_refused: u64,
    tx: Sender<VenueEvent>,
    dictionary: Dictionary,
    prefix: String,
    drop_next_app: u32,
    cancels: u64,
    venue: String,
    /// Orders asked about with OrderStatusRequest and not answered yet.
    status_asked: HashSet<OrderId>,
    /// The MassStatusReqID of the mass status in progress, and its reports so far.
    mass: Option<(String, u64)>,
}

struct Shared {
    inner: Mutex<Inner>,
    stop: AtomicBool,
    abort: AtomicBool,
    active: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // a panic while holding the lock leaves a usable state (every step is self-contained)
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_error(&self, e: String) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }
}

/// An order-entry venue over FIX 4.4.
pub struct FixVenue {
    shared: Arc<Shared>,
    rx: Receiver<VenueEvent>,
    thread: Option<JoinHandle<()>>,
    name: String,
}

impl std::fmt::Debug for FixVenue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixVenue")
            .field("venue", &self.name)
            .field("connected", &self.connected())
            .finish()
    }
}

impl FixVenue {
    /// Loads the credentials, opens the store and starts the session thread (which connects
    /// and logs on in the background: see [`FixVenue::wait_connected`]).
    pub fn start(settings: &FixSettings, venue: &str) -> Result<FixVenue, FixError> {
        let creds = settings.auth.load().map_err(|err| FixError::Auth {
            venue: venue.to_string(),
            err,
        })?;
        let store = SeqStore::open(&settings.seq_store, settings.store_sync).map_err(|err| {
            FixError::Store {
                venue: venue.to_string(),
                err,
            }
        })?;
        let addr_s = format!("{}:{}", settings.host, settings.port);
        let addr = addr_s
            .to_socket_addrs()
            .map_err(|e| e.to_string())
            .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()))
            .map_err(|err| FixError::Address {
                venue: venue.to_string(),
                addr: addr_s.clone(),
                err,
            })?;
        let session = Session::new(
            SessionConfig {
                begin: "FIX.4.4".into(),
                sender: settings.sender_comp_id.clone(),
                target: settings.target_comp_id.clone(),
                heartbeat_s: settings.heartbeat_s,
                dictionary: settings.dictionary,
                reset_on_logon: settings.reset_on_logon,
                logon_timeout_ns: settings.logon_timeout_s.saturating_mul(1_000_000_000),
                logout_timeout_ns: 2_000_000_000,
                resend_max_age_ns: settings
                    .resend_max_age_ms
                    .map(|m| m.saturating_mul(1_000_000)),
            },
            creds,
            store,
        );
        let (tx, rx) = channel();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                session,
                writer: None,
                out: Vec::with_capacity(4096),
                sev: Vec::new(),
                orders: HashMap::new(),
                exec_ids: HashSet::new(),
                fills: FillMemory::new(),
                corrections_refused: 0,
                tx,
                dictionary: settings.dictionary,
                prefix: settings.cl_ord_id_prefix.clone(),
                drop_next_app: 0,
                cancels: 0,
                venue: venue.to_string(),
                status_asked: HashSet::new(),
                mass: None,
            }),
            stop: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            active: AtomicBool::new(false),
            last_error: Mutex::new(None),
        });
        let backoff = (
            Duration::from_millis(settings.reconnect_initial_ms),
            Duration::from_millis(settings.reconnect_max_ms),
        );
        let sh = shared.clone();
        let name = venue.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("fix-{venue}"))
            .spawn(move || session_thread(sh, addr, backoff, name))
            .map_err(|e| FixError::Thread {
                venue: venue.to_string(),
                err: e.to_string(),
            })?;
        Ok(FixVenue {
            shared,
            rx,
            thread: Some(thread),
            name: venue.to_string(),
        })
    }

    /// Waits until the session is logged on; the error says why not (the last connection or
    /// logon failure) after `timeout`.
    pub fn wait_connected(&self, timeout: Duration) -> Result<(), String> {
        let t0 = Instant::now();
        while !self.connected() {
            if t0.elapsed() >= timeout {
                let last = self
                    .shared
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .unwrap_or_else(|| "no answer".into());
                return Err(format!(
                    "venue {:?}: FIX session not logged on after {:?}: {last}",
                    self.name, timeout
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// Why the last connection or logon attempt failed or ended, if one did.
    pub fn last_error(&self) -> Option<String> {
        self.shared
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The session's counters.
    pub fn stats(&self) -> SessionStats {
        self.shared.lock().session.stats.clone()
    }

    /// Trade busts and corrections refused: naming a fill not kept (unknown, or older than the
    /// kept orders' fills) or a fill already busted.
    pub fn corrections_refused(&self) -> u64 {
        self.shared.lock().corrections_refused
    }

    /// (next MsgSeqNum to send, next expected).
    pub fn seq_nums(&self) -> (u64, u64) {
        let g = self.shared.lock();
        (g.session.next_sender(), g.session.next_target())
    }

    /// Test hook: the next `n` application messages are numbered and kept but not written (as
    /// if lost on the wire): the venue sees a gap and asks for them again.
    pub fn drop_next_outgoing(&self, n: u32) {
        self.shared.lock().drop_next_app = n;
    }

    /// Test hook: skips `n` outgoing sequence numbers.
    pub fn skip_outgoing_seq(&self, n: u64) -> Result<(), String> {
        self.shared
            .lock()
            .session
            .skip_outgoing(n)
            .map_err(|e| e.to_string())
    }

    /// Test hook: drops the TCP connection without a Logout (a network failure); the session
    /// thread reconnects.
    pub fn kill_connection(&self) {
        if let Some(w) = &self.shared.lock().writer {
            let _ = w.shutdown(Shutdown::Both);
        }
    }

    /// Test hook: writes raw bytes to the connection (garbage, hand-made messages).
    pub fn send_raw(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut g = self.shared.lock();
        match g.writer.as_mut() {
            Some(w) => w.write_all(bytes),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "not connected",
            )),
        }
    }

    /// Test hook: sends an application message as given (header added, numbered, kept).
    pub fn send_app_message(&self, body: &Message) -> Result<u64, String> {
        let mut g = self.shared.lock();
        if !g.session.is_active() {
            return Err("not logged on".into());
        }
        let g = &mut *g;
        let seq = g
            .session
            .send_message(body, codec::now_ns(), &mut g.out, true)
            .map_err(|e| e.to_string())?;
        g.flush();
        Ok(seq)
    }

    /// Stops without a Logout (as a crash would); the store stays as it is.
    pub fn abort(mut self) {
        self.shared.abort.store(true, Ordering::SeqCst);
        self.shared.stop.store(true, Ordering::SeqCst);
        self.kill_connection();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn stop_and_join(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FixVenue {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl Venue for FixVenue {
    fn submit(&mut self, order: &OrderRequest, _now_ns: u64) -> Result<(), VenueError> {
        let mut g = self.shared.lock();
        if !g.session.is_active() {
            return Err(VenueError::Disconnected);
        }
        let g = &mut *g;
        let cl = format!("{}{}", g.prefix, order.id);
        if !g.dictionary.valid_cl_ord_id(&cl) {
            return Err(VenueError::Other(format!(
                "ClOrdID {cl:?} breaks the dictionary's rule ({})",
                g.dictionary.cl_ord_id_rule()
            )));
        }
        let now = codec::now_ns();
        let t = codec::utc_timestamp(now);
        let body = g.dictionary.new_order_single(&NewOrder {
            cl_ord_id: &cl,
            symbol: &order.symbol,
            side: order.side,
            qty: order.qty,
            price: order.price,
            transact_time: &t,
        });
        let wire = if g.drop_next_app > 0 {
            g.drop_next_app -= 1;
            false
        } else {
            true
        };
        g.session
            .send_message(&body, now, &mut g.out, wire)
            .map_err(|e| VenueError::Other(e.to_string()))?;
        g.orders.insert(
            order.id,
            OrderInfo {
                symbol: order.symbol.clone(),
                side: order.side,
                qty: order.qty,
                cancel_sent: false,
            },
        );
        // a failed write leaves the order numbered and kept: after the reconnect the venue asks
        // for it again (or the engine's timeout ends it)
        g.flush();
        Ok(())
    }

    fn cancel(&mut self, order_id: OrderId, _now_ns: u64) -> Result<(), VenueError> {
        let mut g = self.shared.lock();
        if !g.session.is_active() {
            return Err(VenueError::Disconnected);
        }
        let g = &mut *g;
        let Some(info) = g.orders.get(&order_id) else {
            return Err(VenueError::UnknownOrder(order_id));
        };
        g.cancels += 1;
        let orig = format!("{}{}", g.prefix, order_id);
        let cl = format!("{orig}-c{}", g.cancels);
        let now = codec::now_ns();
        let t = codec::utc_timestamp(now);
        let body = g.dictionary.order_cancel_request(&CancelOrder {
            cl_ord_id: &cl,
            orig_cl_ord_id: &orig,
            symbol: &info.symbol,
            side: info.side,
            qty: info.qty,
            transact_time: &t,
        });
        g.session
            .send_message(&body, now, &mut g.out, true)
            .map_err(|e| VenueError::Other(e.to_string()))?;
        if let Some(i) = g.orders.get_mut(&order_id) {
            i.cancel_sent = true;
        }
        g.flush();
        Ok(())
    }

    fn poll(&mut self, _now_ns: u64, out: &mut Vec<VenueEvent>) -> Result<(), VenueError> {
        out.extend(self.rx.try_iter());
        Ok(())
    }

    fn connected(&self) -> bool {
        self.shared.active.load(Ordering::SeqCst)
    }

    fn clock(&self) -> VenueClock {
        VenueClock::Wall
    }

    fn next_due_ns(&self) -> Option<u64> {
        None
    }

    fn close(&mut self) {
        self.stop_and_join();
    }

    /// An OrderStatusRequest per order (OrdStatusReqID `s<order id>`) and one
    /// OrderMassStatusRequest of every order (MassStatusReqID `m<ns>`), where the dialect has
    /// them; the orders are taken on as this session's (a cancel and later reports find them,
    /// and an order the venue cancelled after our cancel is `Canceled`, not `Expired`).
    fn request_status(&mut self, orders: &[InFlight], _now_ns: u64) -> Result<bool, VenueError> {
        let mut g = self.shared.lock();
        if !g.dictionary.has_order_status() {
            return if orders.is_empty() {
                Ok(false)
            } else {
                Err(VenueError::Other(format!(
                    "the {} dialect has no OrderStatusRequest (Binance answers order queries on \
                     its REST and WebSocket APIs, which tickcross does not use)",
                    g.dictionary.name()
                )))
            };
        }
        if !g.session.is_active() {
            return Err(VenueError::Disconnected);
        }
        let g = &mut *g;
        let now = codec::now_ns();
        for InFlight {
            order: o,
            cancel_sent,
        } in orders
        {
            let cl = format!("{}{}", g.prefix, o.id);
            let body = g
                .dictionary
                .order_status_request(&cl, &format!("s{}", o.id), &o.symbol, o.side)
                .expect("the dialect has OrderStatusRequest");
            g.session
                .send_message(&body, now, &mut g.out, true)
                .map_err(|e| VenueError::Other(e.to_string()))?;
            g.orders.entry(o.id).or_insert_with(|| OrderInfo {
                symbol: o.symbol.clone(),
                side: o.side,
                qty: o.qty,
                cancel_sent: *cancel_sent,
            });
            g.status_asked.insert(o.id);
        }
        let req = format!("m{now}");
        let body = g
            .dictionary
            .order_mass_status_request(&req)
            .expect("the dialect has OrderMassStatusRequest");
        g.session
            .send_message(&body, now, &mut g.out, true)
            .map_err(|e| VenueError::Other(e.to_string()))?;
        g.mass = Some((req, 0));
        g.flush();
        Ok(true)
    }
}

fn sleep_unless_stopped(sh: &Shared, d: Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < d && !sh.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5).min(d));
    }
}

fn session_thread(sh: Arc<Shared>, addr: SocketAddr, backoff: (Duration, Duration), name: String) {
    let mut wait = backoff.0;
    let mut attempts: u64 = 0;
    while !sh.stop.load(Ordering::SeqCst) {
        attempts += 1;
        let stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("connect to {addr}: {e}");
                if attempts <= 3 || attempts.is_multiple_of(50) {
                    tracing::warn!(venue = %name, attempt = attempts, "FIX: {msg}; retrying in {wait:?}");
                }
                sh.set_error(msg);
                sleep_unless_stopped(&sh, wait);
                wait = (wait * 2).min(backoff.1);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
        let writer = match stream.try_clone() {
            Ok(w) => w,
            Err(e) => {
                sh.set_error(format!("socket: {e}"));
                sleep_unless_stopped(&sh, wait);
                continue;
            }
        };
        let _ = writer.set_write_timeout(Some(Duration::from_secs(2)));
        tracing::info!(venue = %name, %addr, "FIX: connected; logging on");
        {
            let mut g = sh.lock();
            let g = &mut *g;
            g.writer = Some(writer);
            if let Err(e) = g.session.on_connected(codec::now_ns(), &mut g.out) {
                tracing::error!(venue = %name, "FIX: {e}");
                sh.set_error(e.to_string());
            }
            g.flush();
        }
        let (reason, logged_on) = read_loop(&sh, stream);
        {
            let mut g = sh.lock();
            g.session.on_disconnected();
            if let Some(w) = g.writer.take() {
                let _ = w.shutdown(Shutdown::Both);
            }
            g.out.clear();
            if sh.active.swap(false, Ordering::SeqCst) {
                let _ = g.tx.send(VenueEvent::Disconnected {
                    reason: reason.clone(),
                });
            }
        }
        sh.set_error(reason.clone());
        if sh.stop.load(Ordering::SeqCst) {
            tracing::info!(venue = %name, "FIX session stopped: {reason}");
            break;
        }
        tracing::warn!(venue = %name, "FIX: disconnected: {reason}; reconnecting in {wait:?}");
        if logged_on {
            wait = backoff.0;
            attempts = 0;
        }
        sleep_unless_stopped(&sh, wait);
        if !logged_on {
            wait = (wait * 2).min(backoff.1);
        }
    }
}

/// Reads and handles until the connection ends; returns why and whether it had logged on.
fn read_loop(sh: &Shared, mut stream: TcpStream) -> (String, bool) {
    let mut reader = codec::Reader::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut logged_on = false;
    let mut stopping = false;
    loop {
        if sh.abort.load(Ordering::SeqCst) {
            return ("aborted".into(), logged_on);
        }
        if sh.stop.load(Ordering::SeqCst) && !stopping {
            stopping = true;
            let mut g = sh.lock();
            let g = &mut *g;
            if g.session.is_active() {
                if let Err(e) = g
                    .session
                    .logout("tickcross stopping", codec::now_ns(), &mut g.out)
                {
                    return (e.to_string(), logged_on);
                }
                g.flush();
            } else {
                return ("stopped".into(), logged_on);
            }
        }
        let got = stream.read(&mut buf);
        let mut g = sh.lock();
        let g = &mut *g;
        let now = codec::now_ns();
        match got {
            Ok(0) => return ("connection closed by the venue".into(), logged_on),
            Ok(n) => {
                reader.push(&buf[..n]);
                while let Some(item) = reader.next_message() {
                    match item {
                        Ok((begin, msg)) => {
                            let r = g
                                .session
                                .on_message(&begin, msg, now, &mut g.out, &mut g.sev);
                            if let Some(reason) = g.after(r, sh, now, &mut logged_on) {
                                return (reason, logged_on);
                            }
                        }
                        Err(e) => g.session.on_garbled(&e),
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (format!("read: {e}"), logged_on),
        }
        let r = g.session.tick(now, &mut g.out, &mut g.sev);
        if let Some(reason) = g.after(r, sh, now, &mut logged_on) {
            return (reason, logged_on);
        }
    }
}

fn parse_order_id(prefix: &str, s: &str) -> Option<OrderId> {
    let rest = s.strip_prefix(prefix)?;
    let digits = rest.split('-').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Inner {
    fn flush(&mut self) {
        if self.out.is_empty() {
            return;
        }
        if let Some(w) = self.writer.as_mut() {
            if let Err(e) = w.write_all(&self.out) {
                tracing::warn!(venue = %self.venue, "FIX: write failed: {e}");
                let _ = w.shutdown(Shutdown::Both);
            }
        }
        self.out.clear();
    }

    /// After a session call: handles its events, writes its output. Some(reason) when the
    /// connection is to close.
    fn after(
        &mut self,
        r: Result<(), SessionError>,
        sh: &Shared,
        now: u64,
        logged_on: &mut bool,
    ) -> Option<String> {
        let mut close = match r {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(venue = %self.venue, "FIX: {e}");
                Some(e.to_string())
            }
        };
        let events = std::mem::take(&mut self.sev);
        for ev in events {
            match ev {
                SessionEvent::LoggedOn => {
                    *logged_on = true;
                    sh.active.store(true, Ordering::SeqCst);
                    let _ = self.tx.send(VenueEvent::Connected);
                }
                SessionEvent::App { seq, msg } => {
                    if let Err(e) = self.on_app(seq, &msg, now) {
                        tracing::error!(venue = %self.venue, "FIX: {e}");
                        close.get_or_insert(e.to_string());
                    }
                }
                SessionEvent::Rejected {
                    ref_seq,
                    ref_msg_type,
                    text,
                } => self.on_session_reject(ref_seq, ref_msg_type.as_deref(), text),
                SessionEvent::NotResent { msg } => {
                    if msg.msg_type() == "D" {
                        if let Some(id) = msg.get(11).and_then(|c| parse_order_id(&self.prefix, c))
                        {
                            self.orders.remove(&id);
                            let _ = self.tx.send(VenueEvent::Exec(ExecReport {
                                order_id: id,
                                kind: ExecKind::Rejected,
                                last_qty: Decimal::ZERO,
                                last_price: Decimal::ZERO,
                                cum_qty: Decimal::ZERO,
                                leaves_qty: Decimal::ZERO,
                                text: Some(
                                    "never reached the venue: too old to resend after a gap".into(),
                                ),
                                ts_ns: now,
                            }));
                        }
                    }
                }
                SessionEvent::Disconnect { reason } => {
                    close.get_or_insert(reason);
                }
            }
        }
        self.flush();
        close
    }

    fn on_session_reject(&mut self, ref_seq: Option<u64>, ref_type: Option<&str>, text: String) {
        let Some(orig) = ref_seq.and_then(|s| self.session.sent_message(s)) else {
            tracing::warn!(venue = %self.venue, ?ref_seq, ?ref_type, "FIX: {text}");
            return;
        };
        let id = |tag| orig.get(tag).and_then(|c| parse_order_id(&self.prefix, c));
        match orig.msg_type() {
            "D" => {
                if let Some(order_id) = id(11) {
                    self.orders.remove(&order_id);
                    let _ = self.tx.send(VenueEvent::BusinessReject {
                        order_id: Some(order_id),
                        text,
                    });
                }
            }
            "F" => {
                if let Some(order_id) = id(41) {
                    let _ = self.tx.send(VenueEvent::CancelRejected { order_id, text });
                }
            }
            "H" => {
                if let Some(order_id) = id(11) {
                    self.status_asked.remove(&order_id);
                    let _ = self.tx.send(VenueEvent::StatusRefused { order_id, text });
                }
            }
            "AF" => self.mass_refused(&text),
            other => tracing::warn!(venue = %self.venue, msg_type = other, "FIX: {text}"),
        }
    }

    fn on_app(&mut self, seq: u64, msg: &Message, now: u64) -> Result<(), SessionError> {
        let mt = msg.msg_type().to_string();
        match mt.as_str() {
            "8" => match self.exec_report(msg, now) {
                Ok(evs) => {
                    for e in evs {
                        let _ = self.tx.send(e);
                    }
                }
                Err(e) => {
                    self.session.reject(
                        seq,
                        "8",
                        Some(e.tag),
                        e.reason,
                        &format!("ExecutionReport: {e}"),
                        now,
                        &mut self.out,
                    )?;
                }
            },
            "9" => {
                let text = self.dictionary.reject_text(msg);
                match msg.get(41).and_then(|c| parse_order_id(&self.prefix, c)) {
                    Some(order_id) => {
                        let _ = self.tx.send(VenueEvent::CancelRejected { order_id, text });
                    }
                    None => {
                        tracing::debug!(venue = %self.venue, "FIX: OrderCancelReject for an order not ours")
                    }
                }
            }
            "j" => {
                let orig = msg
                    .get_u64(45)
                    .ok()
                    .flatten()
                    .and_then(|s| self.session.sent_message(s));
                let by_ref = msg.get(379).and_then(|c| parse_order_id(&self.prefix, c));
                let by_seq = || {
                    let orig = orig.as_ref()?;
                    let tag = if orig.msg_type() == "F" { 41 } else { 11 };
                    orig.get(tag).and_then(|c| parse_order_id(&self.prefix, c))
                };
                let order_id = by_ref.or_else(by_seq);
                let text = format!(
                    "business reject (380={}): {}",
                    msg.get(380).unwrap_or("?"),
                    self.dictionary.reject_text(msg)
                );
                let ref_type = msg
                    .get(372)
                    .map(str::to_string)
                    .or_else(|| orig.as_ref().map(|o| o.msg_type().to_string()));
                match ref_type.as_deref() {
                    // a status request refused is not the order refused
                    Some("H") => {
                        if let Some(order_id) = order_id {
                            self.status_asked.remove(&order_id);
                            let _ = self.tx.send(VenueEvent::StatusRefused { order_id, text });
                        }
                        return Ok(());
                    }
                    Some("AF") => {
                        self.mass_refused(&text);
                        return Ok(());
                    }
                    _ => {}
                }
                if let Some(id) = order_id {
                    self.orders.remove(&id);
                }
                let _ = self.tx.send(VenueEvent::BusinessReject { order_id, text });
            }
            "B" => {
                tracing::info!(venue = %self.venue, "FIX news: {}", msg.get(148).unwrap_or(""))
            }
            _ => {
                self.session.business_reject(
                    seq,
                    &mt,
                    None,
                    3,
                    "unsupported message type",
                    now,
                    &mut self.out,
                )?;
            }
        }
        Ok(())
    }

    /// A mass status the venue would not give: logged, and ended (the orders asked about one
    /// by one are answered on their own).
    fn mass_refused(&mut self, text: &str) {
        if let Some((_, n)) = self.mass.take() {
            tracing::warn!(venue = %self.venue, "FIX: the venue refused the mass status: {text}");
            let _ = self.tx.send(VenueEvent::MassStatusEnd { reports: n });
        }
    }

    /// An ExecutionReport 150=I: the answer to an OrderStatusRequest, or one report of a mass
    /// status (MassStatusReqID(584) ours; LastRptRequested(912)=Y, or TotNumReports(911)
    /// reached, ends it). OrdStatus to the order's state: 0, A (pending new), 6, E (pending
    /// cancel, replace) working (`New`, or `PartialFill` with something filled); 1
    /// `PartialFill`; 2 `Fill`; 4 `Canceled` if we asked, else `Expired` (an IOC remainder); C,
    /// 3 `Expired`; 8 `Rejected`, or with OrdRejReason(103)=5 an order the venue does not know.
    fn status_report(&mut self, msg: &Message, now: u64) -> Result<Vec<VenueEvent>, FieldError> {
        let status = msg.req_char(39)?;
        let cum = msg.get_decimal(14)?.unwrap_or_default();
        let avg = msg.get_decimal(6)?.unwrap_or_default();
        let total = msg.get_u64(911)?;
        let last = msg.get_bool(912)? == Some(true);
        let in_mass = self
            .mass
            .as_ref()
            .is_some_and(|(id, _)| msg.get(584) == Some(id.as_str()));
        let mut out = Vec::new();
        let id = msg
            .get(41)
            .filter(|s| !s.is_empty())
            .or(msg.get(11))
            .and_then(|c| parse_order_id(&self.prefix, c));
        if let Some(order_id) = id {
            let cancel_sent = self.orders.get(&order_id).is_some_and(|i| i.cancel_sent);
            let working = if cum > Decimal::ZERO {
                ExecKind::PartialFill
            } else {
                ExecKind::New
            };
            let state = match status {
                b'0' | b'A' | b'6' | b'E' => Some(working),
                b'1' => Some(ExecKind::PartialFill),
                b'2' => Some(ExecKind::Fill),
                b'4' if cancel_sent => Some(ExecKind::Canceled),
                b'4' | b'C' | b'3' => Some(ExecKind::Expired),
                b'8' if msg.get(103) == Some("5") => None,
                b'8' => Some(ExecKind::Rejected),
                _ => {
                    return Err(FieldError {
                        tag: 39,
                        reason: RejectReason::ValueIncorrect,
                    })
                }
            };
            if cum < Decimal::ZERO || avg < Decimal::ZERO {
                return Err(FieldError {
                    tag: if cum < Decimal::ZERO { 14 } else { 6 },
                    reason: RejectReason::ValueIncorrect,
                });
            }
            if state.is_none_or(|k| k.is_final()) {
                self.orders.remove(&order_id);
                self.exec_ids.retain(|(o, _)| *o != order_id);
            }
            let requested = self.status_asked.remove(&order_id);
            let text = Some(self.dictionary.reject_text(msg)).filter(|t| !t.is_empty());
            out.push(VenueEvent::Status(StatusReport {
                order_id,
                state,
                cum_qty: cum,
                avg_price: avg,
                requested,
                text,
                ts_ns: msg
                    .get(60)
                    .and_then(codec::parse_utc_timestamp)
                    .unwrap_or(now),
            }));
        } else {
            tracing::debug!(venue = %self.venue, cl_ord_id = ?msg.get(11), "FIX: order status of an order not ours");
        }
        if in_mass {
            let (_, n) = self.mass.as_mut().expect("in a mass status");
            if id.is_some() {
                *n += 1;
            }
            let seen = *n;
            if last || total.is_some_and(|t| seen >= t) {
                self.mass = None;
                out.push(VenueEvent::MassStatusEnd { reports: seen });
            }
        }
        Ok(out)
    }

    fn exec_report(&mut self, msg: &Message, now: u64) -> Result<Vec<VenueEvent>, FieldError> {
        let exec_type = msg.req_char(150)?;
        if exec_type == b'I' {
            return self.status_report(msg, now);
        }
        let status = msg.req_char(39)?;
        let id_s = msg
            .get(41)
            .filter(|s| !s.is_empty())
            .or(msg.get(11))
            .ok_or(FieldError {
                tag: 11,
                reason: RejectReason::RequiredTagMissing,
            })?;
        let cum = msg.req_decimal(14)?;
        let leaves = msg.get_decimal(151)?;
        let trade = matches!(exec_type, b'F' | b'1' | b'2');
        let (last_qty, last_px) = if trade {
            (msg.req_decimal(32)?, msg.req_decimal(31)?)
        } else {
            (Decimal::ZERO, Decimal::ZERO)
        };
        if trade && (last_qty <= Decimal::ZERO || last_px <= Decimal::ZERO) {
            return Err(FieldError {
                tag: if last_qty <= Decimal::ZERO { 32 } else { 31 },
                reason: RejectReason::ValueIncorrect,
            });
        }
        let Some(order_id) = parse_order_id(&self.prefix, id_s) else {
            tracing::debug!(venue = %self.venue, cl_ord_id = id_s, "FIX: ExecutionReport for an order not ours");
            return Ok(vec![]);
        };
        if trade {
            if let Some(eid) = msg.get(17) {
                if !self.exec_ids.insert((order_id, eid.to_string())) {
                    tracing::debug!(venue = %self.venue, order = order_id, exec_id = eid, "FIX: duplicate trade report ignored");
                    return Ok(vec![]);
                }
                self.fills.keep(order_id, eid, last_qty, last_px);
            }
        }
        let ts_ns = msg
            .get(60)
            .and_then(codec::parse_utc_timestamp)
            .unwrap_or(now);
        if matches!(exec_type, b'H' | b'G') {
            // not an event of the order's life: the order may be long final
            return self
                .correction(msg, order_id, exec_type == b'H', ts_ns)
                .map(|e| e.into_iter().collect());
        }
        let text = Some(self.dictionary.reject_text(msg)).filter(|t| !t.is_empty());
        let info = self.orders.get(&order_id);
        let qty = info.map(|i| i.qty);
        let cancel_sent = info.is_some_and(|i| i.cancel_sent);
        let open_rest =
            leaves.unwrap_or_else(|| qty.map_or(Decimal::ZERO, |q| (q - cum).max(Decimal::ZERO)));
        let report = |kind: ExecKind, lq: Decimal, lp: Decimal, leaves_qty: Decimal| {
            VenueEvent::Exec(ExecReport {
                order_id,
                kind,
                last_qty: lq,
                last_price: lp,
                cum_qty: cum,
                leaves_qty,
                text: text.clone(),
                ts_ns,
            })
        };
        let ended = |by_status: u8| match by_status {
            b'4' if cancel_sent => ExecKind::Canceled,
            _ => ExecKind::Expired,
        };
        let all_filled = qty.is_some_and(|q| cum >= q);
        let evs = match exec_type {
            b'0' | b'A' => vec![report(
                ExecKind::New,
                Decimal::ZERO,
                Decimal::ZERO,
                open_rest,
            )],
            b'F' | b'1' | b'2' => match status {
                b'2' => vec![report(ExecKind::Fill, last_qty, last_px, Decimal::ZERO)],
                b'4' | b'C' if all_filled => {
                    vec![report(ExecKind::Fill, last_qty, last_px, Decimal::ZERO)]
                }
                b'4' | b'C' => vec![
                    report(
                        ExecKind::PartialFill,
                        last_qty,
                        last_px,
                        qty.map_or(Decimal::ZERO, |q| (q - cum).max(Decimal::ZERO)),
                    ),
                    report(ended(status), Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
                ],
                b'8' => {
                    return Err(FieldError {
                        tag: 39,
                        reason: RejectReason::ValueIncorrect,
                    })
                }
                _ => vec![report(ExecKind::PartialFill, last_qty, last_px, open_rest)],
            },
            b'4' => vec![report(
                ended(b'4'),
                Decimal::ZERO,
                Decimal::ZERO,
                Decimal::ZERO,
            )],
            b'C' => vec![report(
                ExecKind::Expired,
                Decimal::ZERO,
                Decimal::ZERO,
                Decimal::ZERO,
            )],
            b'8' => vec![report(
                ExecKind::Rejected,
                Decimal::ZERO,
                Decimal::ZERO,
                Decimal::ZERO,
            )],
            b'6' | b'E' | b'D' | b'5' | b'3' => {
                tracing::debug!(venue = %self.venue, order = order_id, exec_type = %(exec_type as char), "FIX: informational ExecutionReport");
                vec![]
            }
            _ => {
                return Err(FieldError {
                    tag: 150,
                    reason: RejectReason::ValueIncorrect,
                })
            }
        };
        if evs
            .iter()
            .any(|e| matches!(e, VenueEvent::Exec(r) if r.kind.is_final()))
        {
            self.orders.remove(&order_id);
            self.exec_ids.retain(|(o, _)| *o != order_id);
        }
        Ok(evs)
    }

    /// A trade bust (H) or correction (G) of the fill ExecRefID(19) names. A malformed one is an
    /// error (a session Reject); one naming a fill not kept, or busted already, is refused here.
    fn correction(
        &mut self,
        msg: &Message,
        order_id: OrderId,
        bust: bool,
        ts_ns: u64,
    ) -> Result<Option<VenueEvent>, FieldError> {
        let exec_ref = msg.get(19).filter(|s| !s.is_empty()).ok_or(FieldError {
            tag: 19,
            reason: RejectReason::RequiredTagMissing,
        })?;
        let new = if bust {
            None
        } else {
            let (q, p) = (msg.req_decimal(32)?, msg.req_decimal(31)?);
            if q <= Decimal::ZERO || p <= Decimal::ZERO {
                // a correction to nothing is a bust, and the venue says so with H
                return Err(FieldError {
                    tag: if q <= Decimal::ZERO { 32 } else { 31 },
                    reason: RejectReason::ValueIncorrect,
                });
            }
            Some((q, p))
        };
        match self.fills.apply(order_id, msg.get(17), exec_ref, new) {
            Ok((orig_qty, orig_price)) => {
                let (new_qty, new_price) = new.unwrap_or((Decimal::ZERO, Decimal::ZERO));
                tracing::warn!(venue = %self.venue, order = order_id, exec_ref, bust, %orig_qty, %orig_price, %new_qty, %new_price, "FIX: trade bust or correction");
                Ok(Some(VenueEvent::Correction(TradeCorrection {
                    order_id,
                    kind: if bust {
                        CorrectionKind::Bust
                    } else {
                        CorrectionKind::Correct
                    },
                    exec_ref_id: exec_ref.to_string(),
                    orig_qty,
                    orig_price,
                    new_qty,
                    new_price,
                    ts_ns,
                })))
            }
            Err(e @ CorrectionRefused::Duplicate { .. }) => {
                tracing::debug!(venue = %self.venue, "FIX: {e}: ignored");
                Ok(None)
            }
            Err(e) => {
                self.corrections_refused += 1;
                let text = format!(
                    "FIX: trade {} refused: {e}",
                    if bust { "bust" } else { "correction" }
                );
                tracing::error!(venue = %self.venue, "{text}; reconcile by hand");
                Ok(Some(VenueEvent::CorrectionRefused { order_id, text }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_parse_back() {
        assert_eq!(parse_order_id("", "42"), Some(42));
        assert_eq!(parse_order_id("tc", "tc42-c3"), Some(42));
        assert_eq!(parse_order_id("tc", "42"), None);
        assert_eq!(parse_order_id("", "abc"), None);
        assert_eq!(parse_order_id("", ""), None);
        assert_eq!(parse_order_id("", "99999999999999999999999"), None);
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn inner(name: &str) -> (Inner, Receiver<VenueEvent>) {
        use crate::auth::{Credentials, Secret};
        use crate::config::StoreSync;
        let dir =
            std::env::temp_dir().join(format!("tickcross-venue-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let session = Session::new(
            SessionConfig {
                begin: "FIX.4.4".into(),
                sender: "US".into(),
                target: "THEM".into(),
                heartbeat_s: 10,
                dictionary: Dictionary::Fix44,
                reset_on_logon: false,
                logon_timeout_ns: 5_000_000_000,
                logout_timeout_ns: 2_000_000_000,
                resend_max_age_ns: None,
            },
            Credentials::Plain {
                username: "u".into(),
                password: Secret::new("p"),
            },
            SeqStore::open(&dir, StoreSync::Never).unwrap(),
        );
        let (tx, rx) = channel();
        let inner = Inner {
            session,
            writer: None,
            out: Vec::new(),
            sev: Vec::new(),
            orders: HashMap::new(),
            exec_ids: HashSet::new(),
            fills: FillMemory::new(),
            corrections_refused: 0,
            tx,
            dictionary: Dictionary::Fix44,
            prefix: "tc".into(),
            drop_next_app: 0,
            cancels: 0,
            venue: "v".into(),
            status_asked: HashSet::new(),
            mass: None,
        };
        (inner, rx)
    }

    fn sent(g: &mut Inner, id: OrderId, qty: &str) {
        g.orders.insert(
            id,
            OrderInfo {
                symbol: "BTCUSDT".into(),
                side: Side::Buy,
                qty: d(qty),
                cancel_sent: false,
            },
        );
    }

    /// An ExecutionReport for order `id`: (ExecType, OrdStatus, ExecID, CumQty) and more fields.
    fn er(
        id: OrderId,
        t: &str,
        st: &str,
        exec_id: &str,
        cum: &str,
        more: &[(u32, &str)],
    ) -> Message {
        let mut m = Message::new("8");
        m.push(37, "O1")
            .push(11, format!("tc{id}"))
            .push(17, exec_id)
            .push(150, t)
            .push(39, st)
            .push(54, "1")
            .push(151, "0")
            .push(14, cum)
            .push(6, "0");
        for (tag, v) in more {
            m.push(*tag, v);
        }
        m
    }

    fn correction(evs: &[VenueEvent]) -> &TradeCorrection {
        match evs {
            [VenueEvent::Correction(c)] => c,
            other => panic!("expected one correction, got {other:?}"),
        }
    }

    /// Nothing booked: the refusal, passed on to be counted.
    fn refused(evs: &[VenueEvent]) {
        assert!(
            matches!(evs, [VenueEvent::CorrectionRefused { text, .. }] if text.contains("refused")),
            "{evs:?}"
        );
    }

    #[test]
    fn busts_and_corrections_name_fills_kept_past_the_orders_end() {
        let (mut g, _rx) = inner("busts");
        sent(&mut g, 7, "0.5");
        // two trade reports fill the order: it is final and forgotten as an order
        let f1 = er(7, "F", "1", "E1", "0.3", &[(32, "0.3"), (31, "100.5")]);
        let f2 = er(7, "F", "2", "E2", "0.5", &[(32, "0.2"), (31, "100.25")]);
        assert_eq!(g.exec_report(&f1, 1).unwrap().len(), 1);
        assert!(matches!(
            g.exec_report(&f2, 2).unwrap().as_slice(),
            [VenueEvent::Exec(r)] if r.kind == ExecKind::Fill
        ));
        assert!(g.orders.is_empty());

        // a bust of the first fill, after the order's end
        let bust = er(7, "H", "2", "E3", "0.2", &[(19, "E1")]);
        let evs = g.exec_report(&bust, 3).unwrap();
        let c = correction(&evs);
        assert_eq!(
            (c.order_id, c.kind, c.exec_ref_id.as_str()),
            (7, CorrectionKind::Bust, "E1")
        );
        assert_eq!(
            (c.orig_qty, c.orig_price, c.new_qty, c.new_price),
            (d("0.3"), d("100.5"), d("0"), d("0"))
        );
        // the same fill busted again, or corrected after the bust: refused, counted
        let again = er(7, "H", "2", "E4", "0.2", &[(19, "E1")]);
        refused(&g.exec_report(&again, 4).unwrap());
        assert_eq!(g.corrections_refused, 1);
        let late = er(
            7,
            "G",
            "2",
            "E5",
            "0.2",
            &[(19, "E1"), (32, "0.1"), (31, "100")],
        );
        refused(&g.exec_report(&late, 5).unwrap());
        assert_eq!(g.corrections_refused, 2);
        // an ExecRefID no fill had
        let unknown = er(7, "H", "2", "E6", "0.2", &[(19, "E99")]);
        refused(&g.exec_report(&unknown, 6).unwrap());
        assert_eq!(g.corrections_refused, 3);

        // the second fill corrected: the original figures are the fill's, the new the report's
        let fix = er(
            7,
            "G",
            "2",
            "E7",
            "0.15",
            &[(19, "E2"), (32, "0.15"), (31, "100.2")],
        );
        let evs = g.exec_report(&fix, 7).unwrap();
        let c = correction(&evs);
        assert_eq!(c.kind, CorrectionKind::Correct);
        assert_eq!(
            (c.orig_qty, c.orig_price, c.new_qty, c.new_price),
            (d("0.2"), d("100.25"), d("0.15"), d("100.2"))
        );
        // then busted: what is undone is the corrected fill
        let bust2 = er(7, "H", "2", "E8", "0", &[(19, "E2")]);
        let evs = g.exec_report(&bust2, 8).unwrap();
        let c = correction(&evs);
        assert_eq!((c.orig_qty, c.orig_price), (d("0.15"), d("100.2")));
        assert_eq!(g.corrections_refused, 3);
    }

    #[test]
    fn a_malformed_bust_or_correction_is_a_field_error() {
        let (mut g, _rx) = inner("bad-busts");
        sent(&mut g, 3, "1");
        let f = er(3, "F", "2", "E1", "1", &[(32, "1"), (31, "10")]);
        g.exec_report(&f, 1).unwrap();
        // no ExecRefID
        let e = g
            .exec_report(&er(3, "H", "2", "E2", "0", &[]), 2)
            .unwrap_err();
        assert_eq!(e.tag, 19);
        // a correction without its quantity, or to nothing
        let e = g
            .exec_report(&er(3, "G", "2", "E3", "1", &[(19, "E1"), (31, "10")]), 3)
            .unwrap_err();
        assert_eq!(e.tag, 32);
        let e = g
            .exec_report(
                &er(3, "G", "2", "E4", "0", &[(19, "E1"), (32, "0"), (31, "10")]),
                4,
            )
            .unwrap_err();
        assert_eq!(e.tag, 32);
        // none of that touched the fill: it can still be busted once
        assert_eq!(g.corrections_refused, 0);
        let evs = g
            .exec_report(&er(3, "H", "2", "E5", "0", &[(19, "E1")]), 5)
            .unwrap();
        assert_eq!(correction(&evs).orig_qty, d("1"));
    }

    #[test]
    fn a_resent_trade_report_or_bust_is_applied_once() {
        let (mut g, _rx) = inner("dup-fill");
        sent(&mut g, 4, "1");
        let f = er(4, "F", "1", "E1", "0.5", &[(32, "0.5"), (31, "10")]);
        assert_eq!(g.exec_report(&f, 1).unwrap().len(), 1);
        assert!(g.exec_report(&f, 2).unwrap().is_empty());
        let b = er(4, "H", "1", "E2", "0", &[(19, "E1")]);
        assert_eq!(
            correction(&g.exec_report(&b, 3).unwrap()).orig_qty,
            d("0.5")
        );
        // the bust resent (same ExecID): ignored, not a refused second bust
        assert!(g.exec_report(&b, 4).unwrap().is_empty());
        assert_eq!(g.corrections_refused, 0);
        // another bust of the same fill is a second bust
        let b2 = er(4, "H", "1", "E3", "0", &[(19, "E1")]);
        refused(&g.exec_report(&b2, 5).unwrap());
        assert_eq!(g.corrections_refused, 1);
    }

    fn statuses(evs: &[VenueEvent]) -> Vec<(OrderId, Option<ExecKind>, Decimal, bool)> {
        evs.iter()
            .filter_map(|e| match e {
                VenueEvent::Status(s) => Some((s.order_id, s.state, s.cum_qty, s.requested)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn order_status_answers_map_to_the_orders_state() {
        let (mut g, _rx) = inner("status");
        for id in [1, 2, 3, 4, 5] {
            sent(&mut g, id, "0.5");
            g.status_asked.insert(id);
        }
        g.orders.get_mut(&4).unwrap().cancel_sent = true;
        let cases = [
            (1, "1", "0.2", &[][..], Some(ExecKind::PartialFill)),
            (2, "C", "0.2", &[][..], Some(ExecKind::Expired)),
            // the FIX 4.4 answer for an order the venue does not know
            (3, "8", "0", &[(103, "5")][..], None),
            (4, "4", "0", &[][..], Some(ExecKind::Canceled)),
            (5, "8", "0", &[(103, "3")][..], Some(ExecKind::Rejected)),
        ];
        for (id, st, cum, more, want) in cases {
            let evs = g.exec_report(&er(id, "I", st, "S", cum, more), 1).unwrap();
            assert_eq!(statuses(&evs), vec![(id, want, d(cum), true)], "{st}");
        }
        // the working order stays this session's; the ended ones are forgotten
        assert_eq!(g.orders.keys().copied().collect::<Vec<_>>(), vec![1]);
        assert!(g.status_asked.is_empty());
        // 0 or A with a filled part is a working order part filled
        sent(&mut g, 6, "0.5");
        let evs = g.exec_report(&er(6, "I", "A", "S", "0.1", &[]), 1).unwrap();
        assert_eq!(
            statuses(&evs),
            vec![(6, Some(ExecKind::PartialFill), d("0.1"), false)]
        );
        // an OrdStatus outside FIX 4.4's is a field error (a session Reject)
        assert!(g.exec_report(&er(6, "I", "Z", "S", "0", &[]), 1).is_err());
    }

    #[test]
    fn a_mass_status_ends_with_its_last_report() {
        let (mut g, _rx) = inner("mass");
        g.mass = Some(("m1".into(), 0));
        // another session's order, then one of ours, then the last
        let mut other = Message::new("8");
        other
            .push(37, "O9")
            .push(11, "X9")
            .push(17, "S")
            .push(150, "I")
            .push(39, "0")
            .push(54, "1")
            .push(151, "0")
            .push(14, "0")
            .push(6, "0")
            .push(584, "m1")
            .push(911, "3");
        assert!(g.exec_report(&other, 1).unwrap().is_empty());
        let evs = g
            .exec_report(&er(8, "I", "0", "S", "0", &[(584, "m1"), (911, "3")]), 1)
            .unwrap();
        assert_eq!(
            statuses(&evs),
            vec![(8, Some(ExecKind::New), d("0"), false)]
        );
        let evs = g
            .exec_report(
                &er(
                    9,
                    "I",
                    "1",
                    "S",
                    "0.1",
                    &[(584, "m1"), (911, "3"), (912, "Y")],
                ),
                1,
            )
            .unwrap();
        assert!(
            matches!(evs.last(), Some(VenueEvent::MassStatusEnd { reports: 2 })),
            "{evs:?}"
        );
        assert!(g.mass.is_none());
        // none at all: one report for no order, 911=0
        g.mass = Some(("m2".into(), 0));
        let mut none = Message::new("8");
        none.push(37, "NONE")
            .push(11, "NONE")
            .push(17, "S")
            .push(150, "I")
            .push(39, "8")
            .push(54, "1")
            .push(151, "0")
            .push(14, "0")
            .push(6, "0")
            .push(584, "m2")
            .push(911, "0")
            .push(912, "Y");
        assert!(matches!(
            g.exec_report(&none, 1).unwrap().as_slice(),
            [VenueEvent::MassStatusEnd { reports: 0 }]
        ));
    }
}

//! A TLS WebSocket server for tests (feature `test-server`, never in a release build): a
//! self-signed certificate for `localhost` that only the test trusts; it sends what it is cued
//! to every open connection (a stream, as the venue's is: what is sent while nobody is
//! connected is lost), and misbehaves on cue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// A way out of every wait (never reached when things work).
const WAIT: Duration = Duration::from_secs(60);

/// What the server is told to do with its open connections.
#[derive(Clone, Debug)]
pub enum Cue {
    Binary(Vec<u8>),
    Text(String),
    Ping(Vec<u8>),
    /// Drop the TCP connection without a close frame.
    Kill,
    /// A close frame, then end.
    Close,
    /// Bytes that are no WebSocket frame.
    Garbage,
    /// Go silent (keep the connection open, send nothing, answer nothing).
    Stall,
}

#[derive(Default)]
struct Seen {
    /// Per connection: the request's path and its X-MBX-APIKEY header.
    connections: Vec<(String, Option<String>)>,
    pongs: Vec<Vec<u8>>,
}

/// A TLS WebSocket server that sends every cue to every open connection (a stream, as the
/// venue's is: what is sent while nobody is connected is lost).
pub struct Server {
    addr: SocketAddr,
    cert_pem: String,
    /// Connections whose serving task still runs.
    live: Arc<AtomicUsize>,
    cert: CertificateDer<'static>,
    clients: Arc<Mutex<Vec<mpsc::UnboundedSender<Cue>>>>,
    seen: Arc<Mutex<Seen>>,
    /// A connection opened (its index).
    opened: tokio::sync::Mutex<mpsc::UnboundedReceiver<usize>>,
    pong: tokio::sync::Mutex<mpsc::UnboundedReceiver<Vec<u8>>>,
}

#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Server {
    /// Listens on 127.0.0.1 (an ephemeral port); needs a Tokio runtime.
    pub async fn start() -> Server {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = ck.cert.der().clone();
        let cert_pem = ck.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
        let cfg = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Arc<Mutex<Vec<mpsc::UnboundedSender<Cue>>>> = Arc::default();
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let (open_tx, open_rx) = mpsc::unbounded_channel();
        let (pong_tx, pong_rx) = mpsc::unbounded_channel();
        let live = Arc::new(AtomicUsize::new(0));
        let (c2, s2, l2) = (clients.clone(), seen.clone(), live.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let Ok(tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let s3 = s2.clone();
                let record = move |req: &Request, resp: Response| {
                    let key = req
                        .headers()
                        .get("X-MBX-APIKEY")
                        .map(|v| v.to_str().unwrap().to_string());
                    let path = req.uri().to_string();
                    s3.lock().unwrap().connections.push((path, key));
                    Ok(resp)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(tls, record).await else {
                    continue;
                };
                let (tx, rx) = mpsc::unbounded_channel();
                c2.lock().unwrap().push(tx);
                let n = s2.lock().unwrap().connections.len() - 1;
                l2.fetch_add(1, Ordering::SeqCst);
                let l3 = l2.clone();
                let (s4, p4) = (s2.clone(), pong_tx.clone());
                tokio::spawn(async move {
                    serve(ws, rx, s4, p4).await;
                    l3.fetch_sub(1, Ordering::SeqCst);
                });
                let _ = open_tx.send(n);
            }
        });
        Server {
            addr,
            live,
            cert_pem,
            cert,
            clients,
            seen,
            opened: tokio::sync::Mutex::new(open_rx),
            pong: tokio::sync::Mutex::new(pong_rx),
        }
    }

    /// `wss://localhost:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("wss://localhost:{}{path}", self.addr.port())
    }

    /// The server's certificate (trust it, and only it).
    pub fn cert(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// Per connection so far: the request's path and its X-MBX-APIKEY header.
    pub fn connections(&self) -> Vec<(String, Option<String>)> {
        self.seen.lock().unwrap().connections.clone()
    }

    /// Connections served now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Sends to every open connection; returns how many there were.
    pub fn cue(&self, c: Cue) -> usize {
        let mut cl = self.clients.lock().unwrap();
        cl.retain(|tx| tx.send(c.clone()).is_ok());
        cl.len()
    }

    /// Waits until exactly `n` connections are served (a dropped one's task has ended).
    pub async fn wait_live(&self, n: usize) {
        tokio::time::timeout(WAIT, async {
            while self.live.load(Ordering::SeqCst) != n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} connections served, not {n}",
                self.live.load(Ordering::SeqCst)
            )
        });
    }

    /// Waits for the next connection; returns its index.
    pub async fn next_connection(&self) -> usize {
        let mut rx = self.opened.lock().await;
        tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("no connection within the limit")
            .unwrap()
    }

    pub async fn next_pong(&self) -> Vec<u8> {
        let mut rx = self.pong.lock().await;
        tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("no pong within the limit")
            .unwrap()
    }
}

type ServerWs =
    tokio_tungstenite::WebSocketStream<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;

async fn serve(
    mut ws: ServerWs,
    mut cues: mpsc::UnboundedReceiver<Cue>,
    seen: Arc<Mutex<Seen>>,
    pongs: mpsc::UnboundedSender<Vec<u8>>,
) {
    loop {
        tokio::select! {
            c = cues.recv() => {
                let Some(c) = c else { return };
                let r = match c {
                    Cue::Binary(b) => ws.send(Message::Binary(b.into())).await,
                    Cue::Text(t) => ws.send(Message::Text(t.into())).await,
                    Cue::Ping(p) => ws.send(Message::Ping(p.into())).await,
                    Cue::Kill => return,
                    Cue::Close => {
                        let _ = ws.close(None).await;
                        return;
                    }
                    Cue::Garbage => {
                        let s = ws.get_mut();
                        // a whole frame header with a reserved control opcode (0xf)
                        let _ = s.write_all(&[0x8f, 0x00]).await;
                        let _ = s.flush().await;
                        Ok(())
                    }
                    Cue::Stall => {
                        // silent until the client goes away
                        let _ = tokio::time::timeout(WAIT, async {
                            while ws.next().await.is_some_and(|m| m.is_ok()) {}
                        }).await;
                        return;
                    }
                };
                if r.is_err() {
                    return;
                }
            }
            m = ws.next() => match m {
                Some(Ok(Message::Pong(p))) => {
                    seen.lock().unwrap().pongs.push(p.to_vec());
                    let _ = pongs.send(p.to_vec());
                }
                Some(Ok(_)) => {}
                _ => return,
            }
        }
    }
}

//! Servers that misbehave on purpose: a raw-TCP fault server (it can fail below HTTP: hang, stall,
//! drip, reset, speak garbage) that also records every request head it receives, and a tripwire
//! listener that must never be contacted.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fault server does with a request, after reading its head and body.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Never answer (the connection stays open).
    Hang,
    /// Headers promising 1000 bytes, ten of them, then silence.
    StallBody,
    /// Headers promising 1000 bytes, then one byte every interval.
    Drip(Duration),
    /// Headers and part of the body, then a TCP reset (RST, not FIN).
    ResetMidBody,
    /// Bytes that are not HTTP, then close.
    NotHttp,
    /// This exact response (status line, headers, body), then close.
    Raw(Vec<u8>),
    /// The response after a delay.
    Slow(Duration, Vec<u8>),
    /// `Content-Length: n` and that many bytes, written until the reader goes away.
    Huge(u64),
    /// A chunked body that never ends.
    Endless,
    /// 200 with the request's header lines as a JSON body, like httpbin's `/anything`.
    Echo,
}

/// One request as it arrived on the wire.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Header lines exactly as received (name as sent, value trimmed).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// Every value of a header, compared case-insensitively by name.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

/// A complete HTTP/1.1 response with `Connection: close` and a Content-Length.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A token endpoint answer with this access token, valid for an hour.
pub fn token_response(token: &str) -> Vec<u8> {
    let body = serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}).to_string();
    response("200 OK", &[("content-type", "application/json")], body.as_bytes())
}

type Routes = Arc<Mutex<Vec<(String, Fault)>>>;

/// Answers each request by the first route whose prefix matches its target; unmatched targets get 404.
pub struct FaultServer {
    pub addr: SocketAddr,
    routes: Routes,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
    /// `Hang` connections the client closed (rather than the 60 s hold running out).
    released: Arc<AtomicUsize>,
}

impl FaultServer {
    pub async fn start(routes: Vec<(&str, Fault)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::new(Mutex::new(routes.into_iter().map(|(p, f)| (p.to_owned(), f)).collect()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicUsize::new(0));
        let (r, s, c, l) = (routes.clone(), seen.clone(), connections.clone(), released.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, r.clone(), s.clone(), l.clone()));
            }
        });
        Self { addr, routes, seen, connections, released }
    }

    /// Adds a route in front of the others.
    pub fn route(&self, prefix: &str, fault: Fault) {
        self.routes.lock().unwrap().insert(0, (prefix.to_owned(), fault));
    }

    pub fn api_base(&self) -> String {
        format!("http://{}/api/v1/", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
    }

    /// Requests whose target starts with `prefix`.
    pub fn seen(&self, prefix: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.target.starts_with(prefix)).cloned().collect()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// How many `Hang` requests the client gave up on by closing the connection.
    pub fn released(&self) -> usize {
        self.released.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: TcpStream, routes: Routes, seen: Arc<Mutex<Vec<Seen>>>, released: Arc<AtomicUsize>) {
    let Some(request) = read_request(&mut stream).await else { return };
    let fault = routes
        .lock()
        .unwrap()
        .iter()
        .find(|(prefix, _)| request.target.starts_with(prefix.as_str()))
        .map(|(_, fault)| fault.clone())
        .unwrap_or_else(|| Fault::Raw(response("404 Not Found", &[], b"no such fault route")));
    let echo = serde_json::json!({ "headers": request.headers.clone() }).to_string();
    seen.lock().unwrap().push(request);
    let head = |len: u64| format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n");
    // Write errors only mean the console hung up, which is what several faults provoke.
    match fault {
        Fault::Hang => {
            if hold(stream).await {
                released.fetch_add(1, Ordering::SeqCst);
            }
        }
        Fault::StallBody => {
            let _ = stream.write_all(format!("{}0123456789", head(1000)).as_bytes()).await;
            hold(stream).await;
        }
        Fault::Drip(every) => {
            let _ = stream.write_all(head(1000).as_bytes()).await;
            for _ in 0..1000 {
                tokio::time::sleep(every).await;
                if stream.write_all(b"a").await.is_err() {
                    return;
                }
            }
        }
        Fault::ResetMidBody => {
            let _ = stream.write_all(format!("{}{{\"data\": [1, 2, 3", head(1000)).as_bytes()).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Linger 0: close sends RST instead of FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Fault::NotHttp => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 this is not HTTP\r\n\r\n").await;
        }
        Fault::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Fault::Slow(delay, bytes) => {
            tokio::time::sleep(delay).await;
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Fault::Huge(len) => {
            if stream.write_all(head(len).as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'a'; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                if stream.write_all(&block[..n]).await.is_err() {
                    return;
                }
                left -= n as u64;
            }
        }
        Fault::Echo => {
            let _ =
                stream.write_all(&response("200 OK", &[("content-type", "application/json")], echo.as_bytes())).await;
            let _ = stream.shutdown().await;
        }
        Fault::Endless => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "b".repeat(16 * 1024));
            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
        }
    }
}

/// Keeps a connection open without answering until the peer closes it (or a minute passes).
/// Keeps the connection open, reading and discarding, until the client closes it (true) or 60 s pass.
async fn hold(mut stream: TcpStream) -> bool {
    let mut sink = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(60), async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await
    .is_ok()
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1_000_000 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen { method, target, headers, body })
}

/// A listener on another loopback address (127.0.0.2, or another port on 127.0.0.1 where that
/// address cannot be bound) that counts every connection: any connection at all is a failure.
pub struct Tripwire {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Tripwire {
    pub async fn start() -> Self {
        let listener = match TcpListener::bind((IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 0)).await {
            Ok(listener) => listener,
            Err(_) => TcpListener::bind("127.0.0.1:0").await.unwrap(),
        };
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(&response("200 OK", &[], b"tripwire: this must never be reached")).await;
            }
        });
        Self { addr, connections }
    }

    /// `127.0.0.2:port`, for use where an attacker would write a host.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

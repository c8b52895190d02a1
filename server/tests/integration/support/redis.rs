//! A real `redis-server` for tests: its own loopback port, password and temp dir, no persistence,
//! killed on drop. A missing binary fails the test with its name (`make tools` installs it); it is
//! never a silent skip.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub const BINARY: &str = "redis-server";

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    /// Generated per server like the other canaries, so the leak scan looks for it everywhere.
    pub password: String,
    /// The deployment's vault key, base64url of 32 bytes that reads `CANARY-SECRET-…`, so the leak
    /// scan proves it is never written anywhere.
    pub vault_key: String,
    /// With `start_tls`: the port serving TLS with `tests/tls/server.pem` (the plain port stays open).
    pub tls_port: Option<u16>,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server and waits until it answers `PING`.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// Also serves TLS on a second port, with the certificate `tests/tls/ca.pem` signed.
    pub async fn start_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        use base64::Engine as _;
        // `CANARY-SECRET-` + base64url only: redis-server re-parses its arguments, so no quotes or spaces.
        let random: [u8; 24] = rand::random();
        let password = format!("CANARY-SECRET-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random));
        super::canary::init();
        super::canary::record_secret("redis-sessions", &password);
        let vault_key = vault_key();
        super::canary::record_secret("vault-key", &vault_key);
        let dir = std::env::temp_dir().join(format!("a55-console-it-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self { child: None, port: 0, password, vault_key, tls_port: None, dir };
        // A port found free can be taken before redis-server binds it: then try another.
        for _ in 0..5 {
            server.port = free_port();
            server.tls_port = tls.then(free_port);
            server.spawn();
            if server.wait_until_ready().await {
                return server;
            }
            server.kill();
        }
        panic!("{BINARY} did not answer PING on a free loopback port after 5 attempts");
    }

    fn spawn(&mut self) {
        let mut command = Command::new(BINARY);
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--requirepass", &self.password]);
        if let Some(port) = self.tls_port {
            command.args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"]);
            for (option, file) in
                [("--tls-cert-file", "server.pem"), ("--tls-key-file", "server.key"), ("--tls-ca-cert-file", "ca.pem")]
            {
                command.arg(option).arg(tls_file(file));
            }
        }
        let child =
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|error| {
                panic!(
                    "cannot start {BINARY} ({error}): the Redis tests need it on PATH; `make tools` installs it \
                     (Debian: apt-get install redis-server)"
                )
            });
        self.child = Some(child);
    }

    /// Whether the server answers an authenticated `PING` within 10 s (false if it exited).
    async fn wait_until_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().ok().flatten().is_some() {
                    return false;
                }
            }
            if self.ping().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// `AUTH` then `PING` over a plain socket: true on `+PONG`.
    pub async fn ping(&self) -> bool {
        let Ok(mut stream) = tokio::net::TcpStream::connect(self.addr()).await else { return false };
        let command =
            format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{}\r\n*1\r\n$4\r\nPING\r\n", self.password.len(), self.password);
        if stream.write_all(command.as_bytes()).await.is_err() {
            return false;
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 64];
        while !answer.ends_with(b"+PONG\r\n") && answer.len() < 256 {
            match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
                _ => return false,
            }
        }
        answer.ends_with(b"+PONG\r\n")
    }

    /// `rediss://` on the TLS port (with `start_tls`).
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.tls_port.expect("started with start_tls"))
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The URL the console is configured with: no password (that comes from an env var).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A client of our own, to look at keys as the console left them.
    pub async fn client(&self) -> ::redis::aio::MultiplexedConnection {
        use ::redis::IntoConnectionInfo as _;
        let info = self.url().into_connection_info().unwrap();
        let settings = info.redis_settings().clone().set_password(&self.password);
        let client = ::redis::Client::open(info.set_redis_settings(settings)).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }

    /// Stops the server (SIGKILL): what a crashed or unreachable Redis looks like.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing was persisted).
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn();
        assert!(self.wait_until_ready().await, "{BINARY} did not come back on port {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A file of `server/tests/tls/`: the test certificate authority, and the server's certificate and key.
pub fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("tls").join(name)
}

/// 43 base64url characters (32 bytes) starting `CANARY-SECRET-`; the last one carries no spare
/// bits, as strict decoding requires.
fn vault_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const LAST: &[u8] = b"AEIMQUYcgkosw048";
    let random: [u8; 29] = rand::random();
    let mut key = String::from("CANARY-SECRET-");
    key.extend(random[..28].iter().map(|b| char::from(ALPHABET[usize::from(*b) % 64])));
    key.push(char::from(LAST[usize::from(random[28]) % 16]));
    key
}

/// A loopback port nobody listened on a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

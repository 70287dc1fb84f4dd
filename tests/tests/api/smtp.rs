//! A minimal SMTP server on loopback that accepts every message (RFC 5321 §4.3 replies), so
//! tests receive real emails over a real SMTP conversation.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    pub messages: Arc<Mutex<Vec<String>>>,
}

/// How long the sink takes to accept each message (a slow mail server).
#[derive(Clone, Copy, Default)]
pub struct Delay(pub std::time::Duration);

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Listens on `addr` (to bring a receiver back on a known port).
    pub async fn start_on(addr: &str) -> Self {
        Self::start_slow(addr, Delay::default()).await
    }

    /// Listens on `addr`, waiting `delay` before accepting each message.
    pub async fn start_slow(addr: &str, delay: Delay) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind SMTP sink");
        let sink = Self {
            addr: listener.local_addr().unwrap(),
            messages: Arc::default(),
        };
        let messages = sink.messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let messages = messages.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 sink\r\n",
                            "DATA" => {
                                let _ = write.write_all(b"354 go ahead\r\n").await;
                                let mut body = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    body.push_str(
                                        l.strip_prefix('.')
                                            .filter(|_| l.starts_with(".."))
                                            .unwrap_or(&l),
                                    );
                                    body.push('\n');
                                }
                                tokio::time::sleep(delay.0).await;
                                messages.lock().unwrap().push(body);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        sink
    }

    /// Waits (up to `secs`) for a message to `to` and returns it, soft line breaks undone.
    pub async fn wait_for(&self, to: &str, secs: u64) -> String {
        for _ in 0..secs * 20 {
            if let Some(m) = self
                .messages
                .lock()
                .unwrap()
                .iter()
                .rev()
                .find(|m| m.contains(&format!("To: {to}")))
            {
                return m.replace("=\n", "").replace("=3D", "=");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no email to {to} within {secs} s");
    }
}

/// The token of the first `{route}#token=` link in an email.
pub fn link_token(mail: &str, route: &str) -> String {
    let marker = format!("{route}#token=");
    let start = mail
        .find(&marker)
        .unwrap_or_else(|| panic!("no {route} link in {mail}"))
        + marker.len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect()
}

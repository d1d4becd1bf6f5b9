//! HTTP/1.1 over the daemon's Unix socket, for `cer record`, `cer run`, `cer bench`
//! and `cer export --since`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

/// The socket clients use unless told otherwise: `$CERD_SOCKET`, else the daemon's
/// default.
pub fn default_socket() -> PathBuf {
    std::env::var_os("CERD_SOCKET")
        .filter(|s| !s.is_empty())
        .map_or_else(|| PathBuf::from("/run/cerd/cerd.sock"), PathBuf::from)
}

/// One keep-alive connection to the daemon.
#[derive(Debug)]
pub struct Client {
    socket: PathBuf,
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    /// Connects to the daemon's socket.
    pub async fn connect(socket: &Path) -> anyhow::Result<Self> {
        let stream = UnixStream::connect(socket).await.with_context(|| {
            format!(
                "cannot connect to the cerd daemon at {} (is `cer daemon` running? set --socket or CERD_SOCKET)",
                socket.display()
            )
        })?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP handshake with {} failed", socket.display()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self {
            socket: socket.to_path_buf(),
            sender,
        })
    }

    /// Sends one request; returns the status and the whole body.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(hyper::header::HOST, "cerd");
        if body.is_some() {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .context("cannot build the request")?;
        self.sender.ready().await.with_context(|| {
            format!(
                "the daemon at {} closed the connection",
                self.socket.display()
            )
        })?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .with_context(|| format!("{method} {path} to {} failed", self.socket.display()))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer to {method} {path} failed"))?
            .to_bytes();
        Ok((status, bytes))
    }
}

/// The daemon's error answer as one line: "CODE (field F): message".
pub fn describe_error(status: StatusCode, body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    match parsed.as_ref().and_then(|v| v.get("error")) {
        Some(e) => {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("ERROR");
            let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
            match e.get("field").and_then(|f| f.as_str()) {
                Some(f) => format!("the daemon answered {status}: {code} (field {f}): {msg}"),
                None => format!("the daemon answered {status}: {code}: {msg}"),
            }
        }
        None => format!(
            "the daemon answered {status}: {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        ),
    }
}

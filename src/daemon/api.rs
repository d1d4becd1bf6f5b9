//! The HTTP/1.1 + JSON API (docs/daemon.md): routing, bounded body reads, and JSON
//! errors that name the field. Every failure is an answer; the daemon keeps serving.

// Error answers are whole HTTP responses, returned early with `?`; their size does
// not matter next to the request they answer.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use cerd_attestation::merkle;
use cerd_attestation::Sha256Digest;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::batcher::BatchDone;
use super::store::{self, NewRecord, RecordRow};
use super::{submit, Shared};

pub type Body = Full<Bytes>;

/// Answers one request.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let resp = match route(&shared, req).await {
        Ok(r) | Err(r) => r,
    };
    if resp.status().is_client_error() {
        shared.metrics.bad_requests.fetch_add(1, Ordering::Relaxed);
    }
    Ok(resp)
}

type Answer = Result<Response<Body>, Response<Body>>;

async fn route(shared: &Arc<Shared>, req: Request<Incoming>) -> Answer {
    let path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query());
    match (req.method(), path.as_str()) {
        (&Method::POST, "/v1/records") => submit(shared, req, &query).await,
        (&Method::GET, "/v1/records") => list(shared, &query).await,
        (&Method::GET, "/v1/health") => {
            let (ok, body) = shared.health_report();
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Ok(json_response(status, &body))
        }
        (&Method::GET, "/metrics") => Ok(Response::builder()
            .header(CONTENT_TYPE, "text/plain; version=0.0.4")
            .body(Body::new(Bytes::from(shared.metrics.render())))
            .unwrap_or_default()),
        (&Method::GET, p) if p.starts_with("/v1/records/") => {
            get_record(shared, p.trim_start_matches("/v1/records/")).await
        }
        (_, "/v1/records" | "/v1/health" | "/metrics") => Err(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            None,
            format!("{} is not allowed on {path}", req.method()),
        )),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            None,
            format!("no such resource: {path}"),
        )),
    }
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

/// `{"error": {"code", "field", "message"}}`.
pub fn error(
    status: StatusCode,
    code: &str,
    field: Option<&str>,
    message: impl Into<String>,
) -> Response<Body> {
    json_response(
        status,
        &json!({ "error": { "code": code, "field": field, "message": message.into() } }),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    text_response(status, body.to_string())
}

fn text_response(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// Reads the body: at most `max_body_bytes` (413), within the request timeout (408).
async fn read_body(shared: &Shared, req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    let limit = shared.config.max_body_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BODY_TOO_LARGE",
            None,
            format!("the request body is larger than {limit} bytes"),
        )
    };
    if let Some(len) = req.headers().get(CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|l| l.parse::<u64>().ok()) {
            Some(n) if n > limit as u64 => return Err(too_large()),
            Some(_) => {}
            None => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    None,
                    "Content-Length is not a number",
                ))
            }
        }
    }
    let body = Limited::new(req.into_body(), limit);
    match tokio::time::timeout(shared.config.request_timeout, body.collect()).await {
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            None,
            format!(
                "the request body did not arrive within {} ms",
                shared.config.request_timeout.as_millis()
            ),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            None,
            format!("cannot read the request body: {e}"),
        )),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

async fn submit(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    query: &HashMap<String, String>,
) -> Answer {
    let wait = match query.get("wait").map(String::as_str) {
        None | Some("durable") => false,
        Some("attested") => true,
        Some(other) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BAD_QUERY",
                Some("wait"),
                format!("wait={other:?}: expected \"attested\" or \"durable\""),
            ))
        }
    };
    let received = std::time::Instant::now();
    let bytes = read_body(shared, req).await?;
    let sealed = submit::parse(&bytes)
        .and_then(|d| submit::seal(d, &shared.runtime()))
        .map_err(|e| {
            let code = if e.field == "." {
                "BAD_JSON"
            } else {
                "SCHEMA_ERROR"
            };
            error(StatusCode::BAD_REQUEST, code, Some(&e.field), e.message)
        })?;
    if shared.stopping() {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SHUTTING_DOWN",
            None,
            "the daemon is stopping; submit again when it is back",
        ));
    }
    let waiter = wait.then(|| {
        let (tx, rx) = tokio::sync::oneshot::channel();
        shared
            .waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(sealed.hash)
            .or_default()
            .push(tx);
        rx
    });
    // The body is needed again only to answer `?wait=attested`.
    let kept_body = wait.then(|| sealed.body.clone());
    let record = NewRecord {
        hash: sealed.hash,
        body: sealed.body,
        received_us: store::now_us(),
        received,
    };
    let stored = shared.writer.insert(record).await.map_err(|e| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORE_FAILED",
            None,
            format!("the record was not stored: {e}"),
        )
    })?;
    if stored.is_some() {
        shared.metrics.sealed.fetch_add(1, Ordering::Relaxed);
    }
    let Some(rx) = waiter else {
        return Ok(json_response(
            StatusCode::CREATED,
            &json!({ "certificateHash": sealed.hash.to_string(), "status": "sealed", "seq": stored }),
        ));
    };
    // A record submitted before (same certificateHash) may be attested already.
    if stored.is_none() {
        if let (StatusCode::OK, text) = lookup(shared, sealed.hash).await? {
            return Ok(text_response(StatusCode::CREATED, text));
        }
    }
    let done: Arc<BatchDone> = rx.await.map_err(|_| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SHUTTING_DOWN",
            None,
            "the daemon stopped before the record was attested; it is stored and will be attested at the next start",
        )
    })?;
    let text = match (stored, kept_body) {
        (Some(seq), Some(body)) => done.bundle(&body, seq).map_err(internal)?,
        _ => lookup(shared, sealed.hash).await?.1,
    };
    Ok(text_response(StatusCode::CREATED, text))
}

fn internal(e: anyhow::Error) -> Response<Body> {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        None,
        format!("{e:#}"),
    )
}

/// `200` and the attested bundle, or `202` and the sealed record.
async fn lookup(
    shared: &Arc<Shared>,
    hash: Sha256Digest,
) -> Result<(StatusCode, String), Response<Body>> {
    let lookup_shared = shared.clone();
    let found = shared
        .read(move |r| {
            let Some(rec) = r.record(&hash)? else {
                return Ok(None);
            };
            let Some(batch) = r.batch_of(rec.seq)? else {
                return Ok(Some((rec, None)));
            };
            let done = match lookup_shared.recent_batch(&batch.header) {
                Some(c) => c,
                None => {
                    let leaves = r.hashes(batch.first_seq, batch.last_seq)?;
                    let done = Arc::new(BatchDone {
                        header: batch.header,
                        tree: merkle::build(&leaves)?,
                        first_seq: batch.first_seq,
                        tpm_json: batch.tpm,
                        snp_json: batch.snp,
                    });
                    lookup_shared.remember(done.clone());
                    done
                }
            };
            Ok(Some((rec, Some(done))))
        })
        .await
        .map_err(internal)?;
    match found {
        None => Err(error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            None,
            format!("no record {hash}"),
        )),
        Some((rec, None)) => Ok((StatusCode::ACCEPTED, rec.body)),
        Some((rec, Some(done))) => Ok((
            StatusCode::OK,
            done.bundle(&rec.body, rec.seq).map_err(internal)?,
        )),
    }
}

async fn get_record(shared: &Arc<Shared>, text: &str) -> Answer {
    let parsed = if text.starts_with("sha256:") {
        Sha256Digest::parse(text)
    } else {
        Sha256Digest::parse_hex(text)
    };
    let hash = parsed.map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "BAD_HASH",
            Some("certificateHash"),
            format!("{text:?}: {e}"),
        )
    })?;
    let (status, body) = lookup(shared, hash).await?;
    Ok(text_response(status, body))
}

async fn list(shared: &Arc<Shared>, query: &HashMap<String, String>) -> Answer {
    let num = |key: &str, default: i64, max: i64| -> Result<i64, Response<Body>> {
        match query.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n))
                .ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        "BAD_QUERY",
                        Some(key),
                        format!("{key}={v:?}: expected an integer 0..={max}"),
                    )
                }),
        }
    };
    let since = num("since", 0, i64::MAX)?;
    let limit = num("limit", 100, 10_000)?;
    let (rows, batches) = shared
        .read(move |r| {
            let rows: Vec<RecordRow> = r.page(since, limit)?;
            let batches = match (rows.first(), rows.last()) {
                (Some(a), Some(b)) => r.batches_between(a.seq, b.seq)?,
                _ => Vec::new(),
            };
            Ok((rows, batches))
        })
        .await
        .map_err(internal)?;
    let items: Vec<Value> = rows
        .iter()
        .map(|rec| {
            let batch = batches
                .iter()
                .find(|b| b.first_seq <= rec.seq && rec.seq <= b.last_seq);
            json!({
                "seq": rec.seq,
                "certificateHash": rec.hash.to_string(),
                "attested": batch.is_some(),
                "batch": batch.map(|b| b.header.sequence),
                "receivedUs": rec.received_us,
                "attestedUs": batch.map(|b| b.quoted_us),
            })
        })
        .collect();
    let next = rows.last().map_or(since, |r| r.seq);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "records": items, "next": next }),
    ))
}

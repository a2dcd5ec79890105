//! The loopback HTTP ingress, for softphones and scripts on the agent's own
//! PC: `POST http://127.0.0.1:<port>/v1/<method>` with the payload as the body
//! and `Authorization: Bearer <token>`, the token read from a 0600 file in the
//! data folder (created on first use). Off unless the settings turn it on.
//! No Tauri here: the shell binds it and hands it the call handler.
//!
//! Answers: 200 `{id, seq, warnings}`; 400 `{code, field, message}` when the
//! request is malformed (not JSON, not an object, no such method); 422 when
//! the payload is understood but refused (nothing to show); 401 without the
//! right token; 413 over 64 KiB; 429 past the rate limit or the daily quota.
//! Bound to 127.0.0.1 only; other users of the machine reach the port but not
//! the token, and a web page cannot send the `Authorization` header without a
//! CORS preflight, which is never answered.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::core::api::{Refusal, MAX_PAYLOAD_BYTES};
use crate::workbench::ratelimit::RateLimit;

/// The token's file in the data folder.
pub const TOKEN_FILE: &str = "http-token";
/// The port when the settings name none.
pub const DEFAULT_PORT: u16 = 47_880;
/// Requests accepted at once, then [`PER_SECOND`] (a script's burst passes,
/// a runaway loop is cut before any parsing).
pub const BURST: f64 = 200.0;
pub const PER_SECOND: f64 = 50.0;
/// The source recorded in the history (its own daily quota, its own tags).
pub const SOURCE: &str = "http";

/// What the handler makes of one call: the answer's JSON, or the refusal.
pub type Handler = Arc<dyn Fn(&str, &str) -> Result<Value, Refusal> + Send + Sync>;

/// Where the token lives for a data folder.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// Reads the token, creating the file (mode 0600, 256 random bits) when it is
/// missing. A file that others may read, or that holds no token, is refused.
pub fn token(data_dir: &Path) -> Result<String, String> {
    let path = token_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                let m = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                if m.mode() & 0o077 != 0 {
                    return Err(format!(
                        "{} is open to other users (mode {:o}); make it 0600 (chmod 600) or delete it for a new one",
                        path.display(),
                        m.mode() & 0o777
                    ));
                }
            }
            let t = s.trim();
            if t.len() < 16 {
                return Err(format!("{} holds no token (16 characters at least); delete it for a new one", path.display()));
            }
            Ok(t.to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let t = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let mut f = o.open(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            std::io::Write::write_all(&mut f, format!("{t}\n").as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(t)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Binds 127.0.0.1:`port` (0: any free port). Never another address.
pub fn bind(port: u16) -> Result<TcpListener, String> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(l)
}

struct Shared {
    token: String,
    handler: Handler,
    limit: RateLimit,
}

/// Serves `listener` until the runtime stops. Call inside a tokio runtime.
pub async fn serve(listener: TcpListener, token: String, handler: Handler, limit: RateLimit) -> Result<(), String> {
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    axum::serve(listener, app(token, handler, limit)).await.map_err(|e| e.to_string())
}

/// The routes, for [`serve`] and the tests.
fn app(token: String, handler: Handler, limit: RateLimit) -> Router {
    Router::new()
        .route("/v1/{method}", post(call))
        .fallback(|| async { refused(StatusCode::NOT_FOUND, "not_found", "path", "only POST /v1/<method> is served".into()) })
        .with_state(Arc::new(Shared { token, handler, limit }))
}

/// The 401/400/… answers all carry `{code, field, message}`.
fn refused(status: StatusCode, code: &str, field: &str, message: String) -> Response {
    let mut r = (status, Json(json!({ "code": code, "field": field, "message": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    r
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What status a refusal is answered with.
pub fn status_of(r: &Refusal) -> StatusCode {
    match r.code {
        "invalid_json" | "not_object" | "unknown_method" => StatusCode::BAD_REQUEST,
        "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded" | "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
        "not_stored" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn call(State(s): State<Arc<Shared>>, UrlPath(method): UrlPath<String>, headers: HeaderMap, body: Body) -> Response {
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "authorization",
                format!("send `Authorization: Bearer <token>`; the token is in the data folder's {TOKEN_FILE} file"),
            )
        }
        Some(t) if !same(t.trim().as_bytes(), s.token.as_bytes()) => {
            return refused(StatusCode::UNAUTHORIZED, "unauthorized", "authorization", "wrong token".into())
        }
        Some(_) => {}
    }
    if s.limit.take(SOURCE, 1, Instant::now()).allowed == 0 {
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "request",
            format!("more than {BURST} requests at once (then {PER_SECOND} per second); slow down"),
        );
    }
    let bytes = match to_bytes(body, MAX_PAYLOAD_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "payload",
                format!("the body is over {MAX_PAYLOAD_BYTES} bytes (64 KiB)"),
            )
        }
    };
    let Ok(payload) = String::from_utf8(bytes.to_vec()) else {
        return refused(StatusCode::BAD_REQUEST, "invalid_json", "payload", "the body is not UTF-8 text".into());
    };
    let handler = s.handler.clone();
    let result = tokio::task::spawn_blocking(move || handler(&method, &payload)).await;
    match result {
        Ok(Ok(v)) => (StatusCode::OK, Json(v)).into_response(),
        Ok(Err(r)) => refused(status_of(&r), r.code, &r.field, r.message),
        Err(e) => refused(StatusCode::INTERNAL_SERVER_ERROR, "internal", "request", format!("the call failed: {e}")),
    }
}

/// Where a running ingress can be reached, for `status --json`.
pub fn local_addr(l: &TcpListener) -> Option<SocketAddr> {
    l.local_addr().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::history::{self, History};
    use crate::core::router::{Policy, Router as CallRouter};
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// One raw HTTP/1.1 request; the status and the JSON answer.
    fn post(addr: SocketAddr, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, Value) {
        let mut s = TcpStream::connect(addr).unwrap();
        let auth = auth.map(|a| format!("Authorization: Bearer {a}\r\n")).unwrap_or_default();
        write!(s, "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
        let _ = s.write_all(body);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        let code = text.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
        let json = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
        (code, json)
    }

    /// A served ingress in front of a real router and a real history.
    fn served(limit: RateLimit) -> (SocketAddr, String, History, tempfile::TempDir, tokio::runtime::Runtime) {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&history::path_in(dir.path())).unwrap();
        let router = Arc::new(CallRouter::new(Some(Arc::new(h.clone())), vec![]));
        let handler: Handler = Arc::new(move |m, p| {
            router.accept(SOURCE, m, p, None, Policy::default()).map(|a| json!({ "id": a.id, "seq": a.seq }))
        });
        let token = token(dir.path()).unwrap();
        let l = bind(0).unwrap();
        let addr = l.local_addr().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let t = token.clone();
        rt.spawn(async move { serve(l, t, handler, limit).await.unwrap() });
        (addr, token, h, dir, rt)
    }

    #[test]
    fn calls_reach_the_history_and_refusals_name_the_field() {
        let (addr, token, h, dir, _rt) = served(RateLimit::new(BURST, PER_SECOND));
        assert!(addr.ip().is_loopback());
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(std::fs::metadata(token_path(dir.path())).unwrap().mode() & 0o777, 0o600);
        }
        let (code, v) = post(addr, "/v1/add_call", Some(&token), br#"{"text":"Incoming call","from":"+7 999"}"#);
        assert_eq!(code, 200, "{v}");
        let row = h.get(v["seq"].as_i64().unwrap()).unwrap().unwrap();
        assert_eq!((row.id.as_str(), row.source.as_str(), row.from.as_deref()), (v["id"].as_str().unwrap(), SOURCE, Some("+7 999")));

        let (code, v) = post(addr, "/v1/add_call", None, br#"{"text":"t"}"#);
        assert_eq!((code, v["field"].as_str()), (401, Some("authorization")));
        let (code, _) = post(addr, "/v1/add_call", Some("wrong-token-wrong-token"), br#"{"text":"t"}"#);
        assert_eq!(code, 401);
        let (code, v) = post(addr, "/v1/add_call", Some(&token), br#"{"from":"+7"}"#);
        assert_eq!((code, v["code"].as_str(), v["field"].as_str()), (422, Some("empty"), Some("text")), "{v}");
        let (code, v) = post(addr, "/v1/add_call", Some(&token), b"{not json");
        assert_eq!((code, v["field"].as_str()), (400, Some("payload")));
        let (code, v) = post(addr, "/v1/eval", Some(&token), b"{}");
        assert_eq!((code, v["field"].as_str()), (400, Some("method")));
        let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(MAX_PAYLOAD_BYTES));
        let (code, v) = post(addr, "/v1/add_call", Some(&token), big.as_bytes());
        assert_eq!((code, v["code"].as_str()), (413, Some("too_large")));
        assert_eq!(h.unread_count().unwrap(), 1, "only the accepted call is stored");

        // The same token is read back; an open file is refused.
        assert_eq!(super::token(dir.path()).unwrap(), token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(token_path(dir.path()), std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(super::token(dir.path()).unwrap_err().contains("open to other users"));
        }
    }

    #[test]
    fn a_burst_past_the_limit_is_answered_429() {
        let (addr, token, h, _dir, _rt) = served(RateLimit::new(5.0, 0.001));
        let codes: Vec<u16> = (0..8).map(|i| post(addr, "/v1/add_error", Some(&token), format!(r#"{{"text":"e{i}"}}"#).as_bytes()).0).collect();
        assert_eq!(codes, [200, 200, 200, 200, 200, 429, 429, 429]);
        assert_eq!(h.unread_count().unwrap(), 5);
    }

    #[test]
    fn only_loopback_is_bound() {
        let l = bind(0).unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(l.local_addr().unwrap().ip(), Ipv4Addr::LOCALHOST);
        // The machine's own outward address (the one a packet to a public
        // address would leave from) does not answer on that port.
        if let Some(ip) = std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|u| u.connect("192.0.2.1:9").map(|_| u))
            .ok()
            .and_then(|u| u.local_addr().ok())
            .map(|a| a.ip())
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        {
            let r = TcpStream::connect_timeout(&SocketAddr::new(ip, port), std::time::Duration::from_secs(1));
            assert!(r.is_err(), "{ip}:{port} answered");
        }
    }
}

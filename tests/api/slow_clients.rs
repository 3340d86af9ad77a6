//! Slow and hostile clients, on real loopback sockets against the real server: a trickled
//! head or body loses its connection at its deadline, idle connections and a `/readyz` flood
//! do not starve normal clients, and past the connection cap new connections wait.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use edgecart_tests::{TestApp, spawn_app_with};
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Reads into `seen` until the server closes the connection (end of stream or reset);
/// false when it is still open after `within`.
async fn closed_within(
    stream: &mut (impl AsyncRead + Unpin),
    within: Duration,
    seen: &mut Vec<u8>,
) -> bool {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read_all).await.is_ok()
}

/// A response read off a raw connection.
struct RawResponse {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Reads one response with a `Content-Length` body, or `None` when the connection closes
/// first or `within` passes.
async fn read_response(
    stream: &mut (impl AsyncRead + Unpin),
    within: Duration,
) -> Option<RawResponse> {
    let read = async {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let status = head.get(9..12)?.parse().ok()?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = bytes[end..].to_vec();
        while body.len() < length {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => body.extend_from_slice(&buf[..n]),
            }
        }
        Some(RawResponse { status, head, body })
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

/// A complete request for `/healthz`, kept alive.
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: edgecart\r\n\r\n";

/// Raises this process's soft limit of open files towards its hard limit and returns how
/// many idle connections fit in it, at most `wanted`: each takes two descriptors (the client's
/// end and the server's, both in this process), and the other tests running beside this one
/// need some too.
fn idle_connection_budget(wanted: u64) -> u64 {
    const SPARE: u64 = 2_048;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit; getrlimit/setrlimit only read or write it.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            let needed = (wanted * 2 + SPARE).min(limit.rlim_max);
            if limit.rlim_cur < needed {
                limit.rlim_cur = needed;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            }
        }
    }
    (limit.rlim_cur.saturating_sub(SPARE) / 2).min(wanted)
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_closed_at_the_header_timeout() {
    // Arrange: a 2 s header timeout; a request line, then one header byte a second.
    let app = spawn_app_with(|s| s.header_timeout_secs = 2).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: edgecart\r\nX-Trickle: ")
        .await
        .unwrap();

    // Act: keep trickling until the server hangs up, for 15 s at most.
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut closed = false;
    while !closed && started.elapsed() < Duration::from_secs(15) {
        closed = stream.write_all(b"a").await.is_err()
            || closed_within(&mut stream, Duration::from_secs(1), &mut seen).await;
    }

    // Assert: closed around the header timeout, with no answer to the unfinished head.
    assert!(closed, "the trickling connection was still open after 15 s");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "closed only after {:?}",
        started.elapsed()
    );
    assert!(seen.is_empty(), "{}", String::from_utf8_lossy(&seen));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_header_timeout() {
    // Arrange: one request served on a kept-alive connection.
    let app = spawn_app_with(|s| s.header_timeout_secs = 2).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    let response = read_response(&mut stream, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, br#"{"status":"ok"}"#);
    assert!(
        !response
            .head
            .to_ascii_lowercase()
            .contains("connection: close"),
        "kept alive: {}",
        response.head
    );

    // Act + Assert: idle afterwards, it is closed within the header timeout (and a margin).
    let mut seen = Vec::new();
    assert!(closed_within(&mut stream, Duration::from_secs(8), &mut seen).await);
    assert!(seen.is_empty(), "{}", String::from_utf8_lossy(&seen));
}

#[tokio::test]
async fn thousands_of_idle_connections_do_not_keep_a_normal_client_from_being_served() {
    // Arrange: as many half-sent heads as the descriptor limit allows, up to 2,000, held open
    // (the header timeout is longer than the test).
    let count = idle_connection_budget(2_000);
    assert!(
        count >= 200,
        "only {count} connections fit the open-file limit"
    );
    let app = spawn_app_with(|s| s.header_timeout_secs = 60).await;
    let mut idle = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: edgecart\r\n")
            .await
            .unwrap();
        idle.push(stream);
    }

    // Act: a normal client, on connections of its own.
    let user = app.create_user("a", 0).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let balance = client
        .get(app.url(&format!("/api/v1/users/{user}")))
        .send()
        .await
        .expect("served despite the idle connections");

    // Assert: served, while the server holds every idle connection open (accepted, not
    // left in the backlog).
    assert_eq!(balance.status(), 200);
    let open = app.metric("edgecart_http_connections_open", &[]).await;
    assert!(open >= count as f64, "{open} open, {count} idle");
    drop(idle);
}

#[tokio::test]
async fn a_trickled_body_holds_no_concurrency_permit_and_gets_408_at_its_deadline() {
    // Arrange: one API request at a time, a 2 s body deadline, and a charge whose 100-byte
    // body arrives one byte every 300 ms.
    let app = spawn_app_with(|s| {
        s.max_concurrent_requests = 1;
        s.body_timeout_secs = 2;
    })
    .await;
    let user = app.create_user("a", 0).await;
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/users/{user}/charge HTTP/1.1\r\nHost: edgecart\r\n\
         Content-Type: application/json\r\nIdempotency-Key: slow\r\nContent-Length: 100\r\n\r\n{{"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });

    // Act + Assert: while the body trickles, normal API requests get their permit.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let normal = app.get(&format!("/api/v1/users/{user}")).await;
        assert_eq!(normal.status(), 200, "a normal request was shed");
    }
    // The trickled request gets 408 problem+json at its deadline, and its connection closes.
    let response = read_response(&mut reader, Duration::from_secs(8))
        .await
        .expect("an answer at the body deadline");
    assert_eq!(response.status, 408, "{}", response.head);
    assert!(
        response
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{}",
        response.head
    );
    let problem: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(problem["code"], "REQUEST_TIMEOUT");
    let mut rest = Vec::new();
    assert!(closed_within(&mut reader, Duration::from_secs(5), &mut rest).await);
    trickle.abort();
    // Nothing was charged, and the node serves as before.
    assert_eq!(app.balance(user).await, 0);
    assert_eq!(
        app.get(&format!("/api/v1/users/{user}")).await.status(),
        200
    );
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_until_one_closes() {
    // Arrange: at most 4 connections, each held open and idle after one answer.
    let app = spawn_app_with(|s| {
        s.max_connections = 4;
        s.header_timeout_secs = 60;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(HEALTHZ).await.unwrap();
        let answered = read_response(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(answered.map(|r| r.status), Some(200));
        held.push(stream);
    }

    // Act: a fifth connection sends its request.
    let mut fifth = TcpStream::connect(app.addr).await.unwrap();
    fifth.write_all(HEALTHZ).await.unwrap();

    // Assert: no answer while the 4 are open; one closes, and the fifth is served.
    assert!(
        read_response(&mut fifth, Duration::from_secs(1))
            .await
            .is_none(),
        "a fifth connection was served past the cap of 4"
    );
    drop(held.pop());
    let answered = read_response(&mut fifth, Duration::from_secs(5)).await;
    assert_eq!(answered.map(|r| r.status), Some(200));
}

/// Waits until `n` sessions of the app's database wait for a lock.
async fn wait_for_lock_waiters(app: &TestApp, n: i64) {
    for _ in 0..500 {
        let waiting: i64 = app
            .db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} requests never waited for the lock");
}

#[tokio::test]
async fn a_readyz_flood_needs_no_pooled_connection_while_orders_hold_them_all() {
    // Arrange: a pool of 2, both connections held by charges waiting on a row lock.
    let app = Arc::new(spawn_app_with(|s| s.db_pool_size = 2).await);
    let user = app.create_user("a", 100_000).await;
    let product = app.create_product("p", 1_000, 100).await;
    let lock = app.lock_user_row(user).await;
    // One at a time: charges that arrive together share one batch and one connection, so
    // the second is sent once the first waits, and takes the second batch worker.
    let mut charges = Vec::new();
    for i in 0..2 {
        let charging = app.clone();
        charges.push(tokio::spawn(async move {
            charging
                .charge(
                    user,
                    &json!({"chargeAmount": 5_000}),
                    Some(&format!("held-{i}")),
                )
                .await
                .status()
                .as_u16()
        }));
        wait_for_lock_waiters(&app, i + 1).await;
    }
    let pool = "edgecart_db_pool_connections";
    assert_eq!(
        app.metric(pool, &[("state", "size")]).await,
        2.0,
        "/metrics answers while the pool is full"
    );
    assert_eq!(
        app.metric(pool, &[("state", "available")]).await,
        0.0,
        "the pool is exhausted"
    );

    // Act: 200 concurrent /readyz, each allowed 10 s.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let flood = (0..200).map(|_| {
        let request = client.get(app.url("/readyz")).send();
        async move { request.await.map(|r| r.status().as_u16()).ok() }
    });
    let answers = join_all(flood).await;

    // Assert: every one answered ready without a pooled connection; the held charges and a
    // new order go through once the lock is gone.
    assert!(
        answers.iter().all(|a| *a == Some(200)),
        "{:?}",
        answers
            .iter()
            .filter(|a| **a != Some(200))
            .collect::<Vec<_>>()
    );
    lock.release().await;
    for charge in charges {
        assert_eq!(charge.await.unwrap(), 200);
    }
    let order = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&order, None).await.status(), 201);
}

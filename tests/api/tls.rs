//! TLS to PostgreSQL and Redis, against private servers whose certificates a CA made at test
//! time signed for `localhost`: a node that verifies both serves a charge and an order over
//! TLS end to end; each `sslmode` checks what libpq's does; a certificate from another CA
//! fails the start at once with an error that says so; a plain URL to a TLS-only Redis fails
//! fast instead of hanging.

use std::time::{Duration, Instant};

use edgecart::{Settings, store::PgTarget, telemetry::chain};
use edgecart_tests::{
    PrivatePostgres, PrivateRedis, TestApp, TestCa, eventually, spawn_app_with, try_spawn_app_with,
};
use serde_json::json;

/// How long a start may take before it counts as hanging.
const START_BOUND: Duration = Duration::from_secs(30);

/// A PostgreSQL and a Redis of the test's own, their certificates signed by one test CA.
struct TlsServers {
    ca: TestCa,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
}

impl TlsServers {
    async fn start() -> Self {
        let ca = TestCa::new();
        let postgres = PrivatePostgres::start_with_tls(&ca).await;
        let redis = PrivateRedis::start_with_tls(&ca).await;
        Self {
            ca,
            postgres,
            redis,
        }
    }

    /// The node's database URL: `verify-full`, trusting the servers' CA.
    fn database_url(&self) -> String {
        let ca = Some(&self.ca);
        database_url(&self.postgres, "localhost", "edgecart", "verify-full", ca)
    }

    /// Points a node at both servers, checking both certificates: PostgreSQL's against the
    /// servers' CA, Redis's against `redis_ca`.
    fn node_trusting(&self, redis_ca: &TestCa) -> impl FnOnce(&mut Settings) + use<> {
        let (url, redis_url, ca_file) = (self.database_url(), self.redis.url(), redis_ca.ca_file());
        move |s| {
            s.database_url = url.into();
            s.redis_url = redis_url.into();
            s.redis_ca_file = Some(ca_file);
        }
    }
}

/// `postgres://postgres@HOST:PORT/DATABASE?sslmode=MODE`, with `sslrootcert` when `ca` is
/// given.
fn database_url(
    postgres: &PrivatePostgres,
    host: &str,
    database: &str,
    mode: &str,
    ca: Option<&TestCa>,
) -> String {
    let mut url = format!(
        "postgres://postgres@{host}:{}/{database}?sslmode={mode}",
        postgres.port
    );
    if let Some(ca) = ca {
        url.push_str(&format!("&sslrootcert={}", ca.ca_file().display()));
    }
    url
}

/// Whether the session a URL opens uses SSL (its `pg_stat_ssl` row), or why it failed.
async fn session_uses_ssl(url: &str) -> Result<bool, String> {
    let target = PgTarget::from_url(url).map_err(|e| chain(&e))?;
    let (client, connection) = target.connect().await.map_err(|e| chain(&e))?;
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| chain(&e))?;
    Ok(row.get(0))
}

/// Why a node with these settings does not start (its error chain), within [`START_BOUND`].
async fn start_error(configure: impl FnOnce(&mut Settings)) -> String {
    let started = tokio::time::timeout(START_BOUND, try_spawn_app_with(configure))
        .await
        .expect("the start ends instead of hanging");
    match started {
        Ok(_) => panic!("a node that does not trust a server's certificate started"),
        Err(error) => chain(&error),
    }
}

/// The sessions of other clients on the app's database: (all, plain, `LISTEN`ing over SSL).
async fn node_sessions(app: &TestApp) -> (i64, i64, i64) {
    let row = app
        .db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE NOT s.ssl), \
             count(*) FILTER (WHERE s.ssl AND a.query LIKE 'LISTEN%') \
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
             WHERE a.datname = current_database() AND a.backend_type = 'client backend' \
             AND a.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl");
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn a_node_that_verifies_both_servers_serves_a_charge_and_an_order_over_tls() {
    // Arrange: PostgreSQL and Redis with certificates of the test's CA; the node trusts it.
    let servers = TlsServers::start().await;
    let verified = servers.node_trusting(&servers.ca);
    let app = spawn_app_with(move |s| {
        verified(s);
        s.outbox_poll_ms = 200;
    })
    .await;
    let redis = &servers.redis;

    // Act: a charge and an order, each under an idempotency key (the Redis fast path).
    let user = app.create_user("tls", 0).await;
    let product = app.create_product("p", 1_000, 10).await;
    assert_eq!(app.charge_amount(user, 5_000).await.status(), 200);
    let order = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&order, Some("tls-order")).await.status(), 201);

    // Assert: both servers answer over TLS, and the effects are where they belong.
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.balance(user).await, 4_000);
    assert_eq!(app.stock(product).await, 9);
    let keys: i64 = redis.cli(&["DBSIZE"]).await.parse().expect("DBSIZE");
    assert!(keys > 0, "the idempotency fast path wrote to Redis");
    let stream = format!("{}events", app.settings.redis_prefix);
    assert!(
        eventually(Duration::from_secs(10), || async {
            redis.cli(&["XLEN", &stream]).await == "1"
        })
        .await,
        "the relay published the order's event over TLS"
    );
    // Every session of the node uses SSL, the relay's LISTEN session among them.
    assert!(
        eventually(Duration::from_secs(10), || async {
            let (all, _, listening) = node_sessions(&app).await;
            all >= 2 && listening >= 1
        })
        .await,
        "the pool's and the relay's sessions show in pg_stat_activity: {:?}",
        node_sessions(&app).await
    );
    let (all, plain, _) = node_sessions(&app).await;
    assert_eq!(plain, 0, "{plain} of the node's {all} sessions are plain");
}

#[tokio::test]
async fn each_sslmode_gets_the_certificate_check_libpq_gives_it() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let tls = PrivatePostgres::start_with_tls(&ca).await;
    let plain = PrivatePostgres::start().await;
    // The certificate is for `localhost`, not for `127.0.0.1`.
    // (server, host, sslmode, sslrootcert, whether the session uses SSL or why it fails)
    let cases = [
        (&tls, "localhost", "verify-full", Some(&ca), Ok(true)),
        (
            &tls,
            "127.0.0.1",
            "verify-full",
            Some(&ca),
            Err("not valid for name"),
        ),
        (
            &tls,
            "localhost",
            "verify-full",
            Some(&other),
            Err("UnknownIssuer"),
        ),
        (&tls, "127.0.0.1", "verify-ca", Some(&ca), Ok(true)),
        (
            &tls,
            "localhost",
            "verify-ca",
            Some(&other),
            Err("UnknownIssuer"),
        ),
        // With a root file, `require` checks the chain, as libpq's does.
        (
            &tls,
            "localhost",
            "require",
            Some(&other),
            Err("UnknownIssuer"),
        ),
        (&tls, "127.0.0.1", "require", None, Ok(true)),
        (&tls, "127.0.0.1", "prefer", None, Ok(true)),
        (&tls, "127.0.0.1", "disable", None, Ok(false)),
        (&plain, "127.0.0.1", "prefer", None, Ok(false)),
    ];
    for (postgres, host, mode, trusted, expected) in cases {
        let url = database_url(postgres, host, "postgres", mode, trusted);
        let outcome = session_uses_ssl(&url).await;
        match expected {
            Ok(ssl) => assert_eq!(outcome, Ok(ssl), "{url}"),
            Err(why) => assert!(
                outcome.as_ref().is_err_and(|e| e.contains(why)),
                "{url}: {outcome:?}, expected an error with {why:?}"
            ),
        }
    }
    let require = database_url(&plain, "127.0.0.1", "postgres", "require", None);
    let refused = session_uses_ssl(&require).await;
    assert!(
        refused.is_err(),
        "require refuses a server without TLS: {refused:?}"
    );
}

#[tokio::test]
async fn a_database_certificate_from_another_ca_fails_the_start_at_once() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let postgres = PrivatePostgres::start_with_tls(&ca).await;
    let url = database_url(
        &postgres,
        "localhost",
        "edgecart",
        "verify-full",
        Some(&other),
    );

    let error = start_error(move |s| s.database_url = url.into()).await;

    assert!(
        error.contains("cannot connect to PostgreSQL")
            && error.contains("invalid peer certificate"),
        "{error}"
    );
}

#[tokio::test]
async fn a_redis_certificate_from_another_ca_fails_the_start_at_once() {
    let servers = TlsServers::start().await;
    let other = TestCa::new();

    let error = start_error(servers.node_trusting(&other)).await;

    assert!(
        error.contains("certificate was refused") && error.contains("UnknownIssuer"),
        "{error}"
    );
}

#[tokio::test]
async fn a_plain_redis_url_to_a_tls_only_port_fails_fast_and_postgres_carries_the_requests() {
    let servers = TlsServers::start().await;
    let url = servers.database_url();
    let plain = format!("redis://127.0.0.1:{}", servers.redis.port);

    let app = tokio::time::timeout(
        START_BOUND,
        spawn_app_with(move |s| {
            s.database_url = url.into();
            s.redis_url = plain.into();
        }),
    )
    .await
    .expect("the node starts (without its Redis fast path) instead of hanging");

    let asked = Instant::now();
    let ready = app.get("/readyz").await;
    let waited = asked.elapsed();
    assert_eq!(ready.status(), 503);
    assert!(ready.text().await.expect("body").contains("redis"));
    assert!(waited < Duration::from_secs(2), "readiness took {waited:?}");
    let user = app.create_user("plain", 0).await;
    assert_eq!(app.charge_amount(user, 7_000).await.status(), 200);
    assert_eq!(app.balance(user).await, 7_000);
}

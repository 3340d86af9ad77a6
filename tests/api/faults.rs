//! Faults: the server process killed with SIGKILL in the middle of a load of idempotent
//! orders and charges loses nothing, applies nothing twice and leaves no key in use; a
//! PostgreSQL restart under load gives quick 503s and the node recovers by itself.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use edgecart_tests::{ServerProcess, Webhook, eventually, spawn_app_with};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// One idempotent request of the load: its key and what it asks for.
#[derive(Clone, Debug)]
enum Sent {
    /// An order of one unit, paid with 1,000 points.
    Order(String),
    /// A charge of an amount no other key uses.
    Charge(String, i64),
}

impl Sent {
    /// Sends it to the node at `address`: its status and body, or `None` without an answer.
    async fn send(
        &self,
        http: &reqwest::Client,
        address: &str,
        (payer, charged, product): (i64, i64, i64),
    ) -> Option<(u16, Value)> {
        let request = match self {
            Sent::Order(key) => http
                .post(format!("{address}/api/v1/orders"))
                .header("Idempotency-Key", key)
                .json(&json!({"user_id": payer, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]})),
            Sent::Charge(key, amount) => http
                .post(format!("{address}/api/v1/users/{charged}/charge"))
                .header("Idempotency-Key", key)
                .json(&json!({"chargeAmount": amount})),
        };
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// The status its success answers with.
    fn success(&self) -> u16 {
        match self {
            Sent::Order(_) => 201,
            Sent::Charge(..) => 200,
        }
    }
}

#[tokio::test]
async fn a_node_killed_mid_load_loses_nothing_applies_nothing_twice_and_frees_its_keys() {
    let webhook = Webhook::start(0).await;
    let url = webhook.url.clone();
    // This in-process node only prepares the database; the killed one is a real process. The
    // in-flight markers would block for a minute: only their node's death may free them.
    let setup = spawn_app_with(move |s| {
        s.relay_enabled = false;
        s.consumer_enabled = false;
        s.webhook_url = Some(url);
        s.outbox_poll_ms = 200;
        s.idempotency_in_flight_secs = 60;
        s.consumer_claim_idle_ms = 1_000;
    })
    .await;
    let product = setup.create_product("p", 1_000, 1_000_000).await;
    let payer = setup.create_user("payer", 100_000_000).await;
    let charged = setup.create_user("charged", 0).await;
    let ids = (payer, charged, product);
    let stock_before = setup.stock(product).await;

    let server = ServerProcess::start(&setup.settings).await;
    let http = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    // 16 workers: each places orders and makes charges, every one with a key of its own.
    let workers = (0..16u32).map(|worker| {
        let (http, address, stop) = (http.clone(), server.address.clone(), stop.clone());
        let answered = answered.clone();
        tokio::spawn(async move {
            let mut sent = Vec::new();
            for round in 0u32.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let amount = 1_000 + i64::from(worker * 10_000 + round);
                for request in [
                    Sent::Order(format!("order-{worker}-{round}")),
                    Sent::Charge(format!("charge-{worker}-{round}"), amount),
                ] {
                    let answer = request.send(&http, &address, ids).await;
                    if answer.is_some() {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    sent.push((request, answer.is_some()));
                }
            }
            sent
        })
    });
    let workers: Vec<_> = workers.collect();
    // Killed in full swing: once the load is well under way (however slow the machine is),
    // with every worker's next request in flight.
    let under_way = eventually(Duration::from_secs(60), || async {
        answered.load(Ordering::Relaxed) >= 64
    })
    .await;
    assert!(under_way, "the load never got going");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill().await;
    stop.store(true, Ordering::Relaxed);
    let sent: Vec<(Sent, bool)> = join_all(workers)
        .await
        .into_iter()
        .flat_map(|s| s.unwrap())
        .collect();
    assert!(sent.len() > 32, "the load ran before the kill");
    let markers = setup.redis_values("idem:*").await;
    let left_in_flight = markers
        .iter()
        .filter(|m| !m.contains("\"response\""))
        .count();
    assert!(
        left_in_flight > 0,
        "the kill left keys in flight: {markers:?}"
    );

    // Restart, and send every request again with its key: each one the clients did not see
    // answered must be answered (not 409 IDEMPOTENCY_KEY_IN_USE) within 10 s of the restart.
    let server = ServerProcess::start(&setup.settings).await;
    let restarted = Instant::now();
    let retries = sent.iter().map(|(request, was_answered)| {
        let (http, address) = (&http, &server.address);
        async move {
            loop {
                let answer = request.send(http, address, ids).await;
                let in_use = answer.as_ref().is_none_or(|(status, _)| *status == 409);
                if !in_use || restarted.elapsed() > Duration::from_secs(10) {
                    return (request, *was_answered, answer, restarted.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let mut order_ids = BTreeSet::new();
    let mut unanswered = 0;
    for (request, was_answered, answer, after) in join_all(retries).await {
        unanswered += usize::from(!was_answered);
        let (status, body) = answer.unwrap_or_else(|| panic!("{request:?}: no answer"));
        assert_eq!(
            status,
            request.success(),
            "{request:?} after {after:?}: {body}"
        );
        assert!(
            after < Duration::from_secs(10),
            "{request:?} answered after {after:?}"
        );
        if let Sent::Order(key) = request {
            let id = body["orderId"]
                .as_i64()
                .unwrap_or_else(|| panic!("{key}: {body}"));
            assert!(
                order_ids.insert(id),
                "{key} answered with another key's order {id}"
            );
        }
    }
    assert!(unanswered > 0, "some requests were cut off by the kill");
    // What freed the keys left in flight is their node's death, not their expiry.
    let taken_over = server
        .metric(
            "edgecart_idempotency_markers_total",
            &[("outcome", "taken_over")],
        )
        .await;
    // (A retry whose Redis call timed out on a busy machine goes to PostgreSQL directly and
    // takes nothing over; it is answered all the same.)
    assert!(
        taken_over >= 1.0 && taken_over <= left_in_flight as f64,
        "{taken_over} markers taken over of {left_in_flight} left in flight"
    );

    // Every charge applied exactly once, every order key paid for exactly one order.
    for request in sent.iter().map(|(request, _)| request) {
        if let Sent::Charge(key, amount) = request {
            let applied = setup
                .scalar(&format!(
                    "SELECT count(*) FROM point_history WHERE user_id = {charged} AND kind = 'CHARGE' AND amount = {amount}"
                ))
                .await;
            assert_eq!(applied, 1, "charge {key}");
        }
    }
    let orders: BTreeSet<i64> = {
        let rows = setup.db.query("SELECT id FROM orders", &[]).await.unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    };
    assert_eq!(
        orders, order_ids,
        "the orders are exactly those the keys answered with"
    );
    // No partial order: lines, one USE row, one event each; stock and points add up.
    let partial = setup
        .scalar(
            "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id) \
             OR (SELECT count(*) FROM point_history h WHERE h.order_id = o.id AND h.kind = 'USE') <> 1 \
             OR (SELECT count(*) FROM outbox e WHERE e.type = 'order.paid' AND (e.payload->>'orderId')::bigint = o.id) <> 1",
        )
        .await;
    assert_eq!(partial, 0);
    let paid = setup.scalar("SELECT count(*) FROM orders").await;
    assert!(paid > 0);
    assert_eq!(setup.stock(product).await, stock_before - paid);
    assert_eq!(setup.balance(payer).await, 100_000_000 - 1_000 * paid);
    let mismatched = setup
        .scalar(
            "SELECT count(*) FROM users u WHERE balance <> (SELECT coalesce(sum(CASE kind WHEN 'USE' THEN -amount ELSE amount END), 0) \
             FROM point_history h WHERE h.user_id = u.id)",
        )
        .await;
    assert_eq!(mismatched, 0);

    // Every committed order's event is delivered, once in effect.
    let events: BTreeSet<String> = {
        let rows = setup
            .db
            .query("SELECT id::text FROM outbox", &[])
            .await
            .unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    };
    assert!(
        eventually(Duration::from_secs(15), || async {
            let delivered: BTreeSet<String> =
                webhook.accepted().into_iter().map(|(key, _)| key).collect();
            delivered == events
        })
        .await,
        "every event notified: {} events, {} delivered, {} unsent",
        events.len(),
        webhook
            .accepted()
            .iter()
            .map(|(k, _)| k)
            .collect::<BTreeSet<_>>()
            .len(),
        setup
            .scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await
    );
    // An event whose notification was in flight at the kill may be sent again by the consumer
    // that takes it over; it carries the same Idempotency-Key, so the effect is once.
    for (key, body) in webhook.accepted() {
        assert_eq!(body["eventId"].to_string(), key);
    }
    server.kill().await;
}

#[tokio::test]
async fn a_postgres_restart_under_load_gives_quick_503s_and_the_node_recovers_by_itself() {
    let postgres = edgecart_tests::PrivatePostgres::start().await;
    let database = format!("postgres://postgres@127.0.0.1:{}/edgecart", postgres.port);
    let app = Arc::new(
        spawn_app_with(move |s| {
            s.database_url = database.into();
            s.db_timeout_ms = 1_000;
        })
        .await,
    );
    let user = app.create_user("a", 100_000_000).await;
    let product = app.create_product("p", 1_000, 1_000_000).await;
    let order = json!({"user_id": user, "paymentAmount": 1_000, "products": [{"id": product, "quantity": 1}]});
    assert_eq!(app.order(&order, None).await.status(), 201);

    // Load while PostgreSQL goes away and comes back.
    let stop = Arc::new(AtomicBool::new(false));
    let load = (0..8).map(|_| {
        let (app, stop, order) = (app.clone(), stop.clone(), order.clone());
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = std::time::Instant::now();
                let response = app.order(&order, None).await;
                let status = response.status().as_u16();
                let code = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|b| b["code"].as_str().map(str::to_owned));
                outcomes.push((status, code, started.elapsed()));
            }
            outcomes
        })
    });
    let load: Vec<_> = load.collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    postgres.stop();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(ready.text().await.unwrap().contains("postgres"));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    postgres.start_again();
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.order(&order, None).await.status() == 201
        })
        .await,
        "orders succeed again without restarting the node"
    );
    stop.store(true, Ordering::Relaxed);
    let outcomes: Vec<_> = join_all(load)
        .await
        .into_iter()
        .flat_map(|o| o.unwrap())
        .collect();

    // During the outage: 503 problem+json, and never a hang (the request timeout is 10 s;
    // waiting for a connection is bounded by the 1 s database timeout plus a round trip).
    let unavailable = outcomes.iter().filter(|(s, _, _)| *s == 503).count();
    assert!(unavailable > 0, "some requests met the outage");
    for (status, code, elapsed) in &outcomes {
        assert!(matches!(status, 201 | 503), "{status} {code:?}");
        if *status == 503 {
            assert_eq!(code.as_deref(), Some("SERVICE_UNAVAILABLE"));
        }
        assert!(
            *elapsed < Duration::from_secs(5),
            "a request hung for {elapsed:?}"
        );
    }
    assert_eq!(app.get("/readyz").await.status(), 200);
    // Stock and points still add up (the test's own connection died with the restart).
    let (db, connection) =
        tokio_postgres::connect(app.settings.database_url.expose(), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    let scalar = |sql: String| {
        let db = &db;
        async move { db.query_one(&sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let paid = scalar("SELECT count(*) FROM orders".into()).await;
    assert_eq!(
        scalar(format!("SELECT stock FROM products WHERE id = {product}")).await,
        1_000_000 - paid
    );
    assert_eq!(
        scalar(format!("SELECT balance FROM users WHERE id = {user}")).await,
        100_000_000 - 1_000 * paid
    );
}

//! [`TestApp`]: a real edgecart server on port 0 with its own fresh database and Redis key
//! prefix, started with [`spawn_app`] or [`spawn_app_with`] and removed with its database
//! and keys when the test ends, and the typed HTTP helpers to call it.

use std::{
    fmt::Display,
    net::SocketAddr,
    sync::{Arc, LazyLock},
};

use edgecart::{Application, Settings, StartError};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    cleanup::Leftovers,
    environment::{base_database_url, base_redis_url},
    postgres::{self, with_database},
    repo_path,
};

/// The admin token test servers use unless a test says otherwise.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The server's log on stderr, once per test binary, when `TEST_LOG` is set.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        // Spans are not exported from the test process: its servers share one subscriber.
        drop(edgecart::telemetry::init(edgecart::config::LogFormat::Text));
    }
});

/// A running server and what a test needs to talk to it and inspect its state.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Direct access to this test's database.
    pub db: tokio_postgres::Client,
    /// The settings the server runs with.
    pub settings: Settings,
    /// Starts the server's graceful shutdown.
    shutdown: Option<oneshot::Sender<()>>,
    /// The server's task and its result.
    server: Option<JoinHandle<Result<(), StartError>>>,
    /// The test's database and Redis keys, shared with the nodes spawned from this app. The
    /// last field: fields are dropped after [`TestApp`]'s `drop` has stopped the server.
    leftovers: Arc<Leftovers>,
}

/// Starts a server with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` has adjusted the settings. The database `edgecart_test_…`
/// it creates and the keys under its Redis prefix are removed when the app (and every node
/// spawned from it) is dropped, unless `configure` pointed the server elsewhere.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    try_spawn_app_with(configure).await.expect("server builds")
}

/// [`spawn_app_with`] for the tests of a server that must refuse to start: the error of
/// [`Application::build`] instead of a panic.
pub async fn try_spawn_app_with(
    configure: impl FnOnce(&mut Settings),
) -> Result<TestApp, StartError> {
    LazyLock::force(&TRACING);
    let name = format!("edgecart_test_{}", uuid::Uuid::new_v4().simple());
    let (database_url, redis_url) = (with_database(&base_database_url(), &name), base_redis_url());
    let redis_prefix = format!("test:{name}:");
    let mut settings = Settings::with_urls(&database_url, &redis_url);
    settings.listen = "127.0.0.1:0".parse().expect("literal address");
    settings.redis_prefix = redis_prefix.clone();
    settings.admin_token = Some(ADMIN_TOKEN.to_owned().into());
    settings.db_pool_size = 16;
    // Tests check invariants under real concurrency on a shared machine, not latency: a
    // request waits for a connection rather than failing.
    settings.db_timeout_ms = 30_000;
    settings.plugins.dir = repo_path("plugins/dist");
    settings.plugins.cache_dir = repo_path("target/plugin-cache");
    settings.plugins.sync_ms = 200;
    // An upload of a JavaScript rule compiles its 12 MB engine; in a debug build, beside the
    // other tests, the first one on this test process can take minutes (the rest reuse it).
    settings.plugins.upload_timeout_secs = 900;
    configure(&mut settings);
    let leftovers = Leftovers {
        database_url: (settings.database_url.expose() == database_url).then_some(database_url),
        redis: (settings.redis_url.expose() == redis_url && settings.redis_prefix == redis_prefix)
            .then_some((redis_url, redis_prefix)),
    };
    start(settings, Arc::new(leftovers)).await
}

/// Starts a server with exactly these settings, sharing `leftovers` (held from before the
/// build, so a server that fails to build still has its database dropped).
async fn start(settings: Settings, leftovers: Arc<Leftovers>) -> Result<TestApp, StartError> {
    // Boxed: the build's future is deep (TLS connects inside), and every test's future holds
    // it; unboxed, computing their layouts overflows the compiler's query depth.
    let application = Box::pin(Application::build(settings.clone())).await?;
    let addr = application.local_addr();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let db = postgres::connect(settings.database_url.expose()).await;
    Ok(TestApp {
        address: format!("http://{addr}"),
        addr,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("http client"),
        db,
        settings,
        shutdown: Some(shutdown),
        server: Some(server),
        leftovers,
    })
}

impl TestApp {
    /// Another node on the same PostgreSQL database and Redis prefix (a second edge node).
    /// They share the test's database, which is dropped after the last of them is.
    pub async fn spawn_node(&self) -> TestApp {
        self.spawn_node_with(|_| {}).await
    }

    /// [`TestApp::spawn_node`] after `configure` has adjusted the node's settings.
    pub async fn spawn_node_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        settings.listen = "127.0.0.1:0".parse().expect("literal address");
        configure(&mut settings);
        start(settings, self.leftovers.clone())
            .await
            .expect("node builds")
    }

    /// Asks the server to shut down; the returned future waits for it and gives its result.
    /// The app stays for checks afterwards: its database (and [`TestApp::db`]) outlive the
    /// server until the app is dropped.
    pub fn stop(&mut self) -> impl Future<Output = Result<(), StartError>> + Send + use<> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let server = self.server.take();
        async move {
            match server {
                Some(server) => server.await.expect("server task"),
                None => Ok(()),
            }
        }
    }

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// An admin request with the token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// POST a JSON body to an admin path with the admin token.
    pub async fn admin_post(&self, path: &str, body: &Value) -> Response {
        self.admin(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// PATCHes an admin path (a product or a user) with `body`, asserting 200.
    pub async fn admin_patch(&self, path: &str, body: &Value) {
        let response = self
            .admin(reqwest::Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::OK, "PATCH {path}");
    }

    /// Creates a user through the admin API and returns its id.
    pub async fn create_user(&self, name: &str, amount: i64) -> i64 {
        let response = self
            .admin_post(
                "/admin/v1/users",
                &json!({"name": name, "hpNo": "010-0000-0000", "amount": amount}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.expect("json")["userId"]
            .as_i64()
            .expect("userId")
    }

    /// Creates a product through the admin API and returns its id.
    pub async fn create_product(&self, name: &str, price: i64, stock: i64) -> i64 {
        let response = self
            .admin_post(
                "/admin/v1/products",
                &json!({"name": name, "price": price, "stock": stock}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id")
    }

    /// Reads a product through the public API and returns its JSON.
    pub async fn product(&self, id: i64) -> Value {
        let response = self.get(&format!("/api/v1/products/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK, "product {id}");
        response.json().await.expect("json")
    }

    /// PATCHes a product through the admin API; returns the status.
    pub async fn patch_product(&self, id: i64, patch: &Value) -> StatusCode {
        self.admin(reqwest::Method::PATCH, &format!("/admin/v1/products/{id}"))
            .json(patch)
            .send()
            .await
            .expect("request sent")
            .status()
    }

    /// GET a path with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs a charge body to a user, with an `Idempotency-Key` header when `key` is given.
    /// `user` is an id, or any raw path segment for the tests of invalid ids.
    pub async fn charge(&self, user: impl Display, body: &Value, key: Option<&str>) -> Response {
        self.post_json(&format!("/api/v1/users/{user}/charge"), body, key)
            .await
    }

    /// Charges `amount` to a user under a fresh idempotency key.
    pub async fn charge_amount(&self, user: i64, amount: i64) -> Response {
        let key = uuid::Uuid::new_v4().to_string();
        self.charge(user, &json!({"chargeAmount": amount}), Some(&key))
            .await
    }

    /// POSTs an order body, with an `Idempotency-Key` header when `key` is given.
    pub async fn order(&self, body: &Value, key: Option<&str>) -> Response {
        self.post_json("/api/v1/orders", body, key).await
    }

    /// POSTs a cancel of an order (an id, or any raw path segment).
    pub async fn cancel(&self, order: impl Display) -> Response {
        self.http
            .post(self.url(&format!("/api/v1/orders/{order}/cancel")))
            .send()
            .await
            .expect("request sent")
    }

    /// POSTs a JSON body to a public path, with an `Idempotency-Key` header when `key` is
    /// given.
    async fn post_json(&self, path: &str, body: &Value, key: Option<&str>) -> Response {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("request sent")
    }

    /// Sum of the samples of a metric whose labels include all of `labels`.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self
            .get("/metrics")
            .await
            .text()
            .await
            .expect("metrics text");
        metric_sum(&text, name, labels)
    }
}

/// The sum of the series of metric `name` with `labels` in the exposition `text`.
pub(crate) fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

impl Drop for TestApp {
    /// Stops the server; then the fields go, the leftovers last (the last app on them
    /// removes them). Drop cannot wait for the server's tasks to end: the sessions they still
    /// hold are cut by the database drop's `FORCE`.
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

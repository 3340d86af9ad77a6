//! No secret reaches the server's log: a real `edgecart serve` at debug level, with passwords
//! in both service URLs, a bootstrap admin token and an HS256 secret, serves admin and user
//! calls (good and bad tokens) and then loses Redis and PostgreSQL, which is when URLs and
//! connection errors get logged. None of the secrets, nor the tokens clients sent, is in it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgecart::Settings;
use edgecart_tests::{PrivatePostgres, PrivateRedis, ServerProcess, eventually, repo_path};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const DB_PASSWORD: &str = "db-pass-5f3c9a";
const REDIS_PASSWORD: &str = "redis-pass-8b1e4d";
const ADMIN_TOKEN: &str = "admin-token-2c7f61e9";
const HS256_SECRET: &str = "hs256-secret-9d04ab";

/// An HS256 token for `user`, valid for an hour.
fn token_for(user: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let claims = json!({"sub": user.to_string(), "exp": now + 3_600});
    let key = EncodingKey::from_secret(HS256_SECRET.as_bytes()).expect("HS256 key");
    encode(&Header::new(Algorithm::HS256), &claims, &key).expect("token signed")
}

#[tokio::test]
async fn no_secret_or_client_token_appears_in_the_server_log() {
    // Trust authentication and Redis' password-less default user accept any password, so
    // the URLs carry passwords the server really uses to connect.
    let postgres = PrivatePostgres::start().await;
    let mut redis = PrivateRedis::start().await;
    let database_url = format!(
        "postgres://postgres:{DB_PASSWORD}@127.0.0.1:{}/postgres",
        postgres.port
    );
    let redis_url = format!("redis://default:{REDIS_PASSWORD}@127.0.0.1:{}", redis.port);
    let cache = tempfile::tempdir().expect("temporary folder");
    let mut settings = Settings::with_urls(&database_url, &redis_url);
    settings.redis_prefix = "logtest:".into();
    settings.plugins.dir = repo_path("plugins/dist");
    settings.plugins.cache_dir = cache.path().to_owned();
    settings.db_timeout_ms = 1_000;
    let server = ServerProcess::start_with_env(
        &settings,
        &[
            ("EDGECART_ADMIN_TOKEN", ADMIN_TOKEN),
            ("EDGECART_AUTH", "jwt"),
            ("EDGECART_JWT_HS256_SECRET", HS256_SECRET),
            ("RUST_LOG", "debug"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);

    // Admin and user calls, with good and bad credentials.
    let created = http
        .post(url("/admin/v1/users"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "a", "hpNo": "010", "amount": 5_000}))
        .send()
        .await
        .expect("admin call");
    assert_eq!(created.status(), 201);
    let user = created.json::<Value>().await.expect("user")["userId"]
        .as_i64()
        .expect("userId");
    let token = token_for(user);
    let balance = http
        .get(url(&format!("/api/v1/users/{user}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("user call");
    assert_eq!(balance.status(), 200);
    let forged = format!("{token}x");
    for (path, bearer, status) in [
        (format!("/api/v1/users/{user}"), forged.as_str(), 401),
        ("/admin/v1/plugins".to_owned(), "wrong-admin-token", 403),
    ] {
        let response = http.get(url(&path)).bearer_auth(bearer).send().await;
        assert_eq!(response.expect("call").status(), status, "{path}");
    }

    // Redis, then PostgreSQL, go away: the node notices and logs it.
    redis.stop().await;
    postgres.stop();
    let not_ready = eventually(Duration::from_secs(20), || async {
        let body = match http.get(url("/readyz")).send().await {
            Ok(response) if response.status() == 503 => response.text().await.unwrap_or_default(),
            _ => return false,
        };
        body.contains("postgres") && body.contains("redis")
    })
    .await;
    assert!(not_ready, "the node never reported both dependencies down");
    let _ = http
        .get(url(&format!("/api/v1/users/{user}")))
        .bearer_auth(&token)
        .send()
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let log = server.log();
    server.kill().await;
    assert!(
        log.lines()
            .any(|line| line.contains("WARN") || line.contains("ERROR")),
        "the outage was not logged, so the check below would prove nothing:\n{log}"
    );
    for secret in [
        DB_PASSWORD,
        REDIS_PASSWORD,
        ADMIN_TOKEN,
        HS256_SECRET,
        &token,
        &forged,
    ] {
        assert!(
            !log.contains(secret),
            "the log holds {secret}:\n{}",
            log.lines()
                .filter(|line| line.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

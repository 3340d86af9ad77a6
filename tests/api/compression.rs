//! Response compression: gzip or brotli when the client asks (`Accept-Encoding`), for bodies
//! above a small size, with `Vary: Accept-Encoding`; identity otherwise. Problem bodies and
//! `/metrics` stay what they are under it.

use std::io::Read;

use edgecart_tests::{TestApp, spawn_app};
use serde_json::Value;

/// A node with enough products that the list's body is worth compressing.
async fn app_with_products() -> TestApp {
    let app = spawn_app().await;
    app.db
        .batch_execute(
            "INSERT INTO products (name, price, stock) \
             SELECT '양배추 샐러드 ' || g, 2500, 10 FROM generate_series(1, 40) g",
        )
        .await
        .unwrap();
    app
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut plain)
            .map(drop),
        "br" => brotli::Decompressor::new(body, 4_096)
            .read_to_end(&mut plain)
            .map(drop),
        other => panic!("unexpected encoding {other}"),
    }
    .unwrap_or_else(|e| panic!("{encoding} body decodes: {e}"));
    plain
}

#[tokio::test]
async fn large_answers_are_compressed_as_the_client_asks_and_vary_says_so() {
    let app = app_with_products().await;
    let path = "/api/v1/products?limit=40";
    let identity = app.get(path).await;
    assert!(identity.headers().get("content-encoding").is_none());
    assert_eq!(identity.headers()["vary"], "accept-encoding");
    let plain = identity.bytes().await.unwrap();
    assert!(plain.len() > 1_000);

    for (asked, expected) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("br;q=1.0, gzip;q=0.5", "br"),
    ] {
        let response = app.get_with(path, &[("Accept-Encoding", asked)]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], expected, "{asked}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let vary = response.headers()["vary"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(vary.contains("accept-encoding"), "{vary}");
        let body = response.bytes().await.unwrap();
        assert!(
            body.len() < plain.len() / 2,
            "{asked}: {} of {} bytes",
            body.len(),
            plain.len()
        );
        assert_eq!(decode(expected, &body), plain, "{asked}");
    }
    let refused = app.get_with(path, &[("Accept-Encoding", "identity")]).await;
    assert!(refused.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn small_answers_problems_and_metrics_are_sent_as_they_are_or_still_decode() {
    let app = app_with_products().await;
    let gzip = [("Accept-Encoding", "gzip")];
    let first = app.scalar("SELECT min(id) FROM products").await;
    let small = app
        .get_with(&format!("/api/v1/products/{first}"), &gzip)
        .await;
    assert!(
        small.headers().get("content-encoding").is_none(),
        "a small body is not worth it"
    );
    assert_eq!(small.json::<Value>().await.unwrap()["id"], first);

    let problem = app.get_with("/api/v1/products/0", &gzip).await;
    assert_eq!(problem.status(), 400);
    assert_eq!(
        problem.headers()["content-type"],
        "application/problem+json"
    );
    let encoding = problem
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = problem.bytes().await.unwrap();
    let body = match encoding.as_deref() {
        Some(encoding) => decode(encoding, &body),
        None => body.to_vec(),
    };
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "INVALID_PRODUCT_ID");

    let metrics = app.get_with("/metrics", &gzip).await;
    assert_eq!(metrics.status(), 200);
    assert_eq!(metrics.headers()["content-encoding"], "gzip");
    let text = String::from_utf8(decode("gzip", &metrics.bytes().await.unwrap())).unwrap();
    assert!(text.contains("edgecart_http_requests_total"));
}

//! The API reference (`GET /docs`): a page served whole by the node itself, public, and the
//! document it shows, which `edgecart openapi` prints too.

use edgecart::config::AuthMode;
use edgecart_tests::{TestApp, assert_problem, edgecart_command, spawn_app, spawn_app_with};
use reqwest::Url;
use serde_json::Value;

/// The values of every `src="…"` and `href="…"` attribute in `html`.
fn referenced_assets(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| {
            html.match_indices(attribute).filter_map(|(at, _)| {
                let rest = &html[at + attribute.len()..];
                rest.find('"').map(|end| rest[..end].to_owned())
            })
        })
        .collect()
}

/// GETs `/docs` without credentials, checks it is HTML, and returns every asset it names,
/// resolved against the page's URL.
async fn docs_page_assets(app: &TestApp) -> Vec<Url> {
    let page = app.get("/docs").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        page.headers()
    );
    let base = page.url().clone();
    let html = page.text().await.unwrap();
    let assets = referenced_assets(&html);
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "the page loads its scripts and styles: {html}"
    );
    assets
        .iter()
        .map(|asset| {
            assert!(
                !asset.contains("//"),
                "{asset} is a path on the node, not another origin's URL"
            );
            let url = base.join(asset).unwrap();
            assert_eq!(url.origin(), base.origin(), "{asset}");
            url
        })
        .collect()
}

/// Asserts that each URL answers 200 with a body, with no credentials.
async fn assert_all_served(app: &TestApp, urls: &[Url]) {
    for url in urls {
        let response = app.http.get(url.clone()).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{url}");
    }
}

#[tokio::test]
async fn docs_is_an_html_page_whose_every_asset_the_node_serves_itself() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let assets = docs_page_assets(&app).await;

    // Assert
    assert_all_served(&app, &assets).await;
}

#[tokio::test]
async fn the_reference_loads_this_nodes_document_with_try_it_out_and_both_bearer_schemes() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let initializer = app.get("/docs/swagger-initializer.js").await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();

    // Assert: the page's settings name this node's document and open try-it-out; the
    // document declares the admin and the end-user bearer schemes the page offers.
    assert_eq!(initializer.status(), 200);
    let script = initializer.text().await.unwrap();
    assert!(script.contains(r#""url": "/openapi.json""#), "{script}");
    assert!(script.contains(r#""tryItOutEnabled": true"#), "{script}");
    assert!(
        !script.contains("http://") && !script.contains("https://"),
        "{script}"
    );
    let schemes = &document["components"]["securitySchemes"];
    for name in ["bearer", "user"] {
        assert_eq!(schemes[name]["type"], "http", "{schemes}");
        assert_eq!(schemes[name]["scheme"], "bearer", "{schemes}");
    }
    assert!(document["paths"].get("/docs").is_some());
}

#[tokio::test]
async fn the_reference_stays_public_when_end_users_need_tokens() {
    // Arrange
    let app = spawn_app_with(|s| {
        s.auth = Some(AuthMode::Jwt);
        s.jwt_hs256_secret = Some("reference-test-secret".to_owned().into());
    })
    .await;

    // Act
    let assets = docs_page_assets(&app).await;

    // Assert
    assert_all_served(&app, &assets).await;
    assert_eq!(app.get("/openapi.json").await.status(), 200);
}

#[tokio::test]
async fn an_unknown_reference_asset_is_a_404_problem() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/docs/no-such-file.js").await,
        404,
        "NOT_FOUND",
        "요청한 경로를 찾을 수 없습니다.",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_command_prints_the_document_the_server_serves() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let output = edgecart_command().arg("openapi").output().unwrap();

    // Assert
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(printed, served);
}

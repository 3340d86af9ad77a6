//! Credentials never show in `--help`: the admin token and the service URLs' passwords are
//! set in the environment, and the help text names the variables without their values.

use std::process::Command;

#[test]
fn serve_help_names_the_secret_variables_without_their_values() {
    let output = Command::new(env!("CARGO_BIN_EXE_edgecart"))
        .args(["serve", "--help"])
        .env("EDGECART_ADMIN_TOKEN", "admin-token-value-1234")
        .env(
            "EDGECART_DATABASE_URL",
            "postgres://edgecart:db-password-5678@db/edgecart",
        )
        .env(
            "EDGECART_REDIS_URL",
            "redis://:redis-password-9012@cache:6379",
        )
        .output()
        .expect("the edgecart binary runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "EDGECART_ADMIN_TOKEN",
        "EDGECART_DATABASE_URL",
        "EDGECART_REDIS_URL",
    ] {
        assert!(help.contains(variable), "{variable} is documented");
    }
    for secret in [
        "admin-token-value-1234",
        "db-password-5678",
        "redis-password-9012",
    ] {
        assert!(!help.contains(secret), "--help printed {secret}:\n{help}");
    }
}

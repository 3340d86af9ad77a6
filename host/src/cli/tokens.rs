//! `edgecart token issue`: an HS256 end-user token for local testing and the README's curl
//! examples, signed with the `EDGECART_JWT_HS256_SECRET` the server accepts.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

use crate::{config::Secret, domain::UserId};

/// `edgecart token` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Print a signed token for a user (HS256, with the server's secret).
    Issue(IssueToken),
}

/// What `edgecart token issue` signs.
#[derive(clap::Args, Debug)]
pub struct IssueToken {
    /// The user the token names (its `sub`).
    #[arg(long)]
    pub user: i64,
    /// How long it is valid: `90s`, `30m`, `1h`, `7d` or seconds.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// The shared secret the server accepts HS256 tokens with.
    #[arg(long, env = "EDGECART_JWT_HS256_SECRET", hide_env_values = true)]
    pub secret: Secret,
    /// The issuer to name (`iss`), as the server expects it.
    #[arg(long, env = "EDGECART_JWT_ISSUER")]
    pub issuer: Option<String>,
    /// The audience to name (`aud`), as the server expects it.
    #[arg(long, env = "EDGECART_JWT_AUDIENCE")]
    pub audience: Option<String>,
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The user id is not a positive integer.
    #[error("--user must be a positive integer")]
    User,
    /// The secret is empty.
    #[error("EDGECART_JWT_HS256_SECRET is empty")]
    Secret,
    /// Signing failed.
    #[error("the token could not be signed")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Runs a `token` subcommand, printing its result.
pub fn run(command: TokenCommand) -> Result<(), TokenError> {
    match command {
        TokenCommand::Issue(issue) => {
            println!("{}", issue.sign(now())?);
            Ok(())
        }
    }
}

impl IssueToken {
    /// The token, issued at `now` (Unix seconds).
    pub fn sign(&self, now: u64) -> Result<String, TokenError> {
        let user = UserId::new(self.user).map_err(|_| TokenError::User)?;
        if self.secret.expose().is_empty() {
            return Err(TokenError::Secret);
        }
        let mut claims = json!({
            "sub": user.get().to_string(),
            "iat": now,
            "exp": now + self.ttl.as_secs(),
        });
        if let Some(issuer) = &self.issuer {
            claims["iss"] = json!(issuer);
        }
        if let Some(audience) = &self.audience {
            claims["aud"] = json!(audience);
        }
        let key = EncodingKey::from_secret(self.secret.expose().as_bytes())?;
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &key)?)
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// `90s`, `30m`, `1h`, `7d`, or a number of seconds.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 30m, 1h or 7d"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    number
        .checked_mul(unit)
        .filter(|secs| *secs > 0)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_seconds() {
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_ttl("45"), Ok(Duration::from_secs(45)));
        for bad in ["", "h", "1w", "0", "-1h", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}

//! How this node reaches PostgreSQL: the database URL read once into tokio-postgres's config
//! and the rustls connector its `sslmode` asks for. Everything that connects (the pool,
//! database creation, the relay's `LISTEN` session) connects through a [`PgTarget`].
//!
//! `sslmode` follows libpq, within what tokio-postgres can do:
//! - `disable`: plain TCP.
//! - `prefer` (the default, as in libpq): TLS when the server accepts it, plain when it
//!   refuses; no certificate check. A failed handshake is an error: unlike libpq, no plain
//!   retry follows it (a downgrade is never silent).
//! - `require`: TLS, no certificate check; with `sslrootcert` it checks the chain, as libpq's
//!   `require` does when a root file exists.
//! - `verify-ca`: TLS, the chain checked against the roots; `verify-full`: and the host name
//!   (or IP address) checked too.
//!
//! The roots are the PEM file `sslrootcert` names (percent-encoded in the URL like any value),
//! or, without one or with `sslrootcert=system`, Mozilla's roots compiled in (not the system
//! store). tokio-postgres parses neither `verify-*` nor `sslrootcert`, so both are read here,
//! from URLs only (`postgres://…?sslmode=verify-full&sslrootcert=/path/ca.pem`); a key/value
//! connection string goes to tokio-postgres as it is.

use std::{borrow::Cow, path::PathBuf, str::FromStr};

use tokio_postgres::{Client, Config, Socket, config::SslMode, tls::MakeTlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tls::{self, TlsError, Verification};

/// A connection's driver, to be spawned (or polled, for notifications).
pub type PgConnection =
    tokio_postgres::Connection<Socket, <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream>;

/// The ALPN protocol PostgreSQL 17 requires with `sslnegotiation=direct` (older servers
/// ignore it).
const ALPN: &[u8] = b"postgresql";

/// Why a database URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// tokio-postgres refused the URL (or what is left of it once `sslmode=verify-*` and
    /// `sslrootcert` are taken out).
    #[error("invalid database URL")]
    Invalid(#[source] tokio_postgres::Error),
    /// The TLS configuration the URL asks for cannot be built (an unreadable `sslrootcert`).
    #[error("the database URL's TLS settings cannot be used")]
    Tls(#[from] TlsError),
}

/// A PostgreSQL server and database to connect to, and how.
#[derive(Clone)]
pub struct PgTarget {
    /// tokio-postgres's side: hosts, credentials, database, `sslmode` as it knows it.
    pub config: Config,
    /// The TLS connector (used only when `sslmode` is not `disable`).
    pub tls: MakeRustlsConnect,
}

impl PgTarget {
    /// Reads a database URL.
    pub fn from_url(url: &str) -> Result<Self, UrlError> {
        let TlsParams {
            url,
            verify,
            root_cert,
        } = TlsParams::take_from(url);
        let config = Config::from_str(&url).map_err(UrlError::Invalid)?;
        let verification = match (verify, config.get_ssl_mode(), &root_cert) {
            (Some(verification), _, _) => verification,
            (None, SslMode::Require, Some(_)) => Verification::Chain,
            (None, _, _) => Verification::None,
        };
        let mut tls = tls::client_config(verification, root_cert.as_deref())?.config;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        Ok(Self {
            config,
            tls: MakeRustlsConnect::new(tls),
        })
    }

    /// The same server with another database.
    pub fn with_database(&self, name: &str) -> Self {
        let mut other = self.clone();
        other.config.dbname(name);
        other
    }

    /// Opens one session; spawn (or poll) the returned connection.
    pub async fn connect(&self) -> Result<(Client, PgConnection), tokio_postgres::Error> {
        self.config.connect(self.tls.clone()).await
    }
}

/// What a URL says about TLS beyond what tokio-postgres reads, and the URL without it.
#[derive(Debug, PartialEq)]
struct TlsParams<'a> {
    /// The URL for tokio-postgres: `sslmode=verify-*` replaced by `require`, `sslrootcert`
    /// removed.
    url: Cow<'a, str>,
    /// The check `sslmode=verify-ca` or `verify-full` asks for.
    verify: Option<Verification>,
    /// The `sslrootcert` file (`None` for `system`).
    root_cert: Option<PathBuf>,
}

impl<'a> TlsParams<'a> {
    fn take_from(url: &'a str) -> Self {
        let untouched = Self {
            url: Cow::Borrowed(url),
            verify: None,
            root_cert: None,
        };
        let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
            return untouched;
        };
        let mut params = untouched;
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (&*decode(key), &*decode(value)) {
                ("sslrootcert", "system") => params.root_cert = None,
                ("sslrootcert", path) => params.root_cert = Some(PathBuf::from(path)),
                ("sslmode", "verify-ca") => {
                    params.verify = Some(Verification::Chain);
                    kept.push("sslmode=require");
                }
                ("sslmode", "verify-full") => {
                    params.verify = Some(Verification::Full);
                    kept.push("sslmode=require");
                }
                // The last `sslmode` wins, as in tokio-postgres.
                ("sslmode", _) => {
                    params.verify = None;
                    kept.push(pair);
                }
                _ => kept.push(pair),
            }
        }
        params.url = if kept.is_empty() {
            Cow::Borrowed(base)
        } else {
            Cow::Owned(format!("{base}?{}", kept.join("&")))
        };
        params
    }
}

/// A URL query key or value, percent-decoded.
fn decode(text: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_and_the_root_file_are_read_and_taken_out_of_the_url() {
        let params = TlsParams::take_from(
            "postgres://u:p@db:5432/app?application_name=x&sslmode=verify-full&sslrootcert=%2Ftmp%2Fmy%20ca.pem",
        );
        assert_eq!(
            params.url,
            "postgres://u:p@db:5432/app?application_name=x&sslmode=require"
        );
        assert_eq!(params.verify, Some(Verification::Full));
        assert_eq!(params.root_cert, Some(PathBuf::from("/tmp/my ca.pem")));

        let params =
            TlsParams::take_from("postgresql://db/app?sslrootcert=system&sslmode=verify-ca");
        assert_eq!(params.url, "postgresql://db/app?sslmode=require");
        assert_eq!(params.verify, Some(Verification::Chain));
        assert_eq!(params.root_cert, None);
    }

    #[test]
    fn modes_tokio_postgres_knows_pass_through() {
        for url in [
            "postgres://db/app",
            "postgres://db/app?sslmode=disable",
            "postgres://db/app?sslmode=require&connect_timeout=3",
            "host=db dbname=app sslmode=verify-full",
        ] {
            let params = TlsParams::take_from(url);
            assert_eq!(params.url, url);
            assert_eq!(params.verify, None);
        }
    }

    #[test]
    fn the_mode_decides_what_is_checked() {
        let target = |url| PgTarget::from_url(url).map(|t| t.config.get_ssl_mode());
        assert_eq!(target("postgres://db/app").ok(), Some(SslMode::Prefer));
        assert_eq!(
            target("postgres://db/app?sslmode=verify-full").ok(),
            Some(SslMode::Require)
        );
        assert!(matches!(
            target("postgres://db/app?sslmode=sometimes"),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(
            target("postgres://db/app?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem"),
            Err(UrlError::Tls(TlsError::Read { .. }))
        ));
    }
}

//! The public keys tokens are verified with: a JWKS document read from a file, or fetched from
//! the identity provider's URL at start and again, at most every
//! `EDGECART_JWT_JWKS_REFETCH_SECS` (30 s), when a token names a key id this node does not
//! hold. A failed refetch keeps the keys held, so an
//! identity provider that is down never stops a node that already has its keys.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey,
    jwk::{AlgorithmParameters, JwkSet},
};

/// How long one fetch of the key set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The JWKS file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The document is not a JWKS.
    #[error("not a JWKS document")]
    Parse(#[from] serde_json::Error),
    /// The JWKS URL could not be fetched.
    #[error("cannot fetch the JWKS")]
    Fetch(#[from] reqwest::Error),
    /// The key set holds no key edgecart can use (RSA, EC P-256 or Ed25519, for signing).
    #[error("the JWKS holds no usable signing key")]
    NoUsableKey,
}

/// One verification key.
pub struct Key {
    /// Its `kid`, if it has one.
    pub kid: Option<String>,
    /// The one algorithm it allows, when the JWK names one (`alg`).
    pub algorithm: Option<Algorithm>,
    /// The key itself.
    pub key: DecodingKey,
}

impl Key {
    /// Whether this key may verify a token signed with `alg`.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithm.is_none_or(|own| own == alg) && self.key.family() == alg.family()
    }
}

/// Where the keys come from.
enum Source {
    File,
    Url {
        url: String,
        client: reqwest::Client,
        every: Duration,
    },
}

/// The keys this node holds, and where to get them again.
pub struct KeyStore {
    source: Source,
    keys: ArcSwap<Vec<Key>>,
    last_fetch: Mutex<Instant>,
}

impl KeyStore {
    /// Reads the key set from `file`.
    pub fn from_file(file: &Path) -> Result<Self, KeysError> {
        let text = std::fs::read(file).map_err(|source| KeysError::Read {
            path: file.to_owned(),
            source,
        })?;
        Ok(Self {
            keys: ArcSwap::from_pointee(parse(&text)?),
            source: Source::File,
            last_fetch: Mutex::new(Instant::now()),
        })
    }

    /// Fetches the key set from `url`; the node does not start without it. It is fetched
    /// again at most `every`.
    pub async fn from_url(url: &str, every: Duration) -> Result<Self, KeysError> {
        let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?;
        let keys = fetch(&client, url).await?;
        Ok(Self {
            keys: ArcSwap::from_pointee(keys),
            source: Source::Url {
                url: url.to_owned(),
                client,
                every,
            },
            last_fetch: Mutex::new(Instant::now()),
        })
    }

    /// The keys held now.
    pub fn keys(&self) -> Arc<Vec<Key>> {
        self.keys.load_full()
    }

    /// Fetches the key set again, unless the last fetch was less than its interval ago or
    /// the keys come from a file; returns whether new keys were loaded. A failure keeps the
    /// keys held.
    pub async fn refetch(&self) -> bool {
        let Source::Url { url, client, every } = &self.source else {
            return false;
        };
        {
            let Ok(mut last) = self.last_fetch.lock() else {
                return false;
            };
            if last.elapsed() < *every {
                return false;
            }
            *last = Instant::now();
        }
        match fetch(client, url).await {
            Ok(keys) => {
                self.keys.store(Arc::new(keys));
                true
            }
            Err(error) => {
                tracing::warn!(error = %crate::telemetry::chain(&error), "could not refetch the JWKS; keeping the keys held");
                false
            }
        }
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<Key>, KeysError> {
    let body = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    parse(&body)
}

/// The usable signing keys of a JWKS document: RSA, EC and OKP keys; symmetric keys are
/// never taken from a key set (HS256 needs its own secret setting).
fn parse(document: &[u8]) -> Result<Vec<Key>, KeysError> {
    let set: JwkSet = serde_json::from_slice(document)?;
    let keys: Vec<Key> = set
        .keys
        .iter()
        .filter(|jwk| !matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)))
        .filter_map(|jwk| {
            let key = DecodingKey::from_jwk(jwk).ok()?;
            let algorithm = match jwk.common.key_algorithm {
                Some(alg) => Some(Algorithm::try_from(alg).ok()?),
                None => None,
            };
            (key.family() != AlgorithmFamily::Hmac).then(|| Key {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            })
        })
        .collect();
    if keys.is_empty() {
        return Err(KeysError::NoUsableKey);
    }
    Ok(keys)
}

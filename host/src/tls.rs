//! TLS for the connections this node opens to PostgreSQL and Redis: a rustls client
//! configuration on the ring provider (the one reqwest already brings, so nothing is built
//! twice), trusting the CA certificates of a PEM file or, without one, Mozilla's roots
//! (`webpki-roots`, compiled in, the same ones the webhook client trusts), and checking as
//! much of the server's certificate as the caller asks. It reads no setting and connects
//! nothing: the callers (`store::connect`, `redis`) say what to trust and how much to check.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::WebPkiSupportedAlgorithms,
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio::sync::watch;

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Nothing: the session is encrypted, but any certificate is accepted (libpq's
    /// `sslmode=require`). The handshake's signatures are still checked.
    None,
    /// The chain up to a trusted root, not the host name (`verify-ca`).
    Chain,
    /// The chain and the host name, or IP address, the client connects to (`verify-full`).
    Full,
}

/// Why no TLS configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file cannot be read, or is not PEM.
    #[error("cannot read the CA file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The CA file holds no certificate.
    #[error("the CA file {} holds no certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A certificate of the CA file cannot be a trust anchor.
    #[error("the CA file {} holds a certificate that cannot be trusted", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// Why webpki refused it.
        #[source]
        source: rustls::Error,
    },
    /// rustls refused the protocol versions.
    #[error("no TLS configuration could be built")]
    Config(#[source] rustls::Error),
    /// The certificate verifier could not be built.
    #[error("the certificate verifier could not be built")]
    Verifier(#[source] rustls::client::VerifierBuilderError),
}

/// A client configuration, and the certificates it refused.
pub struct ClientTls {
    /// The rustls configuration (ALPN unset: callers set their protocol).
    pub config: ClientConfig,
    /// The certificates the configuration refuses, as they are refused.
    pub refusals: Refusals,
}

/// Certificates refused by the handshakes of one [`ClientTls`], so a caller can tell a
/// certificate problem (a configuration error) from an outage while the connecting happens
/// somewhere it cannot see (in fred's reconnect loop).
#[derive(Clone, Debug)]
pub struct Refusals(watch::Receiver<Option<rustls::Error>>);

impl Refusals {
    /// The latest refusal not seen yet, waiting for one if there is none.
    pub async fn next(&mut self) -> rustls::Error {
        loop {
            if let Some(refused) = self.0.borrow_and_update().clone() {
                return refused;
            }
            if self.0.changed().await.is_err() {
                // The configuration is gone: nothing can be refused any more.
                return std::future::pending().await;
            }
        }
    }
}

/// A client configuration that checks what `verification` says against the certificates of
/// `ca_file` (PEM), or against Mozilla's roots when there is none.
pub fn client_config(
    verification: Verification,
    ca_file: Option<&Path>,
) -> Result<ClientTls, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = match verification {
        Verification::None => None,
        Verification::Chain | Verification::Full => {
            let roots = Arc::new(roots(ca_file)?);
            let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(TlsError::Verifier)?;
            Some(verifier)
        }
    };
    let (refused, refusals) = watch::channel(None);
    let verifier = Verifier {
        verification,
        webpki,
        algorithms: provider.signature_verification_algorithms,
        refused,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(ClientTls {
        config,
        refusals: Refusals(refusals),
    })
}

/// The trust anchors: every certificate of `ca_file`, or Mozilla's roots.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let Some(path) = ca_file else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let read = |source| TlsError::Read {
        path: path.to_owned(),
        source,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(read)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    let mut roots = RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|source| TlsError::Certificate {
                path: path.to_owned(),
                source,
            })?;
    }
    Ok(roots)
}

/// webpki's verifier, told to skip what [`Verification`] leaves out, and recording refusals.
#[derive(Debug)]
struct Verifier {
    verification: Verification,
    /// `None` with [`Verification::None`].
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    refused: watch::Sender<Option<rustls::Error>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain first and the name after it: a name error means the chain
        // was good.
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.verification == Verification::Chain => Ok(ServerCertVerified::assertion()),
            Err(refused) => {
                self.refused.send_replace(Some(refused.clone()));
                Err(refused)
            }
            Ok(verified) => Ok(verified),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

//! Certificates for the TLS tests, made at test time with rcgen (no network, no `openssl`): a
//! certificate authority of the test's own and the server certificate it signs for
//! `localhost` (the DNS name only, so a client connecting to `127.0.0.1` with a host-name
//! check refuses it), written as PEM files for the servers and the node to read.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A test CA and the `localhost` certificate it signed, in a temporary folder.
pub struct TestCa {
    dir: tempfile::TempDir,
}

impl TestCa {
    /// A fresh CA and its server certificate, nothing shared with any other [`TestCa`].
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::new()).expect("CA parameters");
        // A name of its own: a client that trusts another test CA must not mistake it for
        // this one (it would report a bad signature instead of an unknown issuer).
        let name = format!("edgecart test CA {}", uuid::Uuid::new_v4().simple());
        ca.distinguished_name.push(DnType::CommonName, name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_certificate = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned()]).expect("server parameters");
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_certificate = server
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        let dir = tempfile::tempdir().expect("temporary folder");
        let write = |name: &str, pem: String| {
            std::fs::write(dir.path().join(name), pem).expect("PEM file written");
        };
        write("ca.pem", ca_certificate.pem());
        write("server.crt", server_certificate.pem());
        write("server.key", server_key.serialize_pem());
        Self { dir }
    }

    /// The CA certificate (PEM), what a client trusts.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate (PEM), valid for `localhost`.
    pub fn cert_file(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    /// The server certificate's private key (PEM, PKCS#8).
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// Copies the server certificate and key into `dir` (`server.crt`, `server.key`), the key
    /// readable by its owner only, as PostgreSQL demands; returns their paths.
    pub fn install_server_files(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
        std::fs::copy(self.cert_file(), &cert).expect("certificate copied");
        std::fs::copy(self.key_file(), &key).expect("key copied");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .expect("key mode 0600");
        (cert, key)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

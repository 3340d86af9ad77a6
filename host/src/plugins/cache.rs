//! The on-disk cache of compiled plugin artifacts (`.cwasm`: native code that wasmtime loads
//! without checking it), trusted only for what this server's user wrote:
//!
//! - the directory must belong to the server's user and be writable by no one else (else the
//!   cache is off); a missing one is created with mode 0700;
//! - each artifact is stored behind an HMAC-SHA256 tag over its name (content hash and engine
//!   compatibility) and its bytes, under a 32-byte key kept beside the artifacts (mode 0600,
//!   made once from the OS CSPRNG, read once when the cache opens);
//! - a read returns the bytes only once the tag matches, so the caller deserializes exactly the
//!   bytes that were checked, never a path that could be swapped in between;
//! - writes go to an exclusively created temporary file with an unpredictable name, renamed
//!   into place.
//!
//! Knows nothing of wasmtime: it stores and checks bytes.

use std::{
    fs::{self, DirBuilder, File, OpenOptions},
    io::{self, Read, Write},
    os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of the MAC key, and of the tag in front of each artifact.
const KEY_BYTES: usize = 32;

/// The key's file name in the cache directory (artifacts end in `.cwasm`).
const KEY_FILE: &str = "artifacts.key";

/// A cache directory this server may trust, and the key its artifacts are tagged with.
pub(crate) struct ArtifactCache {
    dir: PathBuf,
    key: [u8; KEY_BYTES],
}

/// Why a cache directory is not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Untrusted {
    /// It could not be created, inspected or read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Not a directory.
    #[error("it is not a directory")]
    NotADirectory,
    /// Someone else's directory or key.
    #[error("{what} belongs to uid {owner}, not to this server's uid {uid}")]
    Owner {
        /// The directory or the key file.
        what: &'static str,
        /// Its owner.
        owner: u32,
        /// This process's effective uid.
        uid: u32,
    },
    /// Others may write (the directory) or read (the key) it.
    #[error("{what} has mode {mode:o}, open to group or others")]
    Mode {
        /// The directory or the key file.
        what: &'static str,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file is not a 32-byte regular file.
    #[error("the key file is not a regular file of 32 bytes")]
    BadKey,
}

impl ArtifactCache {
    /// Opens the cache in `dir`, creating the directory (mode 0700) and the key (mode 0600)
    /// when missing, and refusing a directory or key another user could have written.
    pub(crate) fn open(dir: &Path) -> Result<Self, Untrusted> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let meta = fs::metadata(dir)?;
        if !meta.is_dir() {
            return Err(Untrusted::NotADirectory);
        }
        ours_alone("the directory", &meta, 0o022)?;
        let key = read_or_create_key(&dir.join(KEY_FILE))?;
        Ok(Self {
            dir: dir.to_owned(),
            key,
        })
    }

    /// The artifact stored as `name`, when there is one and its tag matches; a file that fails
    /// the check is reported and treated as missing (the caller recompiles and rewrites it).
    pub(crate) fn read(&self, name: &str) -> Option<Vec<u8>> {
        let path = self.dir.join(name);
        let mut stored = match fs::read(&path) {
            Ok(stored) => stored,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read a cached plugin artifact");
                return None;
            }
        };
        let verified = stored.len() >= KEY_BYTES && {
            let (tag, artifact) = stored.split_at(KEY_BYTES);
            self.mac(name, artifact).verify_slice(tag).is_ok()
        };
        if !verified {
            tracing::warn!(path = %path.display(), "a cached plugin artifact fails its integrity check; recompiling");
            return None;
        }
        stored.drain(..KEY_BYTES);
        Some(stored)
    }

    /// Stores `artifact` as `name`, tagged: written to a new temporary file of an
    /// unpredictable name, then renamed into place, so that a reader never sees half a file.
    pub(crate) fn write(&self, name: &str, artifact: &[u8]) -> io::Result<()> {
        let tag = self.mac(name, artifact).finalize().into_bytes();
        let temporary = self.dir.join(format!(".{name}.{:016x}.tmp", random_u64()?));
        let written = create_exclusive(&temporary).and_then(|mut file| {
            file.write_all(&tag)?;
            file.write_all(artifact)?;
            file.sync_all()?;
            fs::rename(&temporary, self.dir.join(name))
        });
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    /// The MAC of an artifact: its name (length first, so name and bytes cannot be shifted
    /// into each other), then its bytes.
    fn mac(&self, name: &str, artifact: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(&(name.len() as u64).to_le_bytes());
        mac.update(name.as_bytes());
        mac.update(artifact);
        mac
    }
}

/// The key in `path`, made (from the OS CSPRNG) when there is none. A new key is written in
/// full to a temporary file first and then linked into place, which fails when another
/// server made one meanwhile: every server sharing the directory uses the same key.
fn read_or_create_key(path: &Path) -> Result<[u8; KEY_BYTES], Untrusted> {
    match read_key(path) {
        Err(Untrusted::Io(e)) if e.kind() == io::ErrorKind::NotFound => {}
        read => return read,
    }
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(io::Error::other)?;
    let temporary = path.with_extension(format!("{:016x}.tmp", random_u64()?));
    let written = create_exclusive(&temporary).and_then(|mut file| {
        file.write_all(&key)?;
        file.sync_all()?;
        fs::hard_link(&temporary, path)
    });
    let _ = fs::remove_file(&temporary);
    match written {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_key(path),
        Err(e) => Err(e.into()),
    }
}

/// The key in `path`, when it is this user's 32-byte regular file that no one else may read.
fn read_key(path: &Path) -> Result<[u8; KEY_BYTES], Untrusted> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() != KEY_BYTES as u64 {
        return Err(Untrusted::BadKey);
    }
    ours_alone("the key file", &meta, 0o077)?;
    let mut key = [0u8; KEY_BYTES];
    file.read_exact(&mut key)?;
    Ok(key)
}

/// Refuses what another user owns, or what has any of the `open` permission bits (what group
/// or others may do with it).
fn ours_alone(what: &'static str, meta: &fs::Metadata, open: u32) -> Result<(), Untrusted> {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Err(Untrusted::Owner {
            what,
            owner: meta.uid(),
            uid,
        });
    }
    if meta.mode() & open != 0 {
        return Err(Untrusted::Mode {
            what,
            mode: meta.mode() & 0o7777,
        });
    }
    Ok(())
}

/// A new file only this user may read or write; fails when the path exists (also as a link).
fn create_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// A random number from the OS CSPRNG, for names no one can guess ahead.
fn random_u64() -> io::Result<u64> {
    getrandom::u64().map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_missing_directory_is_made_private_with_a_private_key() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("a/b");
        ArtifactCache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let key = fs::metadata(dir.join(KEY_FILE)).unwrap();
        assert_eq!((key.mode() & 0o777, key.len()), (0o600, 32));
    }

    #[test]
    fn an_artifact_reads_back_only_under_its_own_name_and_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::open(dir.path()).unwrap();
        cache.write("a.cwasm", b"artifact a").unwrap();
        cache.write("b.cwasm", b"artifact b").unwrap();
        assert_eq!(cache.read("a.cwasm").as_deref(), Some(&b"artifact a"[..]));
        // Another artifact under this name, a flipped byte, a truncated file: all refused.
        fs::copy(dir.path().join("b.cwasm"), dir.path().join("a.cwasm")).unwrap();
        assert_eq!(cache.read("a.cwasm"), None);
        let mut stored = fs::read(dir.path().join("b.cwasm")).unwrap();
        *stored.last_mut().unwrap() ^= 1;
        fs::write(dir.path().join("b.cwasm"), &stored).unwrap();
        assert_eq!(cache.read("b.cwasm"), None);
        fs::write(dir.path().join("b.cwasm"), &stored[..10]).unwrap();
        assert_eq!(cache.read("b.cwasm"), None);
        assert_eq!(cache.read("missing.cwasm"), None);
        // Nothing but the key and the two artifacts: no temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn the_key_is_made_once_and_shared_by_every_opener() {
        let dir = tempfile::tempdir().unwrap();
        let first = ArtifactCache::open(dir.path()).unwrap();
        first.write("a.cwasm", b"artifact").unwrap();
        let second = ArtifactCache::open(dir.path()).unwrap();
        assert_eq!(second.read("a.cwasm").as_deref(), Some(&b"artifact"[..]));
    }

    #[test]
    fn a_directory_others_may_write_or_a_readable_key_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o770)).unwrap();
        assert!(matches!(
            ArtifactCache::open(dir.path()),
            Err(Untrusted::Mode { mode: 0o770, .. })
        ));
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        ArtifactCache::open(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            ArtifactCache::open(dir.path()),
            Err(Untrusted::Mode { mode: 0o644, .. })
        ));
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&key, b"short").unwrap();
        assert!(matches!(
            ArtifactCache::open(dir.path()),
            Err(Untrusted::BadKey)
        ));
    }
}

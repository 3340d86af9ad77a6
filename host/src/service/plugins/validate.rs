//! What a plugin's name and version may be: `[a-z0-9-]{1,64}` and a semantic version. A name
//! or version no plugin can have is simply not found, and never reaches PostgreSQL.

use super::super::Error;

/// A name no plugin can have is simply not found (and never reaches PostgreSQL).
pub(super) fn existing_name(name: &str) -> Result<(), Error> {
    valid_name(name).map_err(|_| Error::PluginNotFound)
}

/// A version no plugin can have is simply not found.
pub(super) fn existing_version(version: &str) -> Result<(), Error> {
    valid_version(version).map_err(|_| Error::PluginVersionNotFound)
}

/// `[a-z0-9-]{1,64}`.
pub(super) fn valid_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidPluginRequest(
            "a plugin name is 1 to 64 of a-z, 0-9 and -".into(),
        ))
    }
}

/// A semantic version (`MAJOR.MINOR.PATCH`, optional pre-release and build).
pub(super) fn valid_version(version: &str) -> Result<(), Error> {
    if version.len() <= 64 && semver::Version::parse(version).is_ok() {
        Ok(())
    } else {
        Err(Error::InvalidPluginRequest(
            "a version is a semantic version such as 1.2.0".into(),
        ))
    }
}

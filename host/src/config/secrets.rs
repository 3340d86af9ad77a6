//! Settings that must never show: [`Secret`] (tokens, shared keys) and [`ServiceUrl`] (a URL
//! whose password is hidden wherever it is displayed).

use std::fmt;

/// A secret string that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret's value, for the one place that compares it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A service URL (PostgreSQL, Redis) that may carry a password: `Display` and `Debug` show
/// it as `***`, so logs and error messages never carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    /// The URL as given, password included, for the one place that connects with it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for ServiceUrl {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for ServiceUrl {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl std::str::FromStr for ServiceUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.0;
        // scheme://user:password@host…: everything between the first ':' of the user info and
        // its '@' is the password.
        let Some(authority) = url.find("://").map(|i| i + 3) else {
            return f.write_str(url);
        };
        let end = url[authority..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| authority + i);
        let Some(at) = url[authority..end].rfind('@').map(|i| authority + i) else {
            return f.write_str(url);
        };
        match url[authority..at].find(':').map(|i| authority + i) {
            Some(colon) => write!(f, "{}:***{}", &url[..colon], &url[at..]),
            None => f.write_str(url),
        }
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls_hide_their_password_when_shown() {
        let url = ServiceUrl::from("postgres://edgecart:s3cr:et@db.local:5432/edgecart?x=@y");
        assert_eq!(
            url.to_string(),
            "postgres://edgecart:***@db.local:5432/edgecart?x=@y"
        );
        assert_eq!(
            format!("{url:?}"),
            "ServiceUrl(postgres://edgecart:***@db.local:5432/edgecart?x=@y)"
        );
        assert!(url.expose().contains("s3cr:et"));
        for plain in ["redis://127.0.0.1:6379", "redis://user@host/0", "not a url"] {
            assert_eq!(ServiceUrl::from(plain).to_string(), plain);
        }
    }

    #[test]
    fn secrets_never_show_in_debug() {
        assert_eq!(
            format!("{:?}", Secret::from("token".to_owned())),
            "Secret(***)"
        );
    }
}

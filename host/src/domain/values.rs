//! Small validated values shared by the layers: ids, idempotency keys and page requests.
//! Each `parse` enforces its invariant once, so code that holds one never checks again.
//! Nothing here knows about HTTP or SQL.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

/// A value that failed its invariant; the caller knows which field it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid value")]
pub struct Invalid;

/// Parses a positive 64-bit id written in decimal (no sign, no spaces).
fn parse_positive_id(text: &str) -> Result<i64, Invalid> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid);
    }
    match text.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(Invalid),
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Parses a path segment: a positive decimal integer that fits in 64 bits.
            pub fn parse(text: &str) -> Result<Self, Invalid> {
                parse_positive_id(text).map(Self)
            }

            /// Accepts an id that is already a number, if it is positive.
            pub fn new(id: i64) -> Result<Self, Invalid> {
                if id > 0 { Ok(Self(id)) } else { Err(Invalid) }
            }

            /// The raw id.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The id of a user.
    UserId
);
id_type!(
    /// The id of a product.
    ProductId
);
id_type!(
    /// The id of an order.
    OrderId
);

/// The longest accepted idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Accepts 1 to 255 bytes, each a visible ASCII character (`!` to `~`).
    pub fn parse(bytes: &[u8]) -> Result<Self, Invalid> {
        let visible = bytes.iter().all(|b| (0x21..=0x7e).contains(b));
        if bytes.is_empty() || bytes.len() > MAX_IDEMPOTENCY_KEY_LEN || !visible {
            return Err(Invalid);
        }
        // Visible ASCII is valid UTF-8.
        String::from_utf8(bytes.to_vec())
            .map(Self)
            .map_err(|_| Invalid)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The default and largest page sizes of list endpoints.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: i64 = 100;

/// A request for one page of a list ordered by id: how many items, and after which id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// Items to return, 1 to [`MAX_PAGE_SIZE`].
    pub limit: i64,
    /// The id the previous page ended at, if any.
    pub after: Option<i64>,
}

impl PageRequest {
    /// Validates `?limit=` and `?cursor=`; both are optional.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => return Err(PageError::Limit),
            },
        };
        // An empty `?cursor=` means "from the start", like no cursor at all.
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(Cursor::decode)
            .transpose()
            .map_err(|_| PageError::Cursor)?;
        Ok(Self {
            limit,
            after: after.map(|c| c.0),
        })
    }
}

/// Which page parameter was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `limit` is not an integer from 1 to 100.
    #[error("invalid limit")]
    Limit,
    /// `cursor` was not produced by this server.
    #[error("invalid cursor")]
    Cursor,
}

/// An opaque pagination cursor: the last id of a page, base64url-encoded so clients treat it
/// as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The text a client sends back.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("id:{}", self.0))
    }

    /// Reads a cursor made by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, Invalid> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| Invalid)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| Invalid)?;
        let id = text.strip_prefix("id:").ok_or(Invalid)?;
        parse_positive_id(id).map(Self)
    }
}

/// One page of a list and the cursor of the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says that more exist.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id_of: impl Fn(&T) -> i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| Cursor(id_of(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_positive_decimal_and_fit_in_i64() {
        assert_eq!(UserId::parse("25").map(UserId::get), Ok(25));
        assert_eq!(
            UserId::parse("9223372036854775807").map(UserId::get),
            Ok(i64::MAX)
        );
        for bad in [
            "0",
            "-1",
            "+1",
            "",
            " 1",
            "1.0",
            "abc",
            "9223372036854775808",
            "0x10",
        ] {
            assert_eq!(UserId::parse(bad), Err(Invalid), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn idempotency_keys_are_one_to_255_visible_ascii_bytes() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_err());
        assert!(IdempotencyKey::parse(b"with space").is_err());
        assert!(IdempotencyKey::parse(b"tab\there").is_err());
        assert!(IdempotencyKey::parse("한글".as_bytes()).is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        for id in [1, 42, i64::MAX] {
            assert_eq!(Cursor::decode(&Cursor(id).encode()), Ok(Cursor(id)));
        }
        assert!(Cursor::decode("42").is_err());
        assert!(Cursor::decode("!!!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("id:-3")).is_err());
    }

    #[test]
    fn pages_carry_a_cursor_only_when_more_rows_exist() {
        let full = Page::from_rows(vec![5, 4, 3], 2, |n| *n);
        assert_eq!(full.items, vec![5, 4]);
        assert_eq!(full.next_cursor, Some(Cursor(4)));
        let last = Page::from_rows(vec![5, 4], 2, |n| *n);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn page_limits_are_bounded() {
        assert_eq!(
            PageRequest::parse(None, None).map(|p| p.limit),
            Ok(DEFAULT_PAGE_SIZE)
        );
        assert_eq!(
            PageRequest::parse(Some("100"), None).map(|p| p.limit),
            Ok(100)
        );
        assert_eq!(PageRequest::parse(Some("0"), None), Err(PageError::Limit));
        assert_eq!(PageRequest::parse(Some("101"), None), Err(PageError::Limit));
        assert_eq!(PageRequest::parse(Some("x"), None), Err(PageError::Limit));
        assert_eq!(PageRequest::parse(None, Some("zz")), Err(PageError::Cursor));
        assert_eq!(
            PageRequest::parse(None, Some("")).map(|p| p.after),
            Ok(None)
        );
    }
}

/// Who calls the user-facing API, as authentication found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No end-user identity (`EDGECART_AUTH=none`): may act for any user.
    Anyone,
    /// This user, proven by a token.
    User(UserId),
}

impl Caller {
    /// Whether the caller may act for `user`.
    pub fn may_act_for(self, user: UserId) -> bool {
        match self {
            Caller::Anyone => true,
            Caller::User(own) => own == user,
        }
    }

    /// The user the caller is, when a token says so.
    pub fn user(self) -> Option<UserId> {
        match self {
            Caller::Anyone => None,
            Caller::User(user) => Some(user),
        }
    }
}

//! Who operates the admin API: an [`Operator`] with a [`Role`], and the [`AuditEntry`] each of
//! their changes leaves.

use chrono::{DateTime, Utc};

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Every GET of the admin API.
    Viewer,
    /// A viewer, plus every plugin call.
    Editor,
    /// Everything, including users, products and tokens.
    Admin,
}

impl Role {
    /// The stored and written name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Role::Viewer, Role::Editor, Role::Admin]
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or(UnknownRole)
    }
}

/// Not one of the role names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown role (expected viewer, editor or admin)")]
pub struct UnknownRole;

/// An authenticated admin identity: the bootstrap token's `admin`, or a named token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The token's name: the audit log's `actor`.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Operator {
    /// The server itself, for what it does on its own (registering the default plugins,
    /// seeding demo data).
    pub fn system() -> Self {
        Self {
            name: "edgecart".into(),
            role: Role::Admin,
        }
    }
}

/// One admin change, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Row id; newer entries have larger ids.
    pub id: i64,
    /// When the change committed.
    pub at: DateTime<Utc>,
    /// Who made it.
    pub actor: String,
    /// What was done, e.g. `product.update`.
    pub action: String,
    /// What it was done to, e.g. `product:25`.
    pub target: String,
    /// The state before (absent for a creation).
    pub before: Option<serde_json::Value>,
    /// The state after (absent for a removal).
    pub after: Option<serde_json::Value>,
}

/// A named admin token as listed (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedToken {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below_them() {
        assert!(Role::Admin.allows(Role::Editor) && Role::Admin.allows(Role::Viewer));
        assert!(Role::Editor.allows(Role::Viewer) && !Role::Editor.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Editor));
        assert_eq!("editor".parse(), Ok(Role::Editor));
        assert_eq!("root".parse::<Role>(), Err(UnknownRole));
    }
}

//! The bounded label values of the metrics, as enums: a caller can only pass a value that
//! exists here, so no series is ever created from free text.

/// Declares a label enum with its text values and an `ALL` list.
macro_rules! label {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value (series that exist from the start, at zero).
            #[allow(dead_code, reason = "only some labels create their series up front")]
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The label value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }
    };
}

label! {
    /// A dependency of the node, as readiness and `edgecart_dependency_up` name it.
    Dependency {
        /// PostgreSQL.
        Postgres => "postgres",
        /// Redis.
        Redis => "redis",
        /// The plugins in force (loaded or not).
        Plugins => "plugins",
    }
}

label! {
    /// Why an order was refused.
    RejectReason {
        /// A product had fewer units than ordered.
        OutOfStock => "out_of_stock",
        /// The balance did not cover the order.
        InsufficientBalance => "insufficient_balance",
        /// The client's amount differed from the server's total.
        PaymentAmountMismatch => "payment_amount_mismatch",
        /// A rule refused it.
        Rule => "rule",
        /// A product does not exist.
        ProductNotFound => "product_not_found",
        /// The user does not exist.
        UserNotFound => "user_not_found",
        /// The order was malformed.
        Invalid => "invalid",
        /// Any other client error.
        Other => "other",
    }
}

label! {
    /// How a PostgreSQL transaction ended.
    TxResult {
        /// Committed.
        Commit => "commit",
        /// Failed and will be tried again (serialization failure, deadlock).
        Retry => "retry",
        /// Failed for good.
        Error => "error",
    }
}

label! {
    /// What became of a request with an `Idempotency-Key`.
    IdempotencyOutcome {
        /// First seen: the work ran.
        Fresh => "fresh",
        /// A finished answer was sent again.
        Replayed => "replayed",
        /// Another request with the key was in flight.
        InUse => "in_use",
        /// The key was used for another request.
        Reused => "reused",
    }
}

label! {
    /// An in-flight idempotency marker removed without its request's answer.
    MarkerOutcome {
        /// Its node was gone: a retry took it over and PostgreSQL decided.
        TakenOver => "taken_over",
        /// Its request was dropped before answering (client gone, deadline passed).
        Released => "released",
    }
}

label! {
    /// How a charge ended.
    ChargeResult {
        /// Points were added.
        Applied => "applied",
        /// A rule or a check refused it.
        Rejected => "rejected",
    }
}

label! {
    /// An in-process cache.
    Cache {
        /// The popular-products list.
        Popular => "popular",
        /// Product details.
        Product => "product",
        /// Pages of the product list.
        ProductList => "product_list",
    }
}

label! {
    /// How a shadow run compared with the active version.
    ShadowResult {
        /// The same decision.
        Agree => "agree",
        /// Another decision.
        Disagree => "disagree",
        /// The shadow version failed.
        Failed => "failed",
        /// The queue was full; the run was dropped.
        Dropped => "dropped",
    }
}

label! {
    /// What became of a live call picked to be recorded as a run.
    RunRecording {
        /// Written to PostgreSQL.
        Recorded => "recorded",
        /// The queue was full; not recorded.
        Dropped => "dropped",
        /// Writing its batch failed; not recorded.
        Failed => "failed",
    }
}

label! {
    /// What the notification consumer did with an event.
    ConsumerResult {
        /// Notified.
        Processed => "processed",
        /// Already notified before: skipped.
        Duplicate => "duplicate",
        /// The sink failed; it will be tried again.
        Retried => "retried",
        /// Every attempt failed: moved to the dead-letter stream.
        DeadLettered => "dead_lettered",
    }
}

label! {
    /// A state of the PostgreSQL pool's connections.
    PoolState {
        /// Connections open.
        Size => "size",
        /// Open and idle.
        Available => "available",
        /// Lent to a request.
        InUse => "in_use",
        /// Requests waiting for one.
        Waiting => "waiting",
    }
}

/// What became of an order, for `edgecart_orders_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderOutcome {
    /// Placed and paid.
    Paid,
    /// Cancelled (stock and points returned).
    Cancelled,
    /// Refused, and why.
    Rejected(RejectReason),
}

impl OrderOutcome {
    /// The `result` and `reason` label values (`reason` is empty unless rejected).
    pub fn labels(self) -> [&'static str; 2] {
        match self {
            OrderOutcome::Paid => ["paid", ""],
            OrderOutcome::Cancelled => ["cancelled", ""],
            OrderOutcome::Rejected(reason) => ["rejected", reason.as_str()],
        }
    }
}

/// How a plugin call ended, for [`super::PluginCalls::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// The plugin accepted (or priced).
    Accept,
    /// The plugin rejected.
    Reject,
    /// The call failed; the failure kind (`trap`, `fuel`, `time`, `memory`, `contract`).
    Failure(&'static str),
}

//! Insights: how invitations turn into members (issue 14, `shared/api.md` "Insights").

use super::*;

/// Longest period an insights query may cover, in days.
pub const MAX_INSIGHTS_DAYS: i64 = 366;

/// The period and filters of every insights query. `since` defaults to 30 days before `until`,
/// `until` to now; the period is at most 366 days (422 `until` `out_of_range` otherwise, or
/// when `until` is not after `since`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct InsightsQuery {
    /// Start of the period, inclusive (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Only invitations into this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Only invitations issued by this actor (a user or an API key id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_id: Option<String>,
}

/// `GET /api/v1/insights/funnel`: what became of the invitations created in the period (the
/// owner invitation excluded). Each count is of invitations, not of events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"created": 120, "delivered": 96, "opened": 81, "accepted": 64, "expired": 20, "revoked": 4, "declined": 2, "median_seconds_to_accept": 5400.0})))]
pub struct Funnel {
    /// Invitations created in the period.
    pub created: u64,
    /// Of those, whose email the mail server accepted (or that was written to a file).
    pub delivered: u64,
    /// Opened: verified at least once, or used (no tracking pixels, no rewritten links).
    pub opened: u64,
    /// Used at least once (an account registered or a membership accepted with it).
    pub accepted: u64,
    /// Never used, not revoked, and past their expiry.
    pub expired: u64,
    /// Revoked by an inviter or an administrator (declined ones not included).
    pub revoked: u64,
    /// Declined by the invitee.
    pub declined: u64,
    /// Median time from creation to acceptance, in seconds (a single-use invitation is accepted
    /// at its use, a counted one at its last); null when none was accepted.
    pub median_seconds_to_accept: Option<f64>,
}

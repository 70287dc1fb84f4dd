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

/// What a time series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InsightsMetric {
    /// Accounts created (by the inviter, or with an invitation into the organisation, when
    /// filtered).
    Registrations,
    /// Invitations created (the owner invitation never counts).
    InvitationsCreated,
    /// Refused attempts: every audited failure (links, registrations, sign-ins, credentials)
    /// but security alerts, each forged link counted; with a filter, only those aimed at the
    /// filtered invitations.
    FailedAttempts,
}

/// The width of a time series' buckets, aligned on UTC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InsightsInterval {
    /// One bucket per UTC day.
    #[default]
    Day,
    /// One bucket per hour.
    Hour,
}

/// `GET /api/v1/insights/timeseries`: the period and filters of [`InsightsQuery`], plus the
/// metric and the bucket width (default `day`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct TimeseriesQuery {
    /// What to count.
    pub metric: InsightsMetric,
    /// Bucket width; `day` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<InsightsInterval>,
    /// Start of the period, inclusive (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Only this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Only this inviter (a user or an API key id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_id: Option<String>,
}

impl TimeseriesQuery {
    /// A query for `metric` by day over the default period.
    pub fn new(metric: InsightsMetric) -> Self {
        Self {
            metric,
            interval: None,
            since: None,
            until: None,
            organization_id: None,
            inviter_id: None,
        }
    }

    /// The period and filters alone.
    pub fn filters(&self) -> InsightsQuery {
        InsightsQuery {
            since: self.since,
            until: self.until,
            organization_id: self.organization_id.clone(),
            inviter_id: self.inviter_id.clone(),
        }
    }
}

/// One bucket of a time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimeseriesPoint {
    /// Start of the bucket (UTC, on the day or hour).
    pub t: DateTime<Utc>,
    /// The count in `[t, t + interval)`, clipped to the period.
    pub value: u64,
}

/// A time series: one point per bucket from the one holding `since` to the one before
/// `until`, zero-filled (a day without events is a point with `value` 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"metric": "registrations", "interval": "day", "points": [{"t": "2026-12-01T00:00:00Z", "value": 4}, {"t": "2026-12-02T00:00:00Z", "value": 0}]})))]
pub struct Timeseries {
    /// What was counted.
    pub metric: InsightsMetric,
    /// The bucket width.
    pub interval: InsightsInterval,
    /// The buckets, oldest first.
    pub points: Vec<TimeseriesPoint>,
}

/// Default `limit` of the inviter ranking.
pub const INVITERS_DEFAULT_LIMIT: u32 = 10;
/// Largest `limit` of the inviter ranking.
pub const INVITERS_MAX_LIMIT: u32 = 100;

/// `GET /api/v1/insights/inviters`: the period and filters of [`InsightsQuery`], plus how many
/// inviters to rank (1–100, default 10; 422 `limit` `out_of_range` otherwise).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct InvitersQuery {
    /// How many inviters, 1–100 (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Start of the period, inclusive (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Only this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Only this inviter (a user or an API key id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_id: Option<String>,
}

impl InvitersQuery {
    /// The period and filters alone.
    pub fn filters(&self) -> InsightsQuery {
        InsightsQuery {
            since: self.since,
            until: self.until,
            organization_id: self.organization_id.clone(),
            inviter_id: self.inviter_id.clone(),
        }
    }
}

/// Who sent invitations: a user or an API key, with a name to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Inviter {
    /// `user` or `api_key`.
    #[serde(rename = "type")]
    pub kind: crate::model::ActorType,
    /// The user's or key's id.
    pub id: String,
    /// The user's display name (their email when they have none) or the key's name; null when
    /// the account or key is gone.
    pub display_name: Option<String>,
}

/// One inviter's figures in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InviterFigures {
    /// Who.
    pub inviter: Inviter,
    /// Invitations they created in the period.
    pub sent: u64,
    /// Of those, used at least once.
    pub accepted: u64,
}

/// The inviters ranked by accepted invitations, then by sent ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"data": [{"inviter": {"type": "user", "id": "01936b2e-0000-7000-8000-000000000001", "display_name": "Ann Lee"}, "sent": 12, "accepted": 9}]})))]
pub struct InviterRanking {
    /// Best first.
    pub data: Vec<InviterFigures>,
}

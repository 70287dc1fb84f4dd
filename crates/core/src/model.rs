//! Domain enums shared by every layer. Each serialises as the snake_case string of the API.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "server", derive(diesel::AsExpression, diesel::FromSqlRow))]
        #[cfg_attr(feature = "server", diesel(sql_type = diesel::sql_types::Text))]
        pub enum $name { $($(#[$vmeta])* #[doc = concat!("`", $text, "` in the API.")] #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The API string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownValue(s.chars().take(40).collect())) }
            }
        }

        // Stored as its API string in a text column, on every backend.
        #[cfg(feature = "server")]
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        #[cfg(feature = "server")]
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                Ok(text.parse::<$name>()?)
            }
        }
    };
}

pub(crate) use string_enum;

/// A string that names no value of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

string_enum! {
    /// What an account may do. Admins manage everything; members invite within their quota.
    Role { Member => "member", Admin => "admin" }
}

string_enum! {
    /// Who may create an account.
    SignupMode {
        /// Only holders of an invitation (or allowlisted emails) may register.
        InviteOnly => "invite_only",
        /// Anyone may register after verifying their email.
        Open => "open",
        /// Nobody may register, invitation or not.
        Closed => "closed",
    }
}

string_enum! {
    /// Lifecycle of an invitation: pending → accepted / expired / revoked.
    InvitationState { Pending => "pending", Accepted => "accepted", Expired => "expired", Revoked => "revoked", Declined => "declined" }
}

string_enum! {
    /// The kind of actor that did something.
    ActorType { User => "user", ApiKey => "api_key", System => "system" }
}

string_enum! {
    /// Where an outbox item is: waiting for (another) attempt, delivered, or given up after
    /// its last attempt.
    OutboxStatus { Pending => "pending", Sent => "sent", Dead => "dead" }
}

string_enum! {
    /// A member's role in an organisation: owners and admins manage it and invite into it;
    /// owners cannot all leave (the last one stays).
    OrganizationRole { Owner => "owner", Admin => "admin", Member => "member" }
}

string_enum! {
    /// What an organisation's email domain does for accounts at it: nothing automatic
    /// (`invite_only`), a "Join Acme?" suggestion and a join request an admin approves
    /// (`suggest`), or membership once the address is verified, sign-up without an invitation
    /// included (`auto_join`).
    DomainPolicy { InviteOnly => "invite_only", Suggest => "suggest", AutoJoin => "auto_join" }
}

string_enum! {
    /// Where a request to join an organisation stands.
    JoinRequestState { Pending => "pending", Approved => "approved", Rejected => "rejected" }
}

string_enum! {
    /// What an outbox item delivers.
    OutboxKind { Email => "email", Webhook => "webhook" }
}

string_enum! {
    /// What let an account be created: an invitation, the allowlist, or open sign-up.
    RegistrationBasis {
        Invitation => "invitation",
        Allowlist => "allowlist",
        Open => "open",
        OrganizationDomain => "organization_domain",
    }
}

string_enum! {
    /// Whether an audited action succeeded.
    Outcome { Success => "success", Failure => "failure" }
}

string_enum! {
    /// Permission carried by an API key; `admin` implies all others.
    Scope {
        InvitationsRead => "invitations:read",
        InvitationsWrite => "invitations:write",
        UsersRead => "users:read",
        UsersWrite => "users:write",
        AuditRead => "audit:read",
        SettingsWrite => "settings:write",
        OrganizationsRead => "organizations:read",
        OrganizationsWrite => "organizations:write",
        InvitationsRedeem => "invitations:redeem",
        Admin => "admin",
    }
}

string_enum! {
    /// What the web app does next with an authorization request.
    AuthorizeStatus {
        /// Navigate to `redirect_to` (the client's redirect URI with a code or an error).
        Redirect => "redirect",
        /// Show the sign-in form ("Continue to <client>"), then ask again.
        SignIn => "sign_in",
        /// Show how to create an account (`prompt=create`): by invitation only.
        CreateAccount => "create_account",
    }
}

string_enum! {
    /// The audited actions; webhook event types use the same names.
    AuditAction {
        InvitationCreated => "invitation.created",
        InvitationRevoked => "invitation.revoked",
        InvitationResent => "invitation.resent",
        InvitationVerified => "invitation.verified",
        InvitationRedeemed => "invitation.redeemed",
        InvitationExpired => "invitation.expired",
        RegistrationSucceeded => "registration.succeeded",
        RegistrationRejected => "registration.rejected",
        RegistrationPending => "registration.pending",
        EmailVerified => "email.verified",
        LoginSucceeded => "login.succeeded",
        LoginFailed => "login.failed",
        PasswordResetRequested => "password_reset.requested",
        PasswordResetCompleted => "password_reset.completed",
        Logout => "logout",
        UserDisabled => "user.disabled",
        UserEnabled => "user.enabled",
        UserRoleChanged => "user.role_changed",
        UserUpdated => "user.updated",
        UserDeleted => "user.deleted",
        UserPasswordChanged => "user.password_changed",
        SessionRevoked => "session.revoked",
        ApiKeyCreated => "api_key.created",
        ApiKeyRevoked => "api_key.revoked",
        SettingsUpdated => "settings.updated",
        WebhookCreated => "webhook.created",
        WebhookDeleted => "webhook.deleted",
        SecurityAlert => "security.alert",
        AuthenticationFailed => "authentication.failed",
        InvitationAccepted => "invitation.accepted",
        InvitationDeclined => "invitation.declined",
        OrganizationCreated => "organization.created",
        OrganizationUpdated => "organization.updated",
        MembershipCreated => "membership.created",
        MembershipRoleChanged => "membership.role_changed",
        MembershipRemoved => "membership.removed",
        InvitationProofRequested => "invitation.proof_requested",
        OrganizationDomainAdded => "organization.domain_added",
        OrganizationDomainRemoved => "organization.domain_removed",
        JoinRequestCreated => "join_request.created",
        JoinRequestApproved => "join_request.approved",
        JoinRequestRejected => "join_request.rejected",
        OauthClientCreated => "oauth_client.created",
        OauthClientDeleted => "oauth_client.deleted",
        OauthAuthorizationGranted => "oauth.authorization_granted",
        OauthCodeReused => "oauth.code_reused",
    }
}

/// A reference to an actor or a target: `{"type": "user", "id": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"type": "api_key", "id": "01936b30-0000-7abc-8def-0123456789ab"})))]
pub struct ActorRef {
    /// Kind of actor.
    #[serde(rename = "type")]
    pub kind: ActorType,
    /// Its id (UUIDv7 text; `system` for the server itself).
    pub id: String,
}

/// A reference to the object an audit event is about, e.g. `{"type": "invitation", "id": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"type": "invitation", "id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f"})))]
pub struct TargetRef {
    /// Kind of object: `invitation`, `user`, `api_key`, `settings`, `ip`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

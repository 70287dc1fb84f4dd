//! The settings in force: configured defaults overridden by stored values, and the rules of a
//! change.

use crate::config::{Config, normalize_allowlist_entry};
use crate::error::FieldErrors;
use crate::storage::{self, DbConn};
use invitegate_core::Email;
use invitegate_core::FieldCode;
use invitegate_core::api::{SettingsPatch, SettingsView};
use invitegate_core::model::SignupMode;

/// Most allowlist entries.
pub const MAX_ALLOWLIST: usize = 1000;

/// The settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeSettings {
    /// Who may register.
    pub signup_mode: SignupMode,
    /// Default invitation lifetime in days.
    pub invite_link_expiry: i64,
    /// Member quota.
    pub max_invites_per_user: u32,
    /// Normalised domains and addresses that bypass the invitation.
    pub allowlist: Vec<String>,
}

impl RuntimeSettings {
    /// The configured defaults.
    pub fn from_config(c: &Config) -> Self {
        Self {
            signup_mode: c.initial_signup_mode(),
            invite_link_expiry: c.invite_link_expiry,
            max_invites_per_user: c.max_invites_per_user,
            allowlist: c
                .invitation_whitelist_emails
                .iter()
                .filter_map(|e| normalize_allowlist_entry(e))
                .collect(),
        }
    }

    /// The sign-up mode in force when `stored` is the stored `signup_mode` value (JSON text,
    /// as `settings` holds it) read elsewhere, e.g. in an invitation lookup's statement: the
    /// configured default when nothing is stored or the value names no mode, as [`Self::load`].
    pub fn signup_mode_of(c: &Config, stored: Option<&str>) -> SignupMode {
        stored
            .and_then(|v| serde_json::from_str::<String>(v).ok())
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| c.initial_signup_mode())
    }

    /// Defaults overridden by the stored values.
    pub fn load(conn: &mut DbConn, c: &Config) -> crate::storage::DbResult<Self> {
        let mut s = Self::from_config(c);
        for (key, value) in storage::settings::all(conn)? {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&value) else {
                continue;
            };
            match key.as_str() {
                storage::settings::SIGNUP_MODE => {
                    if let Some(m) = v.as_str().and_then(|m| m.parse().ok()) {
                        s.signup_mode = m;
                    }
                }
                "invite_link_expiry" => {
                    s.invite_link_expiry = v.as_i64().unwrap_or(s.invite_link_expiry)
                }
                "max_invites_per_user" => {
                    s.max_invites_per_user = v
                        .as_u64()
                        .map(|n| n as u32)
                        .unwrap_or(s.max_invites_per_user)
                }
                "invitation_whitelist_emails" => {
                    if let Ok(list) = serde_json::from_value::<Vec<String>>(v) {
                        s.allowlist = list;
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Whether `email` (or its domain) is on the allowlist.
    pub fn allows(&self, email: &Email) -> bool {
        self.allowlist
            .iter()
            .any(|e| e == email.as_str() || e == email.domain())
    }

    /// The API view.
    pub fn view(&self) -> SettingsView {
        SettingsView {
            enable_invite_only: self.signup_mode == SignupMode::InviteOnly,
            signup_mode: self.signup_mode,
            invite_link_expiry: self.invite_link_expiry,
            max_invites_per_user: self.max_invites_per_user,
            invitation_whitelist_emails: self.allowlist.clone(),
        }
    }

    /// Applies a patch, validating every field.
    pub fn patched(&self, p: &SettingsPatch) -> Result<Self, FieldErrors> {
        let mut s = self.clone();
        let mut errors = FieldErrors::new();
        if let Some(enable) = p.enable_invite_only {
            s.signup_mode = if enable {
                SignupMode::InviteOnly
            } else {
                SignupMode::Open
            };
        }
        if let Some(mode) = p.signup_mode {
            if p.enable_invite_only
                .is_some_and(|e| e != (mode == SignupMode::InviteOnly))
            {
                errors
                    .entry("enable_invite_only".into())
                    .or_default()
                    .push(FieldCode::ConflictsWithSignupMode);
            }
            s.signup_mode = mode;
        }
        if let Some(days) = p.invite_link_expiry {
            if !(1..=invitegate_core::api::MAX_EXPIRY_DAYS).contains(&days) {
                errors
                    .entry("invite_link_expiry".into())
                    .or_default()
                    .push(FieldCode::OutOfRange);
            }
            s.invite_link_expiry = days;
        }
        if let Some(n) = p.max_invites_per_user {
            if n > 100_000 {
                errors
                    .entry("max_invites_per_user".into())
                    .or_default()
                    .push(FieldCode::OutOfRange);
            }
            s.max_invites_per_user = n;
        }
        if let Some(list) = &p.invitation_whitelist_emails {
            if list.len() > MAX_ALLOWLIST {
                errors
                    .entry("invitation_whitelist_emails".into())
                    .or_default()
                    .push(FieldCode::TooMany);
            }
            let mut normalized = Vec::new();
            for entry in list {
                match normalize_allowlist_entry(entry) {
                    Some(e) if !normalized.contains(&e) => normalized.push(e),
                    Some(_) => {}
                    None => {
                        errors
                            .entry("invitation_whitelist_emails".into())
                            .or_default()
                            .push(FieldCode::Invalid);
                        break;
                    }
                }
            }
            s.allowlist = normalized;
        }
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(errors)
        }
    }

    pub(super) fn save(&self, conn: &mut DbConn) -> crate::storage::DbResult<()> {
        let now = storage::now();
        storage::settings::put(
            conn,
            storage::settings::SIGNUP_MODE,
            &serde_json::to_string(&self.signup_mode).expect("json"),
            now,
        )?;
        storage::settings::put(
            conn,
            "invite_link_expiry",
            &self.invite_link_expiry.to_string(),
            now,
        )?;
        storage::settings::put(
            conn,
            "max_invites_per_user",
            &self.max_invites_per_user.to_string(),
            now,
        )?;
        storage::settings::put(
            conn,
            "invitation_whitelist_emails",
            &serde_json::to_string(&self.allowlist).expect("json"),
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use invitegate_core::FieldCode;

    fn defaults() -> RuntimeSettings {
        RuntimeSettings {
            signup_mode: SignupMode::InviteOnly,
            invite_link_expiry: 7,
            max_invites_per_user: 5,
            allowlist: Vec::new(),
        }
    }

    #[test]
    fn a_settings_change_is_validated_field_by_field() {
        let changed = defaults()
            .patched(&SettingsPatch {
                enable_invite_only: Some(false),
                invitation_whitelist_emails: Some(vec![
                    "Corp.Example".into(),
                    "corp.example".into(),
                    "Ann@Partner.Example".into(),
                ]),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(changed.signup_mode, SignupMode::Open);
        assert_eq!(changed.allowlist, ["corp.example", "ann@partner.example"]);

        let errors = defaults()
            .patched(&SettingsPatch {
                enable_invite_only: Some(true),
                signup_mode: Some(SignupMode::Open),
                invite_link_expiry: Some(0),
                max_invites_per_user: Some(100_001),
                invitation_whitelist_emails: Some(vec!["not an address".into()]),
            })
            .unwrap_err();
        assert_eq!(
            errors["enable_invite_only"],
            [FieldCode::ConflictsWithSignupMode]
        );
        assert_eq!(errors["invite_link_expiry"], [FieldCode::OutOfRange]);
        assert_eq!(errors["max_invites_per_user"], [FieldCode::OutOfRange]);
        assert_eq!(errors["invitation_whitelist_emails"], [FieldCode::Invalid]);
    }

    #[test]
    fn a_stored_mode_read_elsewhere_is_parsed_as_the_settings_read_parses_it() {
        let config = Config {
            signup_mode: Some(SignupMode::Open),
            ..Config::default()
        };
        let mode = |stored| RuntimeSettings::signup_mode_of(&config, stored);
        assert_eq!(mode(Some("\"closed\"")), SignupMode::Closed);
        assert_eq!(mode(Some("\"invite_only\"")), SignupMode::InviteOnly);
        for unusable in [None, Some("closed"), Some("\"shut\""), Some("3"), Some("")] {
            assert_eq!(mode(unusable), SignupMode::Open, "{unusable:?}");
        }
    }
}

//! CSV rows for bulk invitations, shared by `invitegate invitations import` and the admin
//! console's import screen.

use crate::api::{BulkResult, BulkStatus, CreateInvitationRequest};
use crate::model::{OrganizationRole, Role};
use std::collections::{BTreeSet, HashMap};

/// One CSV row: the create body and, from the `organization` column, the slug of the
/// organisation to invite into (the caller resolves it to `organization_id`).
#[derive(Debug, Clone, Default)]
pub struct CsvRow {
    /// The create body (`organization_id` unset).
    pub invitation: CreateInvitationRequest,
    /// The organisation's slug, when the row names one.
    pub organization: Option<String>,
    /// An `organization_role` that is none of `owner`, `admin`, `member`, as given.
    pub unknown_organization_role: Option<String>,
}

/// Parses CSV text into rows.
///
/// With a header row containing `email`, the columns `email`, `note`, `role`,
/// `expires_in_days`, `organization` (a slug) and `organization_role` are read by name (any
/// order, case-insensitive, others ignored); without one, the first column is the email.
/// Fields are trimmed, blank lines skipped; a row without a valid `role` gets `default_role`,
/// one without a valid `organization_role` gets none (the server's default, `member`). Errors:
/// malformed CSV (e.g. an unclosed quote), with the line it was found on.
pub fn parse_invitation_csv(
    input: impl std::io::Read,
    default_role: Role,
) -> Result<Vec<CsvRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut records = reader.records();
    let mut rows = Vec::new();
    let describe = |e: csv::Error| match e.position() {
        Some(p) => format!("CSV error on line {}: {e}", p.line()),
        None => format!("CSV error: {e}"),
    };
    let first = match records.next() {
        Some(r) => r.map_err(describe)?,
        None => return Ok(rows),
    };
    let header: Vec<String> = first.iter().map(crate::text::lowercase).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (email_col, has_header) = match col("email") {
        Some(e) => (e, true),
        None => (0, false),
    };
    let named = |name: &str| if has_header { col(name) } else { None };
    let (note_col, role_col, days_col) = (named("note"), named("role"), named("expires_in_days"));
    let (org_col, org_role_col) = (named("organization"), named("organization_role"));
    let mut push = |rec: &csv::StringRecord| {
        if rec.iter().all(|f| f.is_empty()) {
            return;
        }
        let get = |c: Option<usize>| {
            c.and_then(|i| rec.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let invitation = CreateInvitationRequest {
            email: Some(rec.get(email_col).unwrap_or_default().to_string()),
            note: get(note_col),
            role: Some(
                get(role_col)
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(default_role),
            ),
            expires_in_days: get(days_col).and_then(|d| d.parse().ok()),
            organization_role: get(org_role_col).and_then(|r| r.parse::<OrganizationRole>().ok()),
            ..Default::default()
        };
        let unknown_organization_role =
            get(org_role_col).filter(|r| r.parse::<OrganizationRole>().is_err());
        rows.push(CsvRow {
            invitation,
            organization: get(org_col).map(|s| crate::text::lowercase(&s)),
            unknown_organization_role,
        });
    };
    if !has_header {
        push(&first);
    }
    for rec in records {
        push(&rec.map_err(describe)?);
    }
    Ok(rows)
}

/// The distinct organisation slugs `rows` name.
pub fn organization_slugs<'a>(rows: impl IntoIterator<Item = &'a CsvRow>) -> BTreeSet<String> {
    rows.into_iter()
        .filter_map(|r| r.organization.clone())
        .collect()
}

/// Gives each row `(index, row)` naming an organisation the `organization_id` that `ids` maps
/// its slug to. Rows naming a slug `ids` lacks become `invalid` results (`organization`:
/// `not_found`), so a dry run reports unknown organisations per row, as do rows with an unknown
/// `organization_role` (`invalid`). Returns the create bodies and those results.
pub fn assign_organizations(
    rows: impl IntoIterator<Item = (usize, CsvRow)>,
    ids: &HashMap<String, String>,
) -> (Vec<(usize, CreateInvitationRequest)>, Vec<BulkResult>) {
    let mut ready = Vec::new();
    let mut unknown = Vec::new();
    for (index, row) in rows {
        let invalid = |field: &str, code: &str| BulkResult {
            index,
            email: row.invitation.email.clone(),
            status: BulkStatus::Invalid,
            invitation: None,
            token: None,
            url: None,
            error: Some([(field.to_string(), vec![code.to_string()])].into()),
        };
        if row.unknown_organization_role.is_some() {
            unknown.push(invalid("organization_role", "invalid"));
            continue;
        }
        let organization_id = match &row.organization {
            None => None,
            Some(slug) => match ids.get(slug) {
                Some(id) => Some(id.clone()),
                None => {
                    unknown.push(invalid("organization", "not_found"));
                    continue;
                }
            },
        };
        ready.push((
            index,
            CreateInvitationRequest {
                organization_id,
                ..row.invitation
            },
        ));
    }
    (ready, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_columns_in_any_order_and_skips_blank_lines() {
        let rows = parse_invitation_csv(
            "Role,EMAIL,note\nadmin, a@example.com ,hi\n\n,b@example.com,\n".as_bytes(),
            Role::Member,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        let (a, b) = (&rows[0].invitation, &rows[1].invitation);
        assert_eq!(a.email.as_deref(), Some("a@example.com"));
        assert_eq!(a.role, Some(Role::Admin));
        assert_eq!(a.note.as_deref(), Some("hi"));
        assert_eq!(b.role, Some(Role::Member));
        assert_eq!(b.note, None);
    }

    #[test]
    fn reads_the_organisation_and_its_role() {
        let rows = parse_invitation_csv(
            "email,organization,organization_role\na@example.com,Acme,admin\nb@example.com,,\n"
                .as_bytes(),
            Role::Member,
        )
        .unwrap();
        assert_eq!(rows[0].organization.as_deref(), Some("acme"));
        assert_eq!(
            rows[0].invitation.organization_role,
            Some(OrganizationRole::Admin)
        );
        assert_eq!(rows[1].organization, None);
        assert_eq!(rows[1].invitation.organization_role, None);
        let odd = parse_invitation_csv(
            "email,organization_role\nc@example.com,boss\n".as_bytes(),
            Role::Member,
        )
        .unwrap();
        let (ready, refused) = assign_organizations(odd.into_iter().enumerate(), &HashMap::new());
        assert!(ready.is_empty());
        assert!(
            refused[0]
                .error
                .as_ref()
                .unwrap()
                .contains_key("organization_role")
        );
        assert_eq!(
            organization_slugs(&rows).into_iter().collect::<Vec<_>>(),
            ["acme"]
        );

        let (ready, unknown) =
            assign_organizations(rows.clone().into_iter().enumerate(), &HashMap::new());
        assert_eq!((ready.len(), unknown.len()), (1, 1));
        assert_eq!(unknown[0].index, 0);
        assert_eq!(unknown[0].status, BulkStatus::Invalid);
        let ids = HashMap::from([("acme".to_string(), "o1".to_string())]);
        let (ready, unknown) = assign_organizations(rows.into_iter().enumerate(), &ids);
        assert!(unknown.is_empty());
        assert_eq!(ready[0].1.organization_id.as_deref(), Some("o1"));
        assert_eq!(ready[1].1.organization_id, None);
    }

    #[test]
    fn without_header_the_first_column_is_the_email() {
        let rows =
            parse_invitation_csv("a@example.com\nb@example.com,x\n".as_bytes(), Role::Member)
                .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].invitation.email.as_deref(), Some("b@example.com"));
    }
}

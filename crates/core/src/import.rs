//! CSV rows for bulk invitations, shared by `invitegate invitations import` and the admin
//! console's import screen.

use crate::api::CreateInvitationRequest;
use crate::model::Role;

/// Parses CSV text into create bodies.
///
/// With a header row containing `email`, the columns `email`, `note`, `role` and
/// `expires_in_days` are read by name (any order, case-insensitive, others ignored); without
/// one, the first column is the email. Fields are trimmed, blank lines skipped; a row without a
/// valid `role` gets `default_role`. Errors: malformed CSV (e.g. an unclosed quote), with the
/// line it was found on.
pub fn parse_invitation_csv(
    input: impl std::io::Read,
    default_role: Role,
) -> Result<Vec<CreateInvitationRequest>, String> {
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
    let header: Vec<String> = first.iter().map(|h| h.to_lowercase()).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (email_col, note_col, role_col, days_col, has_header) = match col("email") {
        Some(e) => (e, col("note"), col("role"), col("expires_in_days"), true),
        None => (0, None, None, None, false),
    };
    let mut push = |rec: &csv::StringRecord| {
        if rec.iter().all(|f| f.is_empty()) {
            return;
        }
        let get = |c: Option<usize>| {
            c.and_then(|i| rec.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        rows.push(CreateInvitationRequest {
            email: Some(rec.get(email_col).unwrap_or_default().to_string()),
            note: get(note_col),
            role: Some(
                get(role_col)
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(default_role),
            ),
            expires_in_days: get(days_col).and_then(|d| d.parse().ok()),
            ..Default::default()
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
        assert_eq!(rows[0].email.as_deref(), Some("a@example.com"));
        assert_eq!(rows[0].role, Some(Role::Admin));
        assert_eq!(rows[0].note.as_deref(), Some("hi"));
        assert_eq!(rows[1].role, Some(Role::Member));
        assert_eq!(rows[1].note, None);
    }

    #[test]
    fn without_header_the_first_column_is_the_email() {
        let rows =
            parse_invitation_csv("a@example.com\nb@example.com,x\n".as_bytes(), Role::Member)
                .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].email.as_deref(), Some("b@example.com"));
    }
}

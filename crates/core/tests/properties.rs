//! Property tests of the parsers that take untrusted text: no input panics them, and what they
//! accept round-trips.

use invitegate_core::Email;
use invitegate_core::api::CreateInvitationRequest;
use invitegate_core::import::parse_invitation_csv;
use invitegate_core::model::Role;
use proptest::prelude::*;

fn address() -> impl Strategy<Value = (String, String)> {
    (
        "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\\.[a-zA-Z0-9_-]{1,10}){0,2}",
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]{1,10}){1,3}",
    )
}

proptest! {
    /// Any text: no panic; an accepted address is normalised (lower-case, trimmed, no
    /// whitespace or control characters: nothing for a header injection) and parses to itself.
    #[test]
    fn email_parse_never_panics_and_is_idempotent(input in any::<String>()) {
        if let Ok(email) = Email::parse(&input) {
            let s = email.as_str();
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert_eq!(s.to_lowercase(), s);
            prop_assert_eq!(Email::parse(s).unwrap(), email.clone());
            prop_assert_eq!(format!("{}@{}", email.local_part(), email.domain()), s);
        }
    }

    /// Well-formed addresses are accepted whatever their case and surrounding spaces.
    #[test]
    fn well_formed_addresses_are_accepted((local, domain) in address(), pad in " {0,3}") {
        let raw = format!("{pad}{local}@{domain}{pad}");
        let email = Email::parse(&raw).unwrap();
        prop_assert_eq!(email.as_str(), format!("{local}@{domain}").to_lowercase());
    }

    /// A CR or LF anywhere inside is refused (SMTP header injection).
    #[test]
    fn line_breaks_are_refused((local, domain) in address(), at in 0usize..40, brk in prop_oneof!["\r", "\n", "\r\n"]) {
        let mut raw = format!("{local}@{domain}");
        let at = raw.char_indices().map(|(i, _)| i).nth(at % raw.chars().count()).unwrap_or(0).max(1);
        raw.insert_str(at, &brk);
        prop_assert!(Email::parse(&raw).is_err(), "{:?}", raw);
    }

    /// Arbitrary bytes: the CSV import parser answers rows or an error, never a panic.
    #[test]
    fn csv_import_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_invitation_csv(bytes.as_slice(), Role::Member);
    }

    /// Rows written by a CSV writer (quotes, commas, newlines in notes) come back as written.
    #[test]
    fn csv_import_round_trips(rows in proptest::collection::vec(
        (address(), proptest::option::of("[^\\s\"][^\"]{0,30}[^\\s\"]"), any::<bool>(), proptest::option::of(1i64..365)),
        1..20,
    )) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["note", "email", "role", "expires_in_days"]).unwrap();
        let mut expected = Vec::new();
        for ((local, domain), note, admin, days) in &rows {
            let email = format!("{local}@{domain}");
            let role = if *admin { Role::Admin } else { Role::Member };
            w.write_record([
                note.clone().unwrap_or_default(),
                email.clone(),
                role.as_str().to_string(),
                days.map(|d| d.to_string()).unwrap_or_default(),
            ]).unwrap();
            expected.push(CreateInvitationRequest {
                email: Some(email),
                note: note.clone(),
                role: Some(role),
                expires_in_days: *days,
                ..Default::default()
            });
        }
        let text = w.into_inner().unwrap();
        let parsed = parse_invitation_csv(text.as_slice(), Role::Member).unwrap();
        prop_assert_eq!(parsed.len(), expected.len());
        for (got, want) in parsed.iter().map(|r| &r.invitation).zip(&expected) {
            prop_assert_eq!(&got.email, &want.email);
            prop_assert_eq!(&got.note, &want.note);
            prop_assert_eq!(got.role, want.role);
            prop_assert_eq!(got.expires_in_days, want.expires_in_days);
        }
    }
}

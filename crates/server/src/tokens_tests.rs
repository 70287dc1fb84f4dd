//! Unit tests of the token format, key rotation and purpose binding.

use super::*;

fn ring(ids: &[&str]) -> KeyRing {
    let keys: Vec<_> = ids
        .iter()
        .map(|id| SecretKeyConfig {
            id: id.to_string(),
            secret: format!("{id}-secret-material-0123456789abcdef"),
        })
        .collect();
    KeyRing::new(&keys).unwrap()
}

#[test]
fn tokens_verify_only_for_their_purpose() {
    let r = ring(&["a"]);
    let t = r.issue(Purpose::Invitation);
    assert_eq!(r.verify(Purpose::Invitation, &t), Ok(()));
    for other in [
        Purpose::EmailVerification,
        Purpose::PasswordReset,
        Purpose::Refresh,
    ] {
        assert_eq!(r.verify(other, &t), Err(TokenError::BadSignature));
    }
}

#[test]
fn tampering_and_malformed_tokens_fail() {
    let r = ring(&["a"]);
    let t = r.issue(Purpose::Invitation);
    let mut chars: Vec<char> = t.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert!(r.verify(Purpose::Invitation, &tampered).is_err());
    assert_eq!(
        r.verify(Purpose::Invitation, ""),
        Err(TokenError::Malformed)
    );
    assert_eq!(
        r.verify(Purpose::Invitation, &"a".repeat(100_000)),
        Err(TokenError::Malformed)
    );
    assert_eq!(
        r.verify(Purpose::Invitation, "a.b.c"),
        Err(TokenError::Malformed)
    );
}

#[test]
fn rotation_keeps_old_tokens_until_the_key_is_removed() {
    let old = ring(&["old"]);
    let t = old.issue(Purpose::Invitation);
    let rotated = ring(&["new", "old"]);
    assert_eq!(rotated.verify(Purpose::Invitation, &t), Ok(()));
    assert!(rotated.issue(Purpose::Invitation).starts_with("new."));
    let removed = ring(&["new"]);
    assert_eq!(
        removed.verify(Purpose::Invitation, &t),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn tokens_carry_256_random_bits_and_differ() {
    let r = ring(&["a"]);
    let a = r.issue(Purpose::Invitation);
    let b = r.issue(Purpose::Invitation);
    assert_ne!(a, b);
    let random = a.split('.').nth(1).unwrap();
    assert_eq!(B64.decode(random).unwrap().len(), 32);
}

#[test]
fn short_secrets_are_refused() {
    let keys = [SecretKeyConfig {
        id: "a".into(),
        secret: "x".repeat(31),
    }];
    assert!(KeyRing::new(&keys).is_err());
}

#[cfg(unix)]
#[test]
fn generated_secrets_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let first = KeyRing::load_or_generate(&config).unwrap();
    let mode = std::fs::metadata(dir.path().join("secrets.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = KeyRing::load_or_generate(&config).unwrap();
    assert_eq!(first.current_id(), again.current_id());
}

const PURPOSES: [Purpose; 5] = [
    Purpose::Invitation,
    Purpose::EmailVerification,
    Purpose::PasswordReset,
    Purpose::Access,
    Purpose::Refresh,
];

proptest::proptest! {
    /// Any text: `verify` answers an error, never panics, for every purpose.
    #[test]
    fn any_text_is_refused_without_panic(input in ".{0,300}") {
        let r = ring(&["a"]);
        for p in PURPOSES {
            proptest::prop_assert!(r.verify(p, &input).is_err());
        }
    }

    /// A minted token verifies for its purpose only, also after a key rotation, and any
    /// change of one character breaks it.
    #[test]
    fn tokens_round_trip_and_resist_tampering(which in 0usize..5, at in 0usize..200, with in proptest::char::range('!', '~')) {
        let purpose = PURPOSES[which];
        let old = ring(&["old"]);
        let token = old.issue(purpose);
        let rotated = ring(&["new", "old"]);
        for p in PURPOSES {
            proptest::prop_assert_eq!(rotated.verify(p, &token).is_ok(), p == purpose);
        }
        let i = at % token.len();
        let mut chars: Vec<char> = token.chars().collect();
        proptest::prop_assume!(chars[i] != with);
        chars[i] = with;
        let tampered: String = chars.into_iter().collect();
        proptest::prop_assert!(rotated.verify(purpose, &tampered).is_err(), "{}", tampered);
    }
}

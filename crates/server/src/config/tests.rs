//! Defaults, the example file, the documentation and the error messages.

use super::*;

#[test]
fn defaults_are_valid_and_match_the_seed() {
    let c = Config::default();
    c.validate().unwrap();
    assert!(c.enable_invite_only);
    assert_eq!(c.invite_link_expiry, 7);
    assert_eq!(c.max_invites_per_user, 5);
    assert!(c.invitation_whitelist_emails.is_empty());
}

#[test]
fn the_example_file_is_valid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../invitegate.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let config: Config = figment::Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string(&text))
        .extract()
        .unwrap();
    config.validate().unwrap();
}

/// docs/configuration.md has a row for every key, with its variable, and the example file
/// a line (commented or not) for every key.
#[test]
fn every_key_is_documented_and_in_the_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let docs = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let example = std::fs::read_to_string(root.join("invitegate.example.toml")).unwrap();
    let nested = match serde_json::to_value(RateLimits::default()).unwrap() {
        serde_json::Value::Object(map) => map.keys().cloned().collect::<Vec<_>>(),
        _ => unreachable!(),
    };
    let keys = Config::keys()
        .into_iter()
        .filter(|k| k != "rate_limits")
        .map(|k| (k.clone(), k))
        .chain(
            nested
                .iter()
                .map(|k| (format!("rate_limits.{k}"), k.clone())),
        );
    let example_keys: Vec<&str> = example
        .lines()
        .filter_map(|l| l.trim_start_matches(['#', ' ']).split_once(" ="))
        .map(|(k, _)| k.trim())
        .collect();
    for (full, short) in keys {
        let variable = format!("INVITEGATE_{}", full.replace('.', "__").to_uppercase());
        assert!(
            docs.contains(&format!("| `{full}` | `{variable}` |")),
            "docs/configuration.md has no row for `{full}` (`{variable}`)"
        );
        assert!(
            example_keys.contains(&short.as_str()),
            "invitegate.example.toml does not mention `{short}`"
        );
    }
    assert!(nested.len() >= 8 && Config::keys().len() >= 36);
}

#[test]
fn errors_name_the_key() {
    let c = Config {
        invite_link_expiry: 0,
        ..Config::default()
    };
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("invite_link_expiry")
    );
    let c = Config {
        secret_keys: vec![SecretKeyConfig {
            id: "k1".into(),
            secret: "short".into(),
        }],
        ..Config::default()
    };
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("shorter than 32 bytes")
    );
    let c = Config {
        invitation_whitelist_emails: vec!["not a domain".into()],
        ..Config::default()
    };
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("invitation_whitelist_emails")
    );
}

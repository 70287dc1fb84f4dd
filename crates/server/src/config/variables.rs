//! Which `INVITEGATE_*` environment variables are settings: a misspelt one is refused with the
//! closest setting named, as a misspelt key of the TOML file is.

/// `INVITEGATE_*` variables that are not settings (besides Kubernetes service links, see
/// [`service_link`]): read before the configuration (`CONFIG`,
/// `LOG`), by the example app and the clients (`ISSUER`, `URL`, `API_KEY`), or by the build
/// and test tooling (`REQUIRE_WASM_OPT`, `SCHEMATHESIS`, `OPENAPI_VALIDATOR`, `TEST_*`).
pub const NOT_SETTINGS: [&str; 8] = [
    "INVITEGATE_CONFIG",
    "INVITEGATE_LOG",
    "INVITEGATE_ISSUER",
    "INVITEGATE_URL",
    "INVITEGATE_API_KEY",
    "INVITEGATE_REQUIRE_WASM_OPT",
    "INVITEGATE_SCHEMATHESIS",
    "INVITEGATE_OPENAPI_VALIDATOR",
];

/// Keys that were renamed, old and new: the old name is refused with the new one named.
pub const RENAMED: [(&str, &str); 1] = [("outbox_dead_retention_days", "outbox_retention_days")];

/// Whether `rest` (after `INVITEGATE_`) is one of the variables Kubernetes gives every pod for a
/// Service whose name starts with `invitegate` (`enableServiceLinks`, on by default):
/// `…SERVICE_HOST`, `…SERVICE_PORT[_NAME]`, `…PORT`, `…PORT_8080_TCP[_ADDR|_PORT|_PROTO]`.
/// Refusing them would stop the server in its own cluster.
fn service_link(rest: &str) -> bool {
    let is_protocol = |p: &str| ["TCP", "UDP", "SCTP"].iter().any(|x| p.starts_with(x));
    rest.ends_with("SERVICE_HOST")
        || rest.contains("SERVICE_PORT")
        || rest == "PORT"
        || rest.ends_with("_PORT")
        || rest.split("PORT_").skip(1).any(|tail| {
            let mut parts = tail.splitn(2, '_');
            let number = parts.next().unwrap_or_default();
            !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
                && parts.next().is_some_and(is_protocol)
        })
}

/// The variable of top-level key `key`: `max_invites_per_user` → `INVITEGATE_MAX_INVITES_PER_USER`.
pub fn variable_of(key: &str) -> String {
    format!("INVITEGATE_{}", key.to_ascii_uppercase())
}

/// One problem per variable of `names` that starts with `INVITEGATE_` but names no key of
/// `keys` (top-level keys; nested ones follow a `__`) and is not one of [`NOT_SETTINGS`],
/// naming the closest setting when one is near (Levenshtein distance ≤ 3).
pub fn unknown<I, S>(names: I, keys: &[String]) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut problems = Vec::new();
    for name in names {
        let name = name.as_ref();
        let Some(rest) = name.strip_prefix("INVITEGATE_") else {
            continue;
        };
        if NOT_SETTINGS.contains(&name) || rest.starts_with("TEST_") || service_link(rest) {
            continue;
        }
        let key = rest
            .split("__")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if keys.contains(&key) {
            continue;
        }
        if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == key) {
            problems.push(format!("`{name}` was renamed to `{}`", variable_of(new)));
            continue;
        }
        let closest = keys
            .iter()
            .map(|k| (strsim::levenshtein(k, &key), k))
            .min()
            .filter(|(distance, _)| *distance <= 3);
        problems.push(match closest {
            Some((_, k)) => format!(
                "`{name}` is not a setting; did you mean `{}` (`{k}`)?",
                variable_of(k)
            ),
            None => format!("`{name}` is not a setting (docs/configuration.md lists them all)"),
        });
    }
    problems.sort();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_variables_name_the_closest_setting() {
        let keys: Vec<String> = ["public_base_url", "bind", "rate_limits"]
            .map(String::from)
            .into();
        let problems = unknown(
            [
                "INVITEGATE_PUBLIC_BASEURL",
                "INVITEGATE_BIND",
                "INVITEGATE_RATE_LIMITS__AUTH_PER_MINUTE",
                "INVITEGATE_LOG",
                "INVITEGATE_TEST_DATABASE_URL",
                "INVITEGATE_WHATEVER_THIS_IS",
                "PATH",
                // Kubernetes service links of Services `invitegate` and `invitegate-db`.
                "INVITEGATE_SERVICE_HOST",
                "INVITEGATE_SERVICE_PORT",
                "INVITEGATE_SERVICE_PORT_HTTP",
                "INVITEGATE_PORT",
                "INVITEGATE_PORT_8080_TCP",
                "INVITEGATE_PORT_8080_TCP_ADDR",
                "INVITEGATE_DB_PORT_5432_TCP_PROTO",
                "INVITEGATE_OUTBOX_DEAD_RETENTION_DAYS",
            ],
            &keys,
        );
        assert_eq!(
            problems,
            [
                "`INVITEGATE_OUTBOX_DEAD_RETENTION_DAYS` was renamed to `INVITEGATE_OUTBOX_RETENTION_DAYS`",
                "`INVITEGATE_PUBLIC_BASEURL` is not a setting; did you mean `INVITEGATE_PUBLIC_BASE_URL` (`public_base_url`)?",
                "`INVITEGATE_WHATEVER_THIS_IS` is not a setting (docs/configuration.md lists them all)",
            ]
        );
    }
}

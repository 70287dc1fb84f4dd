//! The deployment files as Docker would read them (there is no Docker engine here): the compose
//! files parse, wire the services together, and set only real settings; so do the env files.

use invitegate_server::config::{Config, variables};
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn compose(name: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(name)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name}");
    docs.remove(0)
}

/// The `INVITEGATE_*` names a service's `environment` map sets.
fn variables_of(service: &Yaml) -> Vec<String> {
    service["environment"]
        .as_hash()
        .map(|env| {
            env.keys()
                .filter_map(|k| k.as_str().map(String::from))
                .filter(|k| k.starts_with("INVITEGATE_"))
                .collect()
        })
        .unwrap_or_default()
}

/// The `INVITEGATE_*` names an env file sets (commented lines included: they are examples).
fn variables_in_env_file(name: &str) -> Vec<String> {
    std::fs::read_to_string(root().join(name))
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches(['#', ' ']))
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k.to_string())
        .filter(|k| k.starts_with("INVITEGATE_"))
        .collect()
}

#[test]
fn production_compose_keeps_secrets_in_env_files_and_waits_for_the_database() {
    let c = compose("docker-compose.yml");
    let services = &c["services"];
    let app = &services["invitegate"];
    let db = &services["postgres"];
    assert_eq!(app["env_file"].as_str(), Some("deploy/invitegate.env"));
    assert_eq!(db["env_file"].as_str(), Some("deploy/postgres.env"));
    assert_eq!(
        app["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert!(db["healthcheck"]["test"].as_vec().is_some());
    assert!(
        db["environment"]["POSTGRES_PASSWORD"].is_badvalue(),
        "no password in the compose file"
    );
    let volumes = app["volumes"].as_vec().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v.as_str() == Some("invitegate-data:/data")),
        "the signing secrets live on a volume"
    );
    for name in [
        "deploy/invitegate.env.example",
        "deploy/postgres.env.example",
    ] {
        assert!(root().join(name).is_file(), "{name}");
    }
    let example = std::fs::read_to_string(root().join("deploy/invitegate.env.example")).unwrap();
    let password = std::fs::read_to_string(root().join("deploy/postgres.env.example")).unwrap();
    let password = password
        .lines()
        .find_map(|l| l.strip_prefix("POSTGRES_PASSWORD="))
        .unwrap();
    assert!(
        example.contains(&format!("invitegate:{password}@postgres:5432/invitegate")),
        "the example database URL reaches the compose database with its password"
    );
}

#[test]
fn the_dev_overlay_sends_mail_to_mailpit() {
    let c = compose("compose.dev.yml");
    let services = &c["services"];
    assert!(
        services["mailpit"]["image"]
            .as_str()
            .unwrap()
            .contains("mailpit")
    );
    let smtp = services["invitegate"]["environment"]["INVITEGATE_SMTP_URL"]
        .as_str()
        .unwrap();
    assert_eq!(smtp, "smtp://mailpit:1025");
    assert!(
        services["mailpit"]["ports"]
            .as_vec()
            .unwrap()
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.ends_with(":8025"))),
        "the web UI is published"
    );
}

#[test]
fn every_variable_the_deployment_files_set_is_a_setting() {
    let keys = Config::keys();
    let mut names = Vec::new();
    for file in ["docker-compose.yml", "compose.dev.yml"] {
        let c = compose(file);
        for (_, service) in c["services"].as_hash().unwrap() {
            names.extend(variables_of(service));
        }
    }
    names.extend(variables_in_env_file("deploy/invitegate.env.example"));
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    names.extend(
        dockerfile
            .split(|c: char| c.is_whitespace() || c == '\\')
            .filter_map(|w| w.split_once('='))
            .map(|(k, _)| k.to_string())
            .filter(|k| k.starts_with("INVITEGATE_") && k != "INVITEGATE_REQUIRE_WASM_OPT"),
    );
    assert!(names.len() >= 8, "{names:?}");
    assert_eq!(variables::unknown(&names, &keys), Vec::<String>::new());
}

#[test]
fn the_image_builds_with_the_script_ci_runs() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(dockerfile.contains("RUN sh deploy/build.sh /usr/local"));
    assert!(
        !dockerfile.contains("cargo build"),
        "the build commands live in deploy/build.sh"
    );
    assert!(ci.contains("sh deploy/build.sh") && ci.contains("sh deploy/smoke.sh"));
    for copied in [
        "/usr/local/bin/invitegate",
        "/usr/local/share/invitegate-web",
    ] {
        assert!(
            dockerfile.contains(&format!("COPY --from=build {copied}")),
            "{copied}"
        );
    }
}

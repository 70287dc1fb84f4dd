//! Insights for operators (issue 14): the funnel as Prometheus gauges, and the Grafana
//! dashboard in `docs/` charting only figures the server exports.

use crate::both_backends;
use crate::helpers::*;

both_backends!(the_funnel_is_exported_as_gauges_a_dashboard_can_chart);

async fn scrape(app: &TestApp) -> String {
    app.http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn the_funnel_is_exported_as_gauges_a_dashboard_can_chart(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    app.member(&admin, "ann@example.com").await;
    admin
        .create_invitation(&email_req("bob@example.com"))
        .await
        .unwrap();
    assert!(
        app.api
            .login("ann@example.com", "wrong password")
            .await
            .is_err(),
        "a failed attempt to chart"
    );
    let metrics = eventually("the failed sign-in is counted", || async {
        let m = scrape(&app).await;
        (m.contains("outcome=\"failure\"") && m.contains("stage=\"created\"")).then_some(m)
    })
    .await;
    for line in [
        "invitegate_funnel_invitations{stage=\"created\"} 2",
        "invitegate_funnel_invitations{stage=\"accepted\"} 1",
        "invitegate_funnel_invitations{stage=\"revoked\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    let median = metrics
        .lines()
        .find_map(|l| l.strip_prefix("invitegate_funnel_median_seconds_to_accept "))
        .expect("the median gauge");
    assert!(
        (0.0..60.0).contains(&median.parse::<f64>().unwrap()),
        "{median}"
    );

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/grafana-dashboard.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6, "{} panels", panels.len());
    let mut charted = Vec::new();
    for panel in panels {
        assert!(
            panel["title"].is_string() && panel["gridPos"].is_object(),
            "{panel}"
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{panel}");
        for t in targets {
            let expr = t["expr"].as_str().expect("a PromQL expression");
            charted.extend(
                expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with("invitegate_") || w.starts_with("http_"))
                    .map(|w| w.trim_end_matches("_bucket").to_string()),
            );
        }
    }
    charted.sort();
    charted.dedup();
    assert!(charted.len() >= 4, "{charted:?}");
    for name in charted {
        assert!(
            metrics.contains(&format!("# TYPE {name} ")),
            "the dashboard charts {name}, which /metrics does not export"
        );
    }
}

//! `/admin`: the Overview, the console's first tab — how invitations turn into members, who
//! brings them, and whether someone is hammering the door.

use super::*;
use crate::charts::{
    BarsChart, ColumnsChart, DataTable, Figure, bucket_label, fmt_duration, percent,
};
use invitegate_core::time::{Duration, Utc};

/// The periods offered, in days.
const PERIODS: &[(i64, &str)] = &[
    (7, "Last 7 days"),
    (30, "Last 30 days"),
    (90, "Last 90 days"),
    (365, "Last 365 days"),
];

/// How many inviters and alerts the Overview lists.
const TOP: u32 = 10;

/// Everything the Overview shows for one period and organisation.
#[derive(Clone)]
struct Figures {
    funnel: Funnel,
    registrations: Timeseries,
    failures: Timeseries,
    inviters: Vec<InviterFigures>,
    alerts: Vec<AuditEvent>,
}

/// The Overview's figures, one request after the other (one future keeps the bundle small).
async fn figures(
    c: invitegate_client::Client,
    f: InsightsQuery,
) -> Result<Figures, invitegate_client::ClientError> {
    let series = |metric| TimeseriesQuery {
        since: f.since,
        until: f.until,
        organization_id: f.organization_id.clone(),
        ..TimeseriesQuery::new(metric)
    };
    let alerts = AuditEventQuery {
        action: Some(
            invitegate_core::model::AuditAction::SecurityAlert
                .as_str()
                .into(),
        ),
        limit: Some(TOP),
        ..Default::default()
    };
    Ok(Figures {
        funnel: c.insights_funnel(&f).await?,
        registrations: c
            .insights_timeseries(&series(InsightsMetric::Registrations))
            .await?,
        failures: c
            .insights_timeseries(&series(InsightsMetric::FailedAttempts))
            .await?,
        inviters: c
            .insights_inviters(&InvitersQuery {
                limit: Some(TOP),
                since: f.since,
                until: f.until,
                organization_id: f.organization_id.clone(),
                inviter_id: None,
            })
            .await?
            .data,
        alerts: c.list_audit_events(&alerts).await?.data,
    })
}

/// `/admin`: the funnel, registrations and failed attempts per day, the top inviters, the
/// latest security alerts and the invite tree, for a period and an organisation.
#[component]
pub fn AdminOverview() -> impl IntoView {
    let ctx = ctx();
    let days = RwSignal::new(30_i64);
    let org = RwSignal::new(String::new());
    let orgs = RwSignal::new(Vec::<Organization>::new());
    let shown = RwSignal::new(None::<Figures>);
    let error = RwSignal::new(None::<String>);
    // Answers to an earlier choice of period or organisation that arrive late are dropped.
    let generation = StoredValue::new(0_u64);
    ctx.act(
        error,
        OrganizationListQuery {
            limit: Some(100),
            ..Default::default()
        },
        |c, q| async move { c.list_organizations(&q).await },
        move |p| orgs.set(p.data),
    );
    let load = move || {
        generation.update_value(|g| *g += 1);
        let current = generation.get_value();
        error.set(None);
        // The server's clock ends the period: a client's slow clock would hide the newest.
        let filters = InsightsQuery {
            since: Some(Utc::now() - Duration::days(days.get_untracked())),
            until: None,
            organization_id: Some(org.get_untracked()).filter(|o| !o.is_empty()),
            inviter_id: None,
        };
        ctx.act(error, filters, figures, move |f| {
            if generation.get_value() == current {
                shown.set(Some(f));
            }
        });
    };
    load();
    let funnel = move || shown.get().map(|f| f.funnel);
    let registrations = move || shown.get().map(|f| f.registrations);
    let failures = move || shown.get().map(|f| f.failures);
    let inviters = move || shown.get().map(|f| f.inviters);
    let alerts = move || shown.get().map(|f| f.alerts).unwrap_or_default();
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Overview"</h1>
            <form class="filters" on:submit=move |ev| ev.prevent_default()>
                <div class="field">
                    <label for="overview-period">"Period"</label>
                    <select id="overview-period" on:change=move |ev| {
                        days.set(event_target_value(&ev).parse().unwrap_or(30));
                        load();
                    }>
                        {PERIODS.iter().map(|(d, label)| view! {
                            <option value=d.to_string() selected=*d == 30>{*label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="overview-org">"Organisation"</label>
                    <select id="overview-org" on:change=move |ev| { org.set(event_target_value(&ev)); load() }>
                        <option value="">"All"</option>
                        <For each=move || orgs.get() key=|o| o.id.clone() let:o>
                            <option value=o.id.clone()>{o.name.clone()}</option>
                        </For>
                    </select>
                </div>
            </form>
            <Alert message=error />
            {move || funnel().map(|f| view! { <FunnelSection funnel=f /> })}
        </section>
        <section class="card">
            <h2>"Registrations per day"</h2>
            {move || registrations().map(|s| view! {
                <SeriesSection id="registrations" title="Registrations per day" file="registrations.csv" series=s />
            })}
            <h2>"Failed attempts per day"</h2>
            <p class="muted">{move || if org.get().is_empty() {
                "Refused links, registrations, sign-ins and credentials."
            } else {
                "Refused uses of this organisation's invitations."
            }}</p>
            {move || failures().map(|s| view! {
                <SeriesSection id="failed-attempts" title="Failed attempts per day" file="failed-attempts.csv" series=s />
            })}
        </section>
        <section class="card">
            <h2>"Top inviters"</h2>
            {move || inviters().map(|rows| view! { <InvitersTable rows=rows /> })}
        </section>
        <section class="card">
            <h2>"Latest security alerts"</h2>
            {move || {
                let rows: Vec<Vec<String>> = alerts().iter().map(alert_row).collect();
                if rows.is_empty() {
                    view! { <p class="muted">"No security alerts."</p> }.into_any()
                } else {
                    view! {
                        <DataTable summary="Alerts" file="security-alerts.csv" open=true
                            header=&["When", "Reason", "Target", "Failures"] rows=rows />
                    }.into_any()
                }
            }}
        </section>
        <InviteTreeSection />
    }
}

/// The funnel chart with its table, the acceptance rate and the median time to accept.
#[component]
fn FunnelSection(funnel: Funnel) -> impl IntoView {
    let figures: Vec<Figure> = vec![
        ("Created".into(), funnel.created),
        ("Delivered".into(), funnel.delivered),
        ("Opened".into(), funnel.opened),
        ("Accepted".into(), funnel.accepted),
    ];
    let outcomes: Vec<Figure> = vec![
        ("Expired".into(), funnel.expired),
        ("Revoked".into(), funnel.revoked),
        ("Declined".into(), funnel.declined),
    ];
    let rows = figures
        .iter()
        .chain(&outcomes)
        .map(|(label, n)| vec![label.clone(), n.to_string()])
        .collect();
    let median = funnel
        .median_seconds_to_accept
        .map(fmt_duration)
        .unwrap_or_else(|| "–".into());
    view! {
        <dl class="stats" data-testid="overview-stats">
            <div><dt>"Acceptance rate"</dt><dd>{percent(funnel.accepted, funnel.created)}</dd></div>
            <div><dt>"Median time to accept"</dt><dd>{median}</dd></div>
            {outcomes.iter().map(|(label, n)| view! { <div><dt>{label.clone()}</dt><dd>{n.to_string()}</dd></div> }).collect_view()}
        </dl>
        <BarsChart id="funnel" title="Invitations of the period, stage by stage" figures=figures />
        <DataTable summary="Funnel as a table" file="funnel.csv" header=&["Stage", "Invitations"] rows=rows />
    }
}

/// A time series as columns, with its table.
#[component]
fn SeriesSection(
    id: &'static str,
    title: &'static str,
    file: &'static str,
    series: Timeseries,
) -> impl IntoView {
    let rows = series
        .points
        .iter()
        .map(|p| vec![bucket_label(&series, p.t), p.value.to_string()])
        .collect();
    view! {
        <ColumnsChart id=id title=title series=series />
        <DataTable summary=format!("{title} as a table") file=file header=&["Day (UTC)", "Count"] rows=rows />
    }
}

/// The top inviters with their acceptance rates.
#[component]
fn InvitersTable(rows: Vec<InviterFigures>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No invitations in this period."</p> }.into_any();
    }
    let rows = rows
        .into_iter()
        .map(|r| {
            vec![
                r.inviter.display_name.clone().unwrap_or_else(|| {
                    actor_label(&invitegate_core::model::ActorRef {
                        kind: r.inviter.kind,
                        id: r.inviter.id.clone(),
                    })
                }),
                r.inviter.kind.as_str().replace('_', " "),
                r.sent.to_string(),
                r.accepted.to_string(),
                percent(r.accepted, r.sent),
            ]
        })
        .collect();
    view! {
        <DataTable summary="Inviters" file="top-inviters.csv" open=true
            header=&["Inviter", "Kind", "Sent", "Accepted", "Acceptance rate"] rows=rows />
    }
    .into_any()
}

fn alert_row(e: &AuditEvent) -> Vec<String> {
    let detail = |k: &str| {
        e.details
            .get(k)
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    vec![
        {
            let (date, time) = crate::util::utc_date_time(&e.occurred_at);
            format!("{date} {time} UTC")
        },
        detail("reason").replace('_', " "),
        e.target
            .as_ref()
            .map(|t| format!("{} {}", t.kind, t.id))
            .unwrap_or_default(),
        detail("failures"),
    ]
}

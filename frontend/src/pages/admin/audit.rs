//! `/admin/audit`: the audit log with filters and export.

use super::*;

/// `/admin/audit`: the audit log with filters and export.
#[component]
pub fn AdminAudit() -> impl IntoView {
    let ctx = ctx();
    let rows = RwSignal::new(Vec::<AuditEvent>::new());
    let cursor = RwSignal::new(None::<String>);
    let action = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let query = move || AuditEventQuery {
        action: text_filter(action),
        outcome: outcome.get_untracked().parse().ok(),
        ..Default::default()
    };
    let load = paged(
        rows,
        cursor,
        error,
        move || AuditEventQuery {
            limit: Some(DEFAULT_PAGE_LIMIT),
            ..query()
        },
        |c, q| async move { c.list_audit_events(&q).await },
    );
    load(false);
    let export = move |format: &'static str| {
        let q = AuditEventQuery {
            format: Some(if format == "csv" {
                ExportFormat::Csv
            } else {
                ExportFormat::Jsonl
            }),
            ..query()
        };
        ctx.act(
            error,
            q,
            |c, q| async move { c.export_audit_events(&q).await },
            move |body| {
                download(
                    &format!("audit-events.{format}"),
                    if format == "csv" {
                        "text/csv"
                    } else {
                        "application/x-ndjson"
                    },
                    &body,
                )
            },
        );
    };
    let actions = invitegate_core::model::AuditAction::ALL;
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Audit log"</h1>
            <form class="filters" on:submit=move |ev| { ev.prevent_default(); load(false) }>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" on:change=move |ev| { action.set(event_target_value(&ev)); load(false) }>
                        <option value="">"Any"</option>
                        {actions.iter().map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-outcome">"Outcome"</label>
                    <select id="audit-outcome" on:change=move |ev| { outcome.set(event_target_value(&ev)); load(false) }>
                        <option value="">"Any"</option><option value="success">"success"</option><option value="failure">"failure"</option>
                    </select>
                </div>
                <button type="button" class="secondary" on:click=move |_| export("csv")>"Export CSV"</button>
                <button type="button" class="secondary" on:click=move |_| export("jsonl")>"Export JSON Lines"</button>
            </form>
            <Alert message=error />
            <PagedTable columns=&["When", "Action", "Outcome", "Actor", "Target", "IP"] cursor=cursor more=move |()| load(true)>
                    <For each=move || rows.get() key=|e| e.id.clone() let:e>
                        <tr>
                            <td>{fmt_time(&e.occurred_at)}</td>
                            <td><code>{e.action.clone()}</code></td>
                            <td>{e.outcome.as_str()}</td>
                            <td>{e.actor.as_ref().map(actor_label).unwrap_or_default()}</td>
                            <td>{e.target.as_ref().map(|t| format!("{} {}", t.kind, &t.id[..t.id.len().min(8)])).unwrap_or_default()}</td>
                            <td>{e.ip.clone().unwrap_or_default()}</td>
                        </tr>
                    </For>
            </PagedTable>
        </section>
    }
}

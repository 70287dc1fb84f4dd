//! `/admin/import`: bulk invitations from CSV, with a dry run.

use super::*;
use invitegate_client::{Client, ClientError};
use invitegate_core::import::{CsvRow, assign_organizations, organization_slugs};

/// `/admin/import`: bulk invitations from pasted or uploaded CSV, with a dry run.
#[component]
pub fn AdminImport() -> impl IntoView {
    let ctx = ctx();
    let text = RwSignal::new(String::new());
    let dry = RwSignal::new(true);
    let send = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<BulkCreateResponse>);
    let busy = RwSignal::new(false);
    let on_file = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            leptos::task::spawn_local(async move {
                if let Ok(t) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    text.set(t.as_string().unwrap_or_default());
                }
            });
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let rows = match invitegate_core::import::parse_invitation_csv(
            text.get_untracked().as_bytes(),
            Role::Member,
        ) {
            Ok(r) if r.is_empty() => {
                return error.set(Some("Paste at least one email address.".into()));
            }
            Ok(r) if r.len() > MAX_BULK_ITEMS => {
                return error.set(Some(format!("At most {MAX_BULK_ITEMS} rows at a time.")));
            }
            Ok(r) => r,
            Err(e) => return error.set(Some(e)),
        };
        let send = send.get_untracked();
        let rows: Vec<_> = rows
            .into_iter()
            .map(|mut r| {
                r.invitation.send_email = Some(send);
                r
            })
            .collect();
        error.set(None);
        ctx.act_busy(
            busy,
            error,
            (rows, dry.get_untracked()),
            |c, (rows, dry_run)| import_rows(c, rows, dry_run),
            move |r| result.set(Some(r)),
        );
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Import invitations"</h1>
            <p>"One email per line, or a CSV file with a header row naming "<code>"email"</code>" and optionally "<code>"role"</code>", "<code>"note"</code>" and "<code>"expires_in_days"</code>", and to invite into an organisation, "<code>"organization"</code>" (its slug) and "<code>"organization_role"</code>"."</p>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="csv-file">"CSV file"</label>
                    <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" on:change=on_file />
                </div>
                <div class="field">
                    <label for="csv-text">"Or paste the rows"</label>
                    <textarea id="csv-text" rows="8" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </div>
                <label class="check" for="dry-run"><input id="dry-run" type="checkbox" prop:checked=move || dry.get() on:change=move |ev| dry.set(event_target_checked(&ev)) />"Dry run: check the rows without creating anything"</label>
                <label class="check" for="bulk-send"><input id="bulk-send" type="checkbox" prop:checked=move || send.get() on:change=move |ev| send.set(event_target_checked(&ev)) />"Email each invitee their link"</label>
                <Alert message=error />
                <Submit label="Import" busy=busy />
            </form>
        </section>
        {move || result.get().map(|r| {
            let s = r.summary.clone();
            let heading = if r.dry_run { "Dry run result (nothing was created)" } else { "Import result" };
            view! {
                <section class="card" aria-live="polite">
                    <h2>{heading}</h2>
                    <p data-testid="bulk-summary">{format!("{} created, {} already invited, {} already registered, {} invalid", s.created, s.already_invited, s.already_registered, s.invalid)}</p>
                    <div class="table-wrap">
                    <table>
                        <thead><tr><th scope="col">"Row"</th><th scope="col">"Email"</th><th scope="col">"Result"</th><th scope="col">"Link or problem"</th></tr></thead>
                        <tbody>
                            {r.results.into_iter().map(|row| {
                                let status = serde_json::to_value(row.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                                let detail = row.url.clone().unwrap_or_else(|| row.error.as_ref().map(|e| e.iter().map(|(f, c)| crate::errors::field_message(f, &c.join(","), Limits::default())).collect::<Vec<_>>().join(" ")).unwrap_or_default());
                                view! { <tr><td>{row.index + 1}</td><td>{row.email.clone().unwrap_or_default()}</td><td><span class=format!("badge badge-{status}")>{status.replace('_', " ")}</span></td><td class="break">{detail}</td></tr> }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                </section>
            }
        })}
    }
}

/// Sends the rows as one bulk request, with the organisations they name by slug resolved to
/// ids first; rows naming an unknown organisation are reported `invalid` without being sent.
async fn import_rows(
    c: Client,
    rows: Vec<CsvRow>,
    dry_run: bool,
) -> Result<BulkCreateResponse, ClientError> {
    let mut ids = std::collections::HashMap::new();
    for slug in organization_slugs(&rows) {
        let found = c
            .list_organizations(&OrganizationListQuery {
                q: Some(slug.clone()),
                limit: Some(100),
                ..Default::default()
            })
            .await?;
        if let Some(org) = found.data.into_iter().find(|o| o.slug == slug) {
            ids.insert(slug, org.id);
        }
    }
    let (ready, unknown) = assign_organizations(rows.into_iter().enumerate(), &ids);
    let (positions, invitations): (Vec<usize>, Vec<_>) = ready.into_iter().unzip();
    let mut response = if invitations.is_empty() {
        BulkCreateResponse {
            results: Vec::new(),
            summary: BulkSummary::default(),
            dry_run,
        }
    } else {
        c.bulk_create_invitations(&BulkCreateRequest {
            invitations,
            dry_run,
        })
        .await?
    };
    for r in &mut response.results {
        r.index = positions[r.index];
    }
    response.summary.invalid += unknown.len();
    response.results.extend(unknown);
    response.results.sort_by_key(|r| r.index);
    Ok(response)
}

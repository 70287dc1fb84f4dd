//! `/admin/…`: the admin console.

use invitegate_core::api::*;
use invitegate_core::model::{InvitationState, Role, Scope, SignupMode};
use leptos::prelude::*;

use crate::errors::{Limits, describe};
use crate::pages::member::CopyField;
use crate::session::ctx;
use crate::ui::*;
use crate::util::{download, fmt_time};

fn err(e: &invitegate_client::ClientError) -> Option<String> {
    Some(describe(e, Limits::default()))
}

type Query = Vec<(String, String)>;

/// A cursor-paginated list: `load(false)` replaces `rows` with the first page of `query()`,
/// `load(true)` appends the page after `cursor`.
fn paged<T, Q, F, Fut>(
    rows: RwSignal<Vec<T>>,
    cursor: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    query: Q,
    fetch: F,
) -> impl Fn(bool) + Copy + 'static
where
    T: Send + Sync + 'static,
    Q: Fn() -> Query + Copy + 'static,
    F: Fn(invitegate_client::Client, Query) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, invitegate_client::ClientError>> + 'static,
{
    let ctx = ctx();
    move |more: bool| {
        let mut q = query();
        if more && let Some(c) = cursor.get_untracked() {
            q.push(("cursor".into(), c));
        }
        leptos::task::spawn_local(async move {
            match ctx.call_with(q, fetch).await {
                Ok(p) => {
                    cursor.set(p.next_cursor);
                    if more {
                        rows.update(|r| r.extend(p.data));
                    } else {
                        rows.set(p.data);
                    }
                    error.set(None);
                }
                Err(e) => error.set(err(&e)),
            }
        });
    }
}

fn pairs(q: &Query) -> Vec<(&str, &str)> {
    q.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// The console's tab bar.
#[component]
pub fn AdminNav() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let tabs = [
        ("/admin", "Invitations"),
        ("/admin/import", "Import"),
        ("/admin/users", "Users"),
        ("/admin/audit", "Audit log"),
        ("/admin/api-keys", "API keys"),
        ("/admin/webhooks", "Webhooks"),
        ("/admin/outbox", "Delivery"),
        ("/admin/settings", "Settings"),
    ];
    view! {
        <nav class="tabs" aria-label="Admin console">
            {tabs.into_iter().map(|(href, label)| {
                let current = move || (location.pathname.get() == href).then_some("page");
                view! { <a href=href aria-current=current>{label}</a> }
            }).collect_view()}
        </nav>
    }
}

fn actor_label(a: &invitegate_core::model::ActorRef) -> String {
    format!(
        "{} {}",
        a.kind.as_str().replace('_', " "),
        &a.id[..a.id.len().min(8)]
    )
}

/// `/admin`: invitations — create, filter, search, page, revoke, resend.
#[component]
pub fn AdminInvitations() -> impl IntoView {
    let rows = RwSignal::new(Vec::<Invitation>::new());
    let cursor = RwSignal::new(None::<String>);
    let state = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let link = RwSignal::new(None::<(String, String)>);
    let load = paged(
        rows,
        cursor,
        error,
        move || {
            let mut q: Query = vec![("limit".into(), "25".into())];
            if !state.get_untracked().is_empty() {
                q.push(("state".into(), state.get_untracked()));
            }
            let s = search.get_untracked().trim().to_string();
            if !s.is_empty() {
                q.push(("email".into(), s));
            }
            q
        },
        |c, q| async move { c.list_invitations(&pairs(&q)).await },
    );
    load(false);
    let on_filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        load(false);
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Invitations"</h1>
            <CreateInvitation on_created=Callback::new(move |l| { link.set(Some(l)); load(false); }) />
            <div role="status" aria-live="polite">
                {move || link.get().map(|(what, url)| view! {
                    <div class="success"><p>{what}</p><CopyField value=url /></div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"All invitations"</h2>
            <form class="filters" on:submit=on_filter role="search">
                <div class="field">
                    <label for="filter-state">"State"</label>
                    <select id="filter-state" on:change=move |ev| { state.set(event_target_value(&ev)); load(false); }>
                        <option value="">"Any"</option>
                        {["pending", "accepted", "expired", "revoked"].into_iter().map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select>
                </div>
                <Field id="filter-email" label="Email" kind="search" value=search />
                <button type="submit" class="secondary">"Search"</button>
            </form>
            <Alert message=error />
            <div class="table-wrap">
            <table>
                <thead><tr>
                    <th scope="col">"For"</th><th scope="col">"State"</th><th scope="col">"Role"</th>
                    <th scope="col">"Uses"</th><th scope="col">"Expires"</th><th scope="col">"Invited by"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|i| (i.id.clone(), i.state.as_str(), i.expires_at) let:inv>
                        <InvitationRow inv=inv link=link on_change=Callback::new(move |_| load(false)) />
                    </For>
                </tbody>
            </table>
            </div>
            <Show when=move || rows.with(|r| r.is_empty())><p class="muted">"No invitations match."</p></Show>
            <Show when=move || cursor.get().is_some()>
                <button type="button" class="secondary" on:click=move |_| load(true)>"Load more"</button>
            </Show>
        </section>
    }
}

#[component]
fn InvitationRow(
    inv: Invitation,
    link: RwSignal<Option<(String, String)>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let id = StoredValue::new(inv.id.clone());
    let target = inv
        .email
        .clone()
        .or_else(|| inv.email_domain.clone().map(|d| format!("anyone @{d}")))
        .unwrap_or_else(|| "open link".into());
    let target_v = StoredValue::new(target.clone());
    let pending = inv.state == InvitationState::Pending;
    let error = RwSignal::new(None::<String>);
    let revoke = move |_| {
        leptos::task::spawn_local(async move {
            let id = id.get_value();
            match ctx
                .call_with(id, |c, id| async move { c.revoke_invitation(&id).await })
                .await
            {
                Ok(_) => on_change.run(()),
                Err(e) => error.set(err(&e)),
            }
        });
    };
    let resend = move |_| {
        leptos::task::spawn_local(async move {
            let id = id.get_value();
            let res = ctx
                .call_with(id, |c, id| async move {
                    c.resend_invitation(&id, &ResendInvitationRequest::default())
                        .await
                })
                .await;
            match res {
                Ok(r) => {
                    link.set(Some((
                        format!(
                            "New link for {} (the old one no longer works):",
                            target_v.get_value()
                        ),
                        r.url,
                    )));
                    on_change.run(());
                }
                Err(e) => error.set(err(&e)),
            }
        });
    };
    view! {
        <tr>
            <td>{target.clone()}{inv.note.clone().map(|n| view! { <div class="muted small">{n}</div> })}</td>
            <td><StateBadge state=inv.state.as_str() /></td>
            <td>{inv.role.as_str()}</td>
            <td>{format!("{}/{}", inv.uses, inv.max_uses)}</td>
            <td>{fmt_time(&inv.expires_at)}</td>
            <td>{inv.inviter_name.clone().unwrap_or_else(|| actor_label(&inv.inviter))}</td>
            <td class="actions">
                {pending.then(|| view! {
                    <button type="button" class="secondary" aria-label=format!("Resend the invitation for {target}") on:click=resend>"Resend"</button>
                    <button type="button" class="danger" aria-label=format!("Revoke the invitation for {}", target_v.get_value()) on:click=revoke>"Revoke"</button>
                })}
                <span class="error-text" role="alert">{move || error.get()}</span>
            </td>
        </tr>
    }
}

#[component]
fn CreateInvitation(on_created: Callback<(String, String)>) -> impl IntoView {
    let ctx = ctx();
    let kind = RwSignal::new("email".to_string());
    let email = RwSignal::new(String::new());
    let domain = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let role = RwSignal::new("member".to_string());
    let uses = RwSignal::new("1".to_string());
    let note = RwSignal::new(String::new());
    let send = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = kind.get_untracked();
        let mut req = CreateInvitationRequest {
            role: role.get_untracked().parse::<Role>().ok(),
            note: Some(note.get_untracked().trim().to_string()).filter(|n| !n.is_empty()),
            expires_in_days: days.get_untracked().trim().parse().ok(),
            ..Default::default()
        };
        let what = match k.as_str() {
            "email" => {
                req.email = Some(email.get_untracked().trim().to_string());
                req.send_email = Some(send.get_untracked());
                format!("Invitation created for {}.", email.get_untracked().trim())
            }
            "domain" => {
                req.email_domain = Some(
                    domain
                        .get_untracked()
                        .trim()
                        .trim_start_matches('@')
                        .to_string(),
                );
                req.max_uses = uses.get_untracked().trim().parse().ok();
                format!(
                    "Invitation link created for @{}.",
                    domain.get_untracked().trim().trim_start_matches('@')
                )
            }
            _ => {
                req.max_uses = uses.get_untracked().trim().parse().ok();
                "Open invitation link created.".to_string()
            }
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let res = ctx
                .call_with(req, |c, req| async move { c.create_invitation(&req).await })
                .await;
            busy.set(false);
            match res {
                Ok(inv) => {
                    email.set(String::new());
                    note.set(String::new());
                    on_created.run((format!("{what} Copy the link:"), inv.url));
                }
                Err(e) => error.set(err(&e)),
            }
        });
    };
    view! {
        <form on:submit=submit novalidate class="grid-form">
            <fieldset class="kinds">
                <legend>"Who can use it"</legend>
                {[("email", "One email address"), ("domain", "Anyone at a domain"), ("open", "Anyone with the link")].into_iter().map(|(v, l)| {
                    let id = format!("kind-{v}");
                    view! {
                        <label for=id.clone() class="radio">
                            <input type="radio" id=id.clone() name="kind" value=v prop:checked=move || kind.get() == v on:change=move |_| kind.set(v.to_string()) />
                            {l}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <Show when=move || kind.get() == "email">
                <Field id="new-email" label="Email" kind="email" value=email required=true />
                <label class="check" for="new-send"><input id="new-send" type="checkbox" prop:checked=move || send.get() on:change=move |ev| send.set(event_target_checked(&ev)) />"Email the link to them"</label>
            </Show>
            <Show when=move || kind.get() == "domain">
                <Field id="new-domain" label="Domain" value=domain hint="For example example.com" required=true />
            </Show>
            <Show when=move || kind.get() != "email">
                <Field id="new-uses" label="Maximum uses" kind="number" value=uses />
            </Show>
            <Field id="new-days" label="Expires after (days)" kind="number" value=days hint="Empty: the default from Settings" />
            <div class="field">
                <label for="new-role">"Role"</label>
                <select id="new-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="member" selected=true>"member"</option>
                    <option value="admin">"admin"</option>
                </select>
            </div>
            <Field id="new-note" label="Note for the invitee (optional)" value=note />
            <Alert message=error />
            <Submit label="Create invitation" busy=busy />
        </form>
    }
}

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
        let rows: Vec<_> = rows
            .into_iter()
            .map(|mut r| {
                r.send_email = Some(send.get_untracked());
                r
            })
            .collect();
        let req = BulkCreateRequest {
            invitations: rows,
            dry_run: dry.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let res = ctx
                .call_with(req, |c, req| async move {
                    c.bulk_create_invitations(&req).await
                })
                .await;
            busy.set(false);
            match res {
                Ok(r) => result.set(Some(r)),
                Err(e) => error.set(err(&e)),
            }
        });
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Import invitations"</h1>
            <p>"One email per line, or a CSV file with a header row naming "<code>"email"</code>" and optionally "<code>"role"</code>", "<code>"note"</code>" and "<code>"expires_in_days"</code>"."</p>
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

/// `/admin/users`: list, search and disable accounts.
#[component]
pub fn AdminUsers() -> impl IntoView {
    let ctx = ctx();
    let rows = RwSignal::new(Vec::<User>::new());
    let cursor = RwSignal::new(None::<String>);
    let search = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let load = paged(
        rows,
        cursor,
        error,
        move || {
            let mut q: Query = vec![("limit".into(), "50".into())];
            let s = search.get_untracked().trim().to_string();
            if !s.is_empty() {
                q.push(("email".into(), s));
            }
            q
        },
        |c, q| async move { c.list_users(&pairs(&q)).await },
    );
    load(false);
    let me = ctx
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.user.id.clone()));
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Users"</h1>
            <form class="filters" role="search" on:submit=move |ev| { ev.prevent_default(); load(false) }>
                <Field id="user-search" label="Email" kind="search" value=search />
                <button type="submit" class="secondary">"Search"</button>
            </form>
            <Alert message=error />
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Email"</th><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th><th scope="col">"Status"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|u| (u.id.clone(), u.disabled_at.is_some()) let:u>
                        {
                            let id = StoredValue::new(u.id.clone());
                            let active = u.disabled_at.is_none();
                            let is_me = me.as_deref() == Some(u.id.as_str());
                            let label = format!("Disable {}", u.email);
                            let disable = move |_| {
                                if !web_sys::window().and_then(|w| w.confirm_with_message("Disable this account? Their sessions end and their pending invitations are revoked.").ok()).unwrap_or(false) { return; }
                                leptos::task::spawn_local(async move {
                                    let id = id.get_value();
                                    match ctx.call_with(id, |c, id| async move { c.disable_user(&id).await }).await {
                                        Ok(_) => load(false),
                                        Err(e) => error.set(err(&e)),
                                    }
                                });
                            };
                            view! {
                                <tr>
                                    <td>{u.email.clone()}</td>
                                    <td>{u.display_name.clone().unwrap_or_default()}</td>
                                    <td>{u.role.as_str()}</td>
                                    <td>{fmt_time(&u.created_at)}</td>
                                    <td>{if active { view! { <span class="badge badge-accepted">"active"</span> } } else { view! { <span class="badge badge-revoked">"disabled"</span> } }}</td>
                                    <td class="actions">{(active && !is_me).then(|| view! { <button type="button" class="danger" aria-label=label on:click=disable>"Disable"</button> })}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            </div>
            <Show when=move || cursor.get().is_some()>
                <button type="button" class="secondary" on:click=move |_| load(true)>"Load more"</button>
            </Show>
        </section>
    }
}

/// `/admin/audit`: the audit log with filters and export.
#[component]
pub fn AdminAudit() -> impl IntoView {
    let ctx = ctx();
    let rows = RwSignal::new(Vec::<AuditEvent>::new());
    let cursor = RwSignal::new(None::<String>);
    let action = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let query = move || {
        let mut q: Vec<(String, String)> = Vec::new();
        if !action.get_untracked().is_empty() {
            q.push(("action".into(), action.get_untracked()));
        }
        if !outcome.get_untracked().is_empty() {
            q.push(("outcome".into(), outcome.get_untracked()));
        }
        q
    };
    let load = paged(
        rows,
        cursor,
        error,
        move || {
            let mut q = query();
            q.push(("limit".into(), "50".into()));
            q
        },
        |c, q| async move { c.list_audit_events(&pairs(&q)).await },
    );
    load(false);
    let export = move |format: &'static str| {
        let mut q = query();
        q.push(("format".into(), format.into()));
        leptos::task::spawn_local(async move {
            let res = ctx
                .call_with(
                    q,
                    |c, q| async move { c.export_audit_events(&pairs(&q)).await },
                )
                .await;
            match res {
                Ok(body) => download(
                    &format!("audit-events.{format}"),
                    if format == "csv" {
                        "text/csv"
                    } else {
                        "application/x-ndjson"
                    },
                    &body,
                ),
                Err(e) => error.set(err(&e)),
            }
        });
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
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Outcome"</th><th scope="col">"Actor"</th><th scope="col">"Target"</th><th scope="col">"IP"</th></tr></thead>
                <tbody>
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
                </tbody>
            </table>
            </div>
            <Show when=move || cursor.get().is_some()>
                <button type="button" class="secondary" on:click=move |_| load(true)>"Load more"</button>
            </Show>
        </section>
    }
}

/// `/admin/api-keys`: create (the key is shown once) and revoke.
#[component]
pub fn AdminApiKeys() -> impl IntoView {
    let ctx = ctx();
    let keys = RwSignal::new(Vec::<ApiKey>::new());
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![Scope::InvitationsWrite]);
    let created = RwSignal::new(None::<String>);
    let load = move || {
        leptos::task::spawn_local(async move {
            match ctx.call(|c| async move { c.list_api_keys().await }).await {
                Ok(k) => keys.set(k),
                Err(e) => error.set(err(&e)),
            }
        })
    };
    load();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = CreateApiKeyRequest {
            name: name.get_untracked().trim().to_string(),
            scopes: scopes.get_untracked(),
        };
        if req.name.is_empty() {
            return error.set(Some(
                "Give the key a name, such as the system that will use it.".into(),
            ));
        }
        leptos::task::spawn_local(async move {
            match ctx
                .call_with(req, |c, req| async move { c.create_api_key(&req).await })
                .await
            {
                Ok(k) => {
                    created.set(Some(k.key));
                    name.set(String::new());
                    error.set(None);
                    load();
                }
                Err(e) => error.set(err(&e)),
            }
        });
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"API keys"</h1>
            <form on:submit=submit novalidate>
                <Field id="key-name" label="Name" value=name required=true />
                <fieldset>
                    <legend>"Scopes"</legend>
                    {Scope::ALL.iter().copied().map(|s| {
                        let id = format!("scope-{}", s.as_str().replace(':', "-"));
                        view! {
                            <label class="check" for=id.clone()>
                                <input id=id.clone() type="checkbox" prop:checked=move || scopes.with(|v| v.contains(&s))
                                    on:change=move |ev| scopes.update(|v| if event_target_checked(&ev) { if !v.contains(&s) { v.push(s) } } else { v.retain(|x| *x != s) }) />
                                <code>{s.as_str()}</code>
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <Alert message=error />
                <button type="submit" class="primary">"Create key"</button>
            </form>
            <div role="status" aria-live="polite">
                {move || created.get().map(|k| view! {
                    <div class="success"><p><strong>"Copy this key now: it will not be shown again."</strong></p><CopyField value=k label="API key" /></div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"Keys"</h2>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Prefix"</th><th scope="col">"Scopes"</th><th scope="col">"Last used"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || keys.get() key=|k| (k.id.clone(), k.revoked_at.is_some()) let:k>
                        {
                            let id = StoredValue::new(k.id.clone());
                            let label = format!("Revoke {}", k.name);
                            let revoke = move |_| leptos::task::spawn_local(async move {
                                let id = id.get_value();
                                match ctx.call_with(id, |c, id| async move { c.revoke_api_key(&id).await }).await {
                                    Ok(()) => load(),
                                    Err(e) => error.set(err(&e)),
                                }
                            });
                            view! {
                                <tr>
                                    <td>{k.name.clone()}</td><td><code>{k.prefix.clone()}</code></td>
                                    <td>{k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                    <td>{k.last_used_at.as_ref().map(fmt_time).unwrap_or_else(|| "never".into())}</td>
                                    <td class="actions">{if k.revoked_at.is_some() { view! { <span class="badge badge-revoked">"revoked"</span> }.into_any() } else { view! { <button type="button" class="danger" aria-label=label on:click=revoke>"Revoke"</button> }.into_any() }}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            </div>
        </section>
    }
}

/// `/admin/webhooks`: endpoints (the signing secret shown once), delivery log, replay.
#[component]
pub fn AdminWebhooks() -> impl IntoView {
    let ctx = ctx();
    let hooks = RwSignal::new(Vec::<WebhookEndpoint>::new());
    let error = RwSignal::new(None::<String>);
    let url = RwSignal::new(String::new());
    let events = RwSignal::new(String::new());
    let secret = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let deliveries = RwSignal::new(Vec::<WebhookDelivery>::new());
    let load = move || {
        leptos::task::spawn_local(async move {
            match ctx.call(|c| async move { c.list_webhooks().await }).await {
                Ok(h) => hooks.set(h),
                Err(e) => error.set(err(&e)),
            }
        })
    };
    load();
    let show = move |id: String| {
        selected.set(Some(id.clone()));
        leptos::task::spawn_local(async move {
            match ctx
                .call_with(id, |c, id| async move { c.webhook_deliveries(&id).await })
                .await
            {
                Ok(d) => deliveries.set(d),
                Err(e) => error.set(err(&e)),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ev_list: Vec<String> = events
            .get_untracked()
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let req = CreateWebhookRequest {
            url: url.get_untracked().trim().to_string(),
            events: if ev_list.is_empty() {
                vec!["*".into()]
            } else {
                ev_list
            },
        };
        leptos::task::spawn_local(async move {
            match ctx
                .call_with(req, |c, req| async move { c.create_webhook(&req).await })
                .await
            {
                Ok(h) => {
                    secret.set(Some(h.secret));
                    url.set(String::new());
                    error.set(None);
                    load();
                }
                Err(e) => error.set(err(&e)),
            }
        });
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Webhooks"</h1>
            <p class="muted">"Every audit event can be sent, signed as in the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature)."</p>
            <form on:submit=submit novalidate>
                <Field id="hook-url" label="Endpoint URL" kind="url" value=url required=true />
                <Field id="hook-events" label="Events" value=events hint="Comma-separated, e.g. invitation.created, registration.succeeded. Empty: every event." />
                <Alert message=error />
                <button type="submit" class="primary">"Add endpoint"</button>
            </form>
            <div role="status" aria-live="polite">
                {move || secret.get().map(|s| view! {
                    <div class="success"><p><strong>"Copy the signing secret now: it will not be shown again."</strong></p><CopyField value=s label="Signing secret" /></div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"Endpoints"</h2>
            <Show when=move || !hooks.with(|h| h.is_empty()) fallback=|| view! { <p class="muted">"No endpoints yet."</p> }>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"URL"</th><th scope="col">"Events"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || hooks.get() key=|h| h.id.clone() let:h>
                        {
                            let id = StoredValue::new(h.id.clone());
                            let remove = move |_| leptos::task::spawn_local(async move {
                                let id = id.get_value();
                                match ctx.call_with(id, |c, id| async move { c.delete_webhook(&id).await }).await {
                                    Ok(()) => load(),
                                    Err(e) => error.set(err(&e)),
                                }
                            });
                            view! {
                                <tr>
                                    <td class="break">{h.url.clone()}</td><td>{h.events.join(", ")}</td>
                                    <td class="actions">
                                        <button type="button" class="secondary" on:click=move |_| show(id.get_value())>"Deliveries"</button>
                                        <button type="button" class="danger" on:click=remove>"Delete"</button>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            </div>
            </Show>
        </section>
        <Show when=move || selected.get().is_some()>
            <section class="card">
                <h2>"Delivery log"</h2>
                <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Response"</th><th scope="col">"Attempts"</th><th scope="col">"Next attempt"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                        <For each=move || deliveries.get() key=|d| (d.id.clone(), d.status.clone(), d.attempts) let:d>
                            {
                                let did = StoredValue::new(d.id.clone());
                                let replay = move |_| leptos::task::spawn_local(async move {
                                    let (Some(h), d) = (selected.get_untracked(), did.get_value()) else { return };
                                    match ctx.call_with((h.clone(), d), |c, (h, d)| async move { c.replay_webhook_delivery(&h, &d).await }).await {
                                        Ok(()) => show(h),
                                        Err(e) => error.set(err(&e)),
                                    }
                                });
                                view! {
                                    <tr>
                                        <td><code>{d.event.clone()}</code></td>
                                        <td><span class=format!("badge badge-{}", d.status)>{d.status.clone()}</span></td>
                                        <td>{d.response_status.map(|s| s.to_string()).or(d.last_error.clone()).unwrap_or_default()}</td>
                                        <td>{d.attempts}</td>
                                        <td>{d.next_attempt_at.as_ref().map(fmt_time).unwrap_or_default()}</td>
                                        <td class="actions"><button type="button" class="secondary" on:click=replay>"Replay"</button></td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
                </div>
            </section>
        </Show>
    }
}

/// `/admin/outbox`: emails and webhook deliveries that gave up (dead), with retry.
#[component]
pub fn AdminOutbox() -> impl IntoView {
    let ctx = ctx();
    let items = RwSignal::new(Vec::<OutboxItem>::new());
    let status_filter = RwSignal::new("dead".to_string());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let load = move || {
        leptos::task::spawn_local(async move {
            let s = status_filter.get_untracked();
            match ctx
                .call_with(s, |c, s| async move {
                    c.list_outbox(&[("status", s.as_str())]).await
                })
                .await
            {
                Ok(i) => items.set(i),
                Err(e) => error.set(err(&e)),
            }
        })
    };
    load();
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Delivery"</h1>
            <p class="muted">"Emails and webhook deliveries are retried with growing delays; after the last attempt they are marked dead and wait here."</p>
            <div class="filters">
                <div class="field">
                    <label for="outbox-status">"Status"</label>
                    <select id="outbox-status" on:change=move |ev| { status_filter.set(event_target_value(&ev)); load() }>
                        <option value="dead">"dead"</option><option value="pending">"pending"</option><option value="sent">"sent"</option>
                    </select>
                </div>
            </div>
            <Alert message=error />
            <Status message=notice />
            <Show when=move || !items.with(|i| i.is_empty()) fallback=|| view! { <p class="muted">"Nothing here."</p> }>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Kind"</th><th scope="col">"To"</th><th scope="col">"What"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || items.get() key=|i| (i.id.clone(), i.status.clone()) let:i>
                        {
                            let id = StoredValue::new(i.id.clone());
                            let dead = i.status == "dead";
                            let retry = move |_| leptos::task::spawn_local(async move {
                                let id = id.get_value();
                                match ctx.call_with(id, |c, id| async move { c.retry_outbox_item(&id).await }).await {
                                    Ok(()) => { notice.set(Some("Queued for another attempt.".into())); load() }
                                    Err(e) => error.set(err(&e)),
                                }
                            });
                            view! {
                                <tr>
                                    <td>{i.kind.clone()}</td><td class="break">{i.recipient.clone().unwrap_or_default()}</td>
                                    <td>{i.summary.clone().unwrap_or_default()}</td><td>{i.attempts}</td>
                                    <td class="break">{i.last_error.clone().unwrap_or_default()}</td>
                                    <td class="actions">{dead.then(|| view! { <button type="button" class="secondary" on:click=retry>"Retry"</button> })}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            </div>
            </Show>
        </section>
    }
}

/// `/admin/settings`: sign-up mode and the seed's four options.
#[component]
pub fn AdminSettings() -> impl IntoView {
    let ctx = ctx();
    let mode = RwSignal::new("invite_only".to_string());
    let invite_only = RwSignal::new(true);
    let expiry = RwSignal::new(String::new());
    let quota = RwSignal::new(String::new());
    let allow = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let apply = move |s: SettingsView| {
        mode.set(s.signup_mode.as_str().to_string());
        invite_only.set(s.enable_invite_only);
        expiry.set(s.invite_link_expiry.to_string());
        quota.set(s.max_invites_per_user.to_string());
        allow.set(s.invitation_whitelist_emails.join("\n"));
    };
    leptos::task::spawn_local(async move {
        match ctx.call(|c| async move { c.settings().await }).await {
            Ok(s) => apply(s),
            Err(e) => error.set(err(&e)),
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(days), Ok(q)) = (
            expiry.get_untracked().trim().parse::<i64>(),
            quota.get_untracked().trim().parse::<u32>(),
        ) else {
            return error.set(Some("Expiry and quota must be whole numbers.".into()));
        };
        let patch = SettingsPatch {
            enable_invite_only: Some(invite_only.get_untracked()),
            signup_mode: mode.get_untracked().parse::<SignupMode>().ok(),
            invite_link_expiry: Some(days),
            max_invites_per_user: Some(q),
            invitation_whitelist_emails: Some(
                allow
                    .get_untracked()
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        };
        busy.set(true);
        status.set(None);
        leptos::task::spawn_local(async move {
            let res = ctx
                .call_with(patch, |c, p| async move { c.patch_settings(&p).await })
                .await;
            busy.set(false);
            match res {
                Ok(s) => {
                    apply(s);
                    error.set(None);
                    status.set(Some("Settings saved.".into()))
                }
                Err(e) => error.set(err(&e)),
            }
        });
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Settings"</h1>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="set-mode">"Sign-up mode"</label>
                    <select id="set-mode" prop:value=move || mode.get() on:change=move |ev| mode.set(event_target_value(&ev))>
                        <option value="invite_only">"Invitation only"</option>
                        <option value="open">"Open to anyone"</option>
                        <option value="closed">"Closed"</option>
                    </select>
                </div>
                <label class="check" for="set-invite-only"><input id="set-invite-only" type="checkbox" prop:checked=move || invite_only.get() on:change=move |ev| invite_only.set(event_target_checked(&ev)) />"Require an invitation (enable_invite_only)"</label>
                <Field id="set-expiry" label="Invitation links expire after (days)" kind="number" value=expiry />
                <Field id="set-quota" label="Invitations each member may send" kind="number" value=quota />
                <div class="field">
                    <label for="set-allow">"Pre-approved email addresses (one per line)"</label>
                    <textarea id="set-allow" rows="5" aria-describedby="set-allow-hint" prop:value=move || allow.get() on:input=move |ev| allow.set(event_target_value(&ev))></textarea>
                    <p class="hint" id="set-allow-hint">"These people can register without an invitation, after confirming their address."</p>
                </div>
                <Alert message=error />
                <Status message=status />
                <Submit label="Save settings" busy=busy />
            </form>
        </section>
    }
}

//! `/admin`: invitations — create, filter, search, page, revoke, resend.

use super::*;

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
        move || InvitationListQuery {
            state: state.get_untracked().parse().ok(),
            email: text_filter(search),
            limit: Some(25),
            ..Default::default()
        },
        |c, q| async move { c.list_invitations(&q).await },
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
                        {InvitationState::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <Field id="filter-email" label="Email" kind="search" value=search />
                <button type="submit" class="secondary">"Search"</button>
            </form>
            <Alert message=error />
            <PagedTable
                columns=&["For", "State", "Role", "Uses", "Expires", "Invited by", ACTIONS]
                cursor=cursor
                more=move |()| load(true)
                empty=(Signal::derive(move || rows.with(|r| r.is_empty())), "No invitations match.")
            >
                <For each=move || rows.get() key=|i| (i.id.clone(), i.state.as_str(), i.expires_at) let:inv>
                    <InvitationRow inv=inv link=link on_change=Callback::new(move |_| load(false)) />
                </For>
            </PagedTable>
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
        ctx.act(
            error,
            id.get_value(),
            |c, id| async move { c.revoke_invitation(&id).await },
            move |_| on_change.run(()),
        )
    };
    let resend = move |_| {
        ctx.act(
            error,
            id.get_value(),
            |c, id| async move {
                c.resend_invitation(&id, &ResendInvitationRequest::default())
                    .await
            },
            move |r| {
                link.set(Some((
                    format!(
                        "New link for {} (the old one no longer works):",
                        target_v.get_value()
                    ),
                    r.url,
                )));
                on_change.run(());
            },
        )
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
        error.set(None);
        ctx.act_busy(
            busy,
            error,
            req,
            |c, req| async move { c.create_invitation(&req).await },
            move |inv| {
                email.set(String::new());
                note.set(String::new());
                on_created.run((format!("{what} Copy the link:"), inv.url));
            },
        );
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

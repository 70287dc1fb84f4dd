//! `/app`: the member area — who am I, my quota, invite someone, my invitations.

use std::collections::HashMap;

use invitegate_core::api::{CreateInvitationRequest, Invitation, MeResponse};

/// How many of their own invitations a member sees (a member's quota is far smaller).
const MY_INVITATIONS_SHOWN: u32 = 100;
use invitegate_core::model::InvitationState;
use leptos::prelude::*;

use crate::errors::{Limits, describe};
use crate::session::ctx;
use crate::ui::*;
use crate::util::{copy_to_clipboard, fmt_time, fmt_until};

/// The member area.
#[component]
pub fn MemberPage() -> impl IntoView {
    let ctx = ctx();
    let me = RwSignal::new(None::<MeResponse>);
    let invitations = RwSignal::new(Vec::<Invitation>::new());
    let links = RwSignal::new(HashMap::<String, String>::new());
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<(String, String)>);
    let funnel = RwSignal::new(None::<invitegate_core::api::Funnel>);
    let reload = move || {
        leptos::task::spawn_local(async move {
            let my_id = match ctx.call(|c| async move { c.me().await }).await {
                Ok(m) => {
                    let id = m.user.id.clone();
                    me.set(Some(m));
                    Some(id)
                }
                Err(e) => {
                    error.set(Some(describe(&e, Limits::default())));
                    None
                }
            };
            match ctx
                .call(|c| async move {
                    c.list_invitations(&invitegate_core::api::InvitationListQuery {
                        limit: Some(MY_INVITATIONS_SHOWN),
                        ..Default::default()
                    })
                    .await
                })
                .await
            {
                Ok(p) => invitations.set(p.data),
                Err(e) => error.set(Some(describe(&e, Limits::default()))),
            }
            // An administrator's own funnel too: without `inviter_id` they would get everyone's.
            let year = invitegate_core::api::InsightsQuery {
                since: Some(
                    invitegate_core::time::Utc::now() - invitegate_core::time::Duration::days(365),
                ),
                inviter_id: my_id,
                ..Default::default()
            };
            if let Ok(f) = ctx
                .call_with(year, |c, q| async move { c.insights_funnel(&q).await })
                .await
            {
                funnel.set(Some(f));
            }
        });
    };
    reload();
    let remaining = move || me.with(|m| m.as_ref().map(|m| m.invite_quota.remaining));
    let memberships = Signal::derive(move || {
        me.with(|m| {
            m.as_ref()
                .map(|m| m.memberships.clone())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="card">
            <h1>"Your account"</h1>
            {move || me.get().map(|m| {
                let q = m.invite_quota.clone();
                let quota = match q.limit {
                    Some(limit) => format!("{} of {} used, {} left", q.used, limit, q.remaining.unwrap_or(0)),
                    None => format!("{} sent; no limit for administrators", q.used),
                };
                view! {
                    <dl class="facts">
                        <dt>"Email"</dt><dd data-testid="me-email">{m.user.email.clone()}</dd>
                        <dt>"Name"</dt><dd>{m.user.display_name.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Role"</dt><dd>{m.user.role.as_str()}</dd>
                        <dt>"Invitations"</dt><dd data-testid="quota">{quota}</dd>
                    </dl>
                    <p><a href="/app/security">"Password, sessions and your data"</a></p>
                }
            })}
            <Alert message=error />
        </section>
        <crate::pages::organizations::OrganizationInvitations on_change=move |()| reload() />
        <crate::pages::organizations::MyOrganizations memberships=memberships />
        <crate::pages::org_manage::Suggestions />
        <crate::pages::org_manage::ManagedOrganizations memberships=memberships />
        <section class="card">
            <h2>"Invite someone"</h2>
            <Show
                when=move || remaining() != Some(Some(0))
                fallback=|| view! { <p class="notice" role="status">"You have used all your invitations. When someone declines or an invitation expires, it no longer counts."</p> }
            >
                <InviteForm on_created=Callback::new(move |(id, email, url): (String, String, String)| {
                    links.update(|l| { l.insert(id, url.clone()); });
                    created.set(Some((email, url)));
                    reload();
                }) />
            </Show>
            <div role="status" aria-live="polite">
                {move || created.get().map(|(e, url)| view! {
                    <div class="success">
                        <p>"Invitation sent to "<strong>{e}</strong>"."</p>
                        <p class="muted">"You can also copy the link and send it yourself:"</p>
                        <CopyField value=url />
                    </div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"Your invitations"</h2>
            {move || funnel.get().filter(|f| f.created > 0).map(|f| view! {
                <crate::charts::BarsChart id="my-funnel" title="Your invitations of the last 365 days"
                    figures=vec![("Sent".into(), f.created), ("Opened".into(), f.opened), ("Accepted".into(), f.accepted)] />
            })}
            <Show when=move || !invitations.with(|i| i.is_empty()) fallback=|| view! { <p class="muted">"You have not invited anyone yet."</p> }>
                <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">"Email"</th><th scope="col">"State"</th><th scope="col">"Expires"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                        <For each=move || invitations.get() key=|i| (i.id.clone(), i.state.as_str()) let:inv>
                            <MyInvitationRow inv=inv links=links on_change=Callback::new(move |_| reload()) />
                        </For>
                    </tbody>
                </table>
                </div>
            </Show>
        </section>
    }
}

#[component]
fn MyInvitationRow(
    inv: Invitation,
    links: RwSignal<HashMap<String, String>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let id = StoredValue::new(inv.id.clone());
    let pending = inv.state == InvitationState::Pending;
    let link = move || links.with(|l| l.get(&id.get_value()).cloned());
    let copied = RwSignal::new(false);
    let revoke = move |_| {
        let id = id.get_value();
        leptos::task::spawn_local(async move {
            let _ = ctx
                .call_with(id, |c, id| async move { c.revoke_invitation(&id).await })
                .await;
            on_change.run(());
        });
    };
    let email = inv.email.clone().unwrap_or_else(|| "—".into());
    let label = format!("Revoke the invitation for {email}");
    view! {
        <tr>
            <td>{email}</td>
            <td><StateBadge state=inv.state.as_str() /></td>
            <td>{if pending { fmt_until(&inv.expires_at) } else { fmt_time(&inv.expires_at) }}</td>
            <td class="actions">
                {move || (pending && link().is_some()).then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| { if let Some(l) = link() { copy_to_clipboard(&l); copied.set(true); } }>
                        {move || if copied.get() { "Copied" } else { "Copy link" }}
                    </button>
                })}
                {pending.then(|| view! { <button type="button" class="danger" aria-label=label on:click=revoke>"Revoke"</button> })}
            </td>
        </tr>
    }
}

/// The member's "invite someone" form: the address typed twice and the warning of seed 003.
#[component]
fn InviteForm(on_created: Callback<(String, String, String)>) -> impl IntoView {
    let ctx = ctx();
    let email = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let e = email.get_untracked().trim().to_string();
        if invitegate_core::Email::parse(&e).is_err() {
            error.set(Some(
                "Enter a valid email address, like name@example.com.".into(),
            ));
            return;
        }
        if !e.eq_ignore_ascii_case(again.get_untracked().trim()) {
            error.set(Some(
                "The two addresses differ. Type the address again.".into(),
            ));
            return;
        }
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let req = CreateInvitationRequest {
                email: Some(e.clone()),
                ..Default::default()
            };
            let res = ctx
                .call_with(req, |c, req| async move { c.create_invitation(&req).await })
                .await;
            busy.set(false);
            match res {
                Ok(inv) => {
                    email.set(String::new());
                    again.set(String::new());
                    on_created.run((inv.invitation.id.clone(), e, inv.url));
                }
                Err(err) => error.set(Some(describe(&err, Limits::default()))),
            }
        });
    };
    view! {
        <p class="warning">"The invitation link lets whoever holds it create an account. We email it to the address you enter; share it only with that person."</p>
        <form on:submit=submit novalidate>
            <Field id="invite-email" label="Their email" kind="email" value=email required=true />
            <Field id="invite-email-again" label="Their email, again" kind="email" value=again required=true />
            <Alert message=error />
            <Submit label="Send invitation" busy=busy />
        </form>
    }
}

/// A read-only field with a copy button (links and one-time secrets).
#[component]
pub fn CopyField(
    #[prop(into)] value: String,
    #[prop(into, default = "Link".into())] label: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let v = StoredValue::new(value.clone());
    let id = format!(
        "copy-{}",
        invitegate_core::text::lowercase(&label).replace(' ', "-")
    );
    view! {
        <div class="copy-field">
            <label for=id.clone() class="sr-only">{label}</label>
            <input id=id readonly=true value=value data-testid="copy-value" on:focus=move |ev| { event_target::<web_sys::HtmlInputElement>(&ev).select(); } />
            <button type="button" class="secondary" on:click=move |_| { copy_to_clipboard(&v.get_value()); copied.set(true); }>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

//! Managing an organisation, for its owners and admins (member area) and instance
//! administrators (admin console): invite into it (the address typed twice, with the risk
//! spelled out, seed 003), members and their roles, removal, and join requests. Also the
//! "Join Acme?" suggestions a signed-in account sees for its email domain.

use invitegate_core::api::{
    CreateInvitationRequest, Invitation, InvitationListQuery, JoinRequest, MemberListQuery,
    Membership, Organization,
};
use invitegate_core::model::OrganizationRole;
use leptos::prelude::*;

use crate::pages::member::CopyField;
use crate::session::ctx;
use crate::ui::*;

/// Most members shown at once.
const MEMBERS_SHOWN: u32 = 200;
/// Most invitations shown at once, newest first.
const INVITATIONS_SHOWN: u32 = 50;

/// Manages organisation `id` named `name`. `mine`: the viewer's role in it (`None` for an
/// instance administrator, who may do everything an owner may).
#[component]
pub fn ManageOrganization(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    mine: Option<OrganizationRole>,
) -> impl IntoView {
    let ctx = ctx();
    let id = StoredValue::new(id);
    let members = RwSignal::new(Vec::<Membership>::new());
    let requests = RwSignal::new(Vec::<JoinRequest>::new());
    let invitations = RwSignal::new(Vec::<Invitation>::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let load = move || {
        ctx.act(
            error,
            id.get_value(),
            |c, id| async move {
                let q = MemberListQuery {
                    limit: Some(MEMBERS_SHOWN),
                    ..Default::default()
                };
                let invited = InvitationListQuery {
                    organization_id: Some(id.clone()),
                    limit: Some(INVITATIONS_SHOWN),
                    ..Default::default()
                };
                Ok((
                    c.organization_members(&id, &q).await?.data,
                    c.join_requests(&id).await?,
                    c.list_invitations(&invited).await?.data,
                ))
            },
            move |(m, r, i)| {
                members.set(m);
                requests.set(r);
                invitations.set(i);
            },
        )
    };
    load();
    let governs_owners = mine.is_none() || mine == Some(OrganizationRole::Owner);
    let heading_id = format!("manage-{}", id.get_value());
    let labelled_by = heading_id.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading_id>{format!("Manage {name}")}</h2>
            <Alert message=error />
            <Status message=notice />
            <h3>"Invite into "{name.clone()}</h3>
            <OrganizationInviteForm org=id.get_value() org_name=name.clone() governs_owners=governs_owners on_sent=Callback::new(move |()| load()) />
            <Show when=move || !requests.with(|r| r.is_empty())>
                <h3>"Asking to join"</h3>
                <ul class="plain">
                    <For each=move || requests.get() key=|r| r.id.clone() let:r>
                        {
                            let rid = StoredValue::new(r.id.clone());
                            let who = StoredValue::new(r.user.email.clone());
                            let decide = move |approve: bool| ctx.act(error, (id.get_value(), rid.get_value()), move |c, (o, r)| async move {
                                if approve { c.approve_join_request(&o, &r).await.map(|_| ()) } else { c.reject_join_request(&o, &r).await.map(|_| ()) }
                            }, move |()| {
                                notice.set(Some(format!("{} {}.", who.get_value(), if approve { "joined" } else { "was not admitted" })));
                                load();
                            });
                            view! {
                                <li>
                                    <p><strong>{r.user.email.clone()}</strong>" asks to join."</p>
                                    <div class="actions">
                                        <button type="button" class="primary" on:click=move |_| decide(true)>"Approve"</button>
                                        <button type="button" class="secondary" on:click=move |_| decide(false)>"Reject"</button>
                                    </div>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
            <h3>"Invitations into "{name.clone()}</h3>
            <p class="muted">"Newest first: all of them for administrators, the ones you sent otherwise."</p>
            <Show when=move || !invitations.with(|i| i.is_empty()) fallback=|| view! { <p class="muted">"No invitations yet."</p> }>
                <div class="table-wrap">
                <table data-testid="organization-invitations">
                    <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>
                        <For each=move || invitations.get() key=|i| (i.id.clone(), i.state) let:i>
                            <tr>
                                <td>{i.email.clone().or(i.email_domain.clone().map(|d| format!("@{d}"))).unwrap_or_else(|| "anyone with the link".into())}</td>
                                <td>{i.organization_role.map(|r| r.as_str()).unwrap_or("member")}</td>
                                <td><StateBadge state=i.state.as_str() /></td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                </div>
            </Show>
            <h3>"Members"</h3>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || members.get() key=|m| (m.user.id.clone(), m.role) let:m>
                        <MemberRow org=id.get_value() m=m governs_owners=governs_owners error=error notice=notice on_change=Callback::new(move |()| load()) />
                    </For>
                </tbody>
            </table>
            </div>
        </section>
    }
}

#[component]
fn MemberRow(
    org: String,
    m: Membership,
    governs_owners: bool,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let key = StoredValue::new((org, m.user.id.clone()));
    let email = StoredValue::new(m.user.email.clone());
    let editable = governs_owners || m.role != OrganizationRole::Owner;
    let select_id = format!("role-{}", m.user.id);
    let change = move |ev: leptos::ev::Event| {
        let Ok(role) = event_target_value(&ev).parse::<OrganizationRole>() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let req = invitegate_core::api::UpdateMembershipRequest { role };
            let result = ctx
                .call_with((key.get_value(), req), |c, ((o, u), req)| async move {
                    c.update_organization_member(&o, &u, &req).await
                })
                .await;
            match result {
                Ok(_) => notice.set(Some(format!(
                    "{} is now {}.",
                    email.get_value(),
                    role.as_str()
                ))),
                Err(e) => error.set(Some(crate::errors::describe(
                    &e,
                    crate::errors::Limits::default(),
                ))),
            }
            // Either way the table shows the roles as they now are (a refused change reverts).
            on_change.run(());
        });
    };
    let remove = move |_| {
        ctx.act(
            error,
            key.get_value(),
            |c, (o, u)| async move { c.remove_organization_member(&o, &u).await },
            move |()| {
                notice.set(Some(format!("{} was removed.", email.get_value())));
                on_change.run(());
            },
        );
    };
    let roles: Vec<OrganizationRole> = OrganizationRole::ALL
        .iter()
        .copied()
        .filter(|r| governs_owners || *r != OrganizationRole::Owner)
        .collect();
    let current = m.role;
    view! {
        <tr>
            <td>{m.user.email.clone()}</td>
            <td>
                {if editable {
                    view! {
                        <label for=select_id.clone() class="sr-only">{format!("Role of {}", m.user.email)}</label>
                        <select id=select_id on:change=change>
                            {roles.into_iter().map(|r| view! { <option value=r.as_str() selected=r == current>{r.as_str()}</option> }).collect_view()}
                        </select>
                    }.into_any()
                } else {
                    view! { <span>{current.as_str()}</span> }.into_any()
                }}
            </td>
            <td>
                <Show when=move || editable>
                    <button type="button" class="danger" aria-label=format!("Remove {}", email.get_value()) on:click=remove>"Remove"</button>
                </Show>
            </td>
        </tr>
    }
}

/// The invitation form of an organisation: the address typed twice and the risk spelled out
/// (seed 003: whoever can read that mailbox joins with the chosen role).
#[component]
fn OrganizationInviteForm(
    org: String,
    org_name: String,
    governs_owners: bool,
    on_sent: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let org = StoredValue::new(org);
    let email = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let role = RwSignal::new(OrganizationRole::Member);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let sent = RwSignal::new(None::<(String, String)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let e = email.get_untracked().trim().to_string();
        if invitegate_core::Email::parse(&e).is_err() {
            return error.set(Some(
                "Enter a valid email address, like name@example.com.".into(),
            ));
        }
        if !e.eq_ignore_ascii_case(again.get_untracked().trim()) {
            return error.set(Some(
                "The two addresses differ. Type the address again.".into(),
            ));
        }
        error.set(None);
        let req = CreateInvitationRequest {
            email: Some(e.clone()),
            organization_id: Some(org.get_value()),
            organization_role: Some(role.get_untracked()),
            ..Default::default()
        };
        ctx.act_busy(
            busy,
            error,
            req,
            |c, req| async move { c.create_invitation(&req).await },
            move |inv| {
                email.set(String::new());
                again.set(String::new());
                sent.set(Some((e, inv.url)));
                on_sent.run(());
            },
        );
    };
    let field = |suffix: &str| format!("org-invite-{suffix}-{}", org.get_value());
    let role_id = field("role");
    let roles: Vec<OrganizationRole> = OrganizationRole::ALL
        .iter()
        .copied()
        .filter(|r| governs_owners || *r != OrganizationRole::Owner)
        .collect();
    view! {
        <p class="warning" data-testid="invite-risk">{move || format!(
            "Whoever can read the email sent to this address can join {} as {}. Check the address letter by letter: an invitation to the wrong address gives a stranger access.",
            org_name, role.get().as_str()
        )}</p>
        <form on:submit=submit novalidate>
            <Field id=field("email") label="Their email" kind="email" value=email required=true />
            <Field id=field("email-again") label="Their email, again" kind="email" value=again required=true />
            <div class="field">
                <label for=role_id.clone()>"Role"</label>
                <select id=role_id on:change=move |ev| if let Ok(r) = event_target_value(&ev).parse() { role.set(r) }>
                    {roles.into_iter().map(|r| view! { <option value=r.as_str() selected=r == OrganizationRole::Member>{r.as_str()}</option> }).collect_view()}
                </select>
            </div>
            <Alert message=error />
            <Submit label="Send invitation" busy=busy />
        </form>
        <div role="status" aria-live="polite">
            {move || sent.get().map(|(e, url)| view! {
                <div class="success">
                    <p>"Invitation sent to "<strong>{e}</strong>"."</p>
                    <CopyField value=url />
                </div>
            })}
        </div>
    }
}

/// "Join Acme?": organisations whose `suggest` domain matches the account's email, each with
/// "Ask to join". Nothing when there are none.
#[component]
pub fn Suggestions() -> impl IntoView {
    let ctx = ctx();
    let suggested = RwSignal::new(Vec::<Organization>::new());
    let error = RwSignal::new(None::<String>);
    let asked = RwSignal::new(None::<String>);
    ctx.act(
        error,
        (),
        |c, ()| async move { c.my_suggestions().await },
        move |s| suggested.set(s),
    );
    view! {
        <Show when=move || !suggested.with(|s| s.is_empty()) || error.with(Option::is_some)>
            <section class="card" aria-labelledby="suggestions">
                <h2 id="suggestions">"Organisations for your address"</h2>
                <Alert message=error />
                <Status message=asked />
                <ul class="plain">
                    <For each=move || suggested.get() key=|o| o.id.clone() let:o>
                        {
                            let oid = StoredValue::new(o.id.clone());
                            let name = StoredValue::new(o.name.clone());
                            let ask = move |_| ctx.act(error, oid.get_value(), |c, id| async move { c.request_to_join(&id).await }, move |_| {
                                asked.set(Some(format!("You asked to join {}. An administrator of it will decide.", name.get_value())));
                            });
                            view! {
                                <li>
                                    <p>{format!("Join {}?", o.name)}</p>
                                    <button type="button" class="primary" on:click=ask>"Ask to join"</button>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </section>
        </Show>
    }
}

/// The managing cards for every organisation the account owns or administers.
#[component]
pub fn ManagedOrganizations(#[prop(into)] memberships: Signal<Vec<Membership>>) -> impl IntoView {
    let managed = move || {
        memberships.with(|m| {
            m.iter()
                .filter(|m| matches!(m.role, OrganizationRole::Owner | OrganizationRole::Admin))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <For each=managed key=|m| (m.organization.id.clone(), m.role) let:m>
            <ManageOrganization id=m.organization.id.clone() name=m.organization.name.clone() mine=Some(m.role) />
        </For>
    }
}

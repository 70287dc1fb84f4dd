//! The member area's organisations: invitations waiting for the signed-in account (accept or
//! decline), and the organisations it belongs to.

use invitegate_core::api::{Invitation, Membership};
use leptos::prelude::*;

use crate::session::ctx;
use crate::ui::*;

/// Invitations into organisations addressed to the signed-in account, with Accept and Decline;
/// nothing when there are none. `on_change` runs after either.
#[component]
pub fn OrganizationInvitations(#[prop(into)] on_change: Callback<()>) -> impl IntoView {
    let ctx = ctx();
    let pending = RwSignal::new(Vec::<Invitation>::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let load = move || {
        ctx.act(
            error,
            (),
            |c, ()| async move { c.my_invitations().await },
            move |i| pending.set(i),
        )
    };
    load();
    view! {
        <Show when=move || !pending.with(|p| p.is_empty()) || notice.with(Option::is_some) || error.with(Option::is_some)>
            <section class="card" aria-labelledby="org-invitations">
                <h2 id="org-invitations">"Invitations to join"</h2>
                <Alert message=error />
                <Status message=notice />
                <ul class="plain">
                    <For each=move || pending.get() key=|i| i.id.clone() let:inv>
                        {
                            let id = StoredValue::new(inv.id.clone());
                            let org = inv.organization.as_ref().map(|o| o.name.clone()).unwrap_or_default();
                            let name = StoredValue::new(org.clone());
                            let who = inv.inviter_name.clone().unwrap_or_else(|| "Someone".into());
                            let role = inv.organization_role.map(|r| r.as_str()).unwrap_or("member");
                            let accept = move |_| ctx.act(error, id.get_value(), |c, id| async move { c.accept_invitation(&id).await }, move |_| {
                                notice.set(Some(format!("You joined {}.", name.get_value())));
                                load();
                                on_change.run(());
                            });
                            let decline = move |_| ctx.act(error, id.get_value(), |c, id| async move { c.decline_invitation(&id).await }, move |_| {
                                notice.set(Some(format!("You declined the invitation to {}.", name.get_value())));
                                load();
                                on_change.run(());
                            });
                            view! {
                                <li>
                                    <p>{format!("{who} invited you to join ")}<strong>{org}</strong>{format!(" as {role}.")}</p>
                                    <div class="actions">
                                        <button type="button" class="primary" on:click=accept>"Accept"</button>
                                        <button type="button" class="secondary" on:click=decline>"Decline"</button>
                                    </div>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </section>
        </Show>
    }
}

/// The organisations the account belongs to, with its role in each.
#[component]
pub fn MyOrganizations(#[prop(into)] memberships: Signal<Vec<Membership>>) -> impl IntoView {
    view! {
        <Show when=move || !memberships.with(|m| m.is_empty())>
            <section class="card" aria-labelledby="my-organizations">
                <h2 id="my-organizations">"Your organisations"</h2>
                <ul class="plain" data-testid="my-organizations">
                    <For each=move || memberships.get() key=|m| (m.organization.id.clone(), m.role) let:m>
                        <li><strong>{m.organization.name.clone()}</strong>" — "{m.role.as_str()}</li>
                    </For>
                </ul>
            </section>
        </Show>
    }
}

//! `/admin/users`: list, search and disable accounts.

use super::*;

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
        move || UserListQuery {
            email: text_filter(search),
            limit: Some(DEFAULT_PAGE_LIMIT),
            ..Default::default()
        },
        |c, q| async move { c.list_users(&q).await },
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
            <PagedTable columns=&["Email", "Name", "Role", "Joined", "Status", ACTIONS] cursor=cursor more=move |()| load(true)>
                    <For each=move || rows.get() key=|u| (u.id.clone(), u.disabled_at.is_some()) let:u>
                        {
                            let id = StoredValue::new(u.id.clone());
                            let active = u.disabled_at.is_none();
                            let is_me = me.as_deref() == Some(u.id.as_str());
                            let label = format!("Disable {}", u.email);
                            let disable = move |_| {
                                if !web_sys::window().and_then(|w| w.confirm_with_message("Disable this account? Their sessions end and their pending invitations are revoked.").ok()).unwrap_or(false) { return; }
                                ctx.act(error, id.get_value(), |c, id| async move { c.disable_user(&id).await }, move |_| load(false));
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
            </PagedTable>
        </section>
    }
}

//! `/admin/users`: list and search accounts; disable, enable, change role, delete.

use super::*;

/// `/admin/users`: list and search accounts; disable, enable, change role, delete (not one's
/// own account: that is on the security page).
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
                    <For each=move || rows.get() key=|u| (u.id.clone(), u.disabled_at.is_some(), u.role) let:u>
                        {
                            let id = StoredValue::new(u.id.clone());
                            let active = u.disabled_at.is_none();
                            let is_me = me.as_deref() == Some(u.id.as_str());
                            let email = u.email.clone();
                            let other_role = if u.role == Role::Admin { Role::Member } else { Role::Admin };
                            // One action handler for the four buttons: one copy of the call machinery in the bundle.
                            let run = move |action: UserAction| {
                                if let Some(question) = action.question()
                                    && !web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
                                {
                                    return;
                                }
                                ctx.act(error, (id.get_value(), action), |c, (id, action)| async move { action.run(&c, &id).await }, move |()| load(false));
                            };
                            let role_text = if other_role == Role::Admin { "Make admin" } else { "Make member" };
                            view! {
                                <tr>
                                    <td>{u.email.clone()}</td>
                                    <td>{u.display_name.clone().unwrap_or_default()}</td>
                                    <td>{u.role.as_str()}</td>
                                    <td>{fmt_time(&u.created_at)}</td>
                                    <td>{if active { view! { <span class="badge badge-accepted">"active"</span> } } else { view! { <span class="badge badge-revoked">"disabled"</span> } }}</td>
                                    <td class="actions">{(!is_me).then(|| view! {
                                        {if active {
                                            view! { <button type="button" class="danger" aria-label=format!("Disable {email}") on:click=move |_| run(UserAction::Disable)>"Disable"</button> }.into_any()
                                        } else {
                                            view! { <button type="button" class="secondary" aria-label=format!("Enable {email}") on:click=move |_| run(UserAction::Enable)>"Enable"</button> }.into_any()
                                        }}
                                        <button type="button" class="secondary" aria-label=format!("{role_text}: {email}") on:click=move |_| run(UserAction::SetRole(other_role))>{role_text}</button>
                                        <button type="button" class="danger" aria-label=format!("Delete {email}") on:click=move |_| run(UserAction::Delete)>"Delete"</button>
                                    })}</td>
                                </tr>
                            }
                        }
                    </For>
            </PagedTable>
        </section>
    }
}

/// What an administrator does to an account from its row.
#[derive(Clone, Copy)]
enum UserAction {
    Disable,
    Enable,
    SetRole(Role),
    Delete,
}

impl UserAction {
    /// The confirmation to ask first, if any.
    fn question(self) -> Option<&'static str> {
        match self {
            Self::Disable => Some(
                "Disable this account? Their sessions end and their pending invitations are revoked.",
            ),
            Self::SetRole(Role::Admin) => Some(
                "Make this person an administrator? They can then manage every account, key and setting.",
            ),
            Self::Delete => Some(
                "Delete this account for good? It cannot be undone: the account, its sessions and memberships are deleted and its pending invitations revoked.",
            ),
            Self::Enable | Self::SetRole(_) => None,
        }
    }

    async fn run(
        self,
        c: &invitegate_client::Client,
        id: &str,
    ) -> Result<(), invitegate_client::ClientError> {
        match self {
            Self::Disable => c.disable_user(id).await.map(drop),
            Self::Enable => c.enable_user(id).await.map(drop),
            Self::SetRole(role) => c
                .update_user(
                    id,
                    &UpdateUserRequest {
                        role: Some(role),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
            Self::Delete => c.delete_user(id).await,
        }
    }
}

//! The Overview's invite tree: who brought in whom from one account, and revoking a branch.

use super::*;

/// Finds an account by email and shows its branch, each account indented by depth, with a
/// button that revokes the branch from that account down.
#[component]
pub fn InviteTreeSection() -> impl IntoView {
    let ctx = ctx();
    let email = RwSignal::new(String::new());
    let tree = RwSignal::new(None::<InviteTree>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let shown = move |found: Option<InviteTree>| match found {
        Some(t) => {
            error.set(None);
            tree.set(Some(t));
        }
        None => error.set(Some("No account has that address.".into())),
    };
    let find = move || {
        ctx.act(
            error,
            invitegate_core::text::lowercase(email.get_untracked().trim()),
            find_tree,
            shown,
        );
    };
    let revoke = move |node: InviteTreeNode| {
        let question = format!(
            "Disable {} and every account that came in through them? Their sessions end and their pending invitations are revoked.",
            node.user.email
        );
        let asked = web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false);
        let root = tree.with_untracked(|t| t.as_ref().map(|t| t.nodes[0].user.id.clone()));
        let (true, Some(root)) = (asked, root) else {
            return;
        };
        ctx.act(
            error,
            (node.user.id.clone(), root),
            revoke_and_reload,
            move |(done, t)| {
                status.set(Some(format!(
                    "{} accounts disabled, {} invitations revoked.",
                    done.accounts_disabled, done.invitations_revoked
                )));
                tree.set(Some(t));
            },
        );
    };
    view! {
        <section class="card">
            <h2>"Invite tree"</h2>
            <p class="muted">"Who an account invited, who they invited, and so on. Revoking a branch disables every account in it."</p>
            <form class="filters" on:submit=move |ev| { ev.prevent_default(); find() }>
                <Field id="tree-email" label="Account email" value=email />
                <button type="submit" class="secondary">"Show tree"</button>
            </form>
            <Alert message=error />
            <Status message=status />
            {move || tree.get().map(|t| {
                let rows = t.nodes.iter().map(|n| vec![
                    n.user.email.clone(),
                    n.depth.to_string(),
                    n.parent_id.clone().unwrap_or_default(),
                    if n.disabled { "disabled".into() } else { "active".into() },
                    n.pending_invitations.to_string(),
                ]).collect();
                let emails: std::collections::HashMap<String, String> = t
                    .nodes
                    .iter()
                    .map(|n| (n.user.id.clone(), n.user.email.clone()))
                    .collect();
                view! {
                    <ul class="tree" data-testid="invite-tree">
                        {t.nodes.into_iter().map(|n| {
                            let label = format!("Revoke branch of {}", n.user.email);
                            let disabled = n.disabled;
                            let pending = n.pending_invitations;
                            let shown = n.user.display_name.clone().map(|d| format!("{d} ({})", n.user.email)).unwrap_or_else(|| n.user.email.clone());
                            let parent = n.parent_id.as_ref().and_then(|p| emails.get(p)).cloned();
                            let depth = n.depth.min(12).to_string();
                            view! {
                                <li style:--depth=depth>
                                    <span>{shown}</span>
                                    {parent.map(|p| view! { <span class="muted small">{format!("invited by {p}")}</span> })}
                                    {disabled.then(|| view! { <span class="badge">"disabled"</span> })}
                                    {(pending > 0).then(|| view! { <span class="muted">{format!(" · {pending} pending")}</span> })}
                                    <button type="button" class="danger small" aria-label=label on:click=move |_| revoke(n.clone())>"Revoke branch"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {t.truncated.then(|| view! { <p class="muted">"Only the first 500 accounts are shown."</p> })}
                    <crate::charts::DataTable summary="Tree as a table" file="invite-tree.csv"
                        header=&["Email", "Depth", "Invited by (id)", "Status", "Pending invitations"] rows=rows />
                }
            })}
        </section>
    }
}

/// The tree of the account with exactly the address `email` (a near match next to "Revoke
/// branch" could cost the wrong people their accounts); `None` when there is none.
async fn find_tree(
    c: invitegate_client::Client,
    email: String,
) -> Result<Option<InviteTree>, invitegate_client::ClientError> {
    let page = c
        .list_users(&UserListQuery {
            email: Some(email.clone()),
            limit: Some(500),
            ..Default::default()
        })
        .await?;
    match page
        .data
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(&email))
    {
        Some(u) => Ok(Some(c.invite_tree(&u.id).await?)),
        None => Ok(None),
    }
}

/// Revokes the branch of the first id, then reads the tree of the second (the one shown).
async fn revoke_and_reload(
    c: invitegate_client::Client,
    (id, root): (String, String),
) -> Result<(InviteTreeRevoked, InviteTree), invitegate_client::ClientError> {
    let done = c.revoke_invite_tree(&id).await?;
    Ok((done, c.invite_tree(&root).await?))
}

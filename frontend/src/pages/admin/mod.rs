//! `/admin/…`: the admin console.

mod api_keys;
mod apps;
mod audit;
mod import;
mod invitations;
mod invite_tree;
mod organizations;
mod outbox;
mod overview;
mod settings;
mod users;
mod webhooks;

pub use api_keys::*;
pub use apps::*;
pub use audit::*;
pub use import::*;
pub use invitations::*;
pub use invite_tree::*;
pub use organizations::*;
pub use outbox::*;
pub use overview::*;
pub use settings::*;
pub use users::*;
pub use webhooks::*;

use invitegate_core::api::*;
use invitegate_core::model::{InvitationState, Role, Scope, SignupMode};
use leptos::prelude::*;

use crate::errors::Limits;
use crate::pages::member::CopyField;
use crate::session::ctx;
use crate::ui::*;
use crate::util::{download, fmt_time};

/// A list query (from `invitegate_core::api`) that pages with a cursor.
trait Paged: Clone + 'static {
    /// The same query, for the page after `cursor`.
    fn after(self, cursor: String) -> Self;
}

impl Paged for InvitationListQuery {
    fn after(self, cursor: String) -> Self {
        Self {
            cursor: Some(cursor),
            ..self
        }
    }
}

impl Paged for OrganizationListQuery {
    fn after(self, cursor: String) -> Self {
        Self {
            cursor: Some(cursor),
            ..self
        }
    }
}

impl Paged for UserListQuery {
    fn after(self, cursor: String) -> Self {
        Self {
            cursor: Some(cursor),
            ..self
        }
    }
}

impl Paged for AuditEventQuery {
    fn after(self, cursor: String) -> Self {
        Self {
            cursor: Some(cursor),
            ..self
        }
    }
}

/// A non-empty, trimmed search text, or no filter.
fn text_filter(text: RwSignal<String>) -> Option<String> {
    Some(text.get_untracked().trim().to_string()).filter(|t| !t.is_empty())
}

/// A cursor-paginated list: `load(false)` replaces `rows` with the first page of `query()`,
/// `load(true)` appends the page after `cursor`.
fn paged<T, Q, QF, F, Fut>(
    rows: RwSignal<Vec<T>>,
    cursor: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    query: QF,
    fetch: F,
) -> impl Fn(bool) + Copy + 'static
where
    T: Send + Sync + 'static,
    Q: Paged,
    QF: Fn() -> Q + Copy + 'static,
    F: Fn(invitegate_client::Client, Q) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, invitegate_client::ClientError>> + 'static,
{
    let ctx = ctx();
    move |more: bool| {
        let mut q = query();
        if more && let Some(c) = cursor.get_untracked() {
            q = q.after(c);
        }
        ctx.act(error, q, fetch, move |p| {
            cursor.set(p.next_cursor);
            if more {
                rows.update(|r| r.extend(p.data));
            } else {
                rows.set(p.data);
            }
            error.set(None);
        });
    }
}

/// The name of a table's actions column: read out to screen readers only.
const ACTIONS: &str = "";

/// A list screen's table: `columns` as its header ([`ACTIONS`] for the buttons column), the
/// rows given as `children` (a `<For>`), `empty` shown while `is_empty` holds, and "Load more"
/// while the list has a next page (`cursor`), which calls `more`.
#[component]
fn PagedTable(
    columns: &'static [&'static str],
    cursor: RwSignal<Option<String>>,
    #[prop(into)] more: Callback<()>,
    #[prop(optional)] empty: Option<(Signal<bool>, &'static str)>,
    children: Children,
) -> impl IntoView {
    let header = columns
        .iter()
        .map(|c| match *c {
            ACTIONS => {
                view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any()
            }
            name => view! { <th scope="col">{name}</th> }.into_any(),
        })
        .collect_view();
    view! {
        <div class="table-wrap">
        <table>
            <thead><tr>{header}</tr></thead>
            <tbody>{children()}</tbody>
        </table>
        </div>
        {empty.map(|(is_empty, text)| view! { <Show when=move || is_empty.get()><p class="muted">{text}</p></Show> })}
        <Show when=move || cursor.get().is_some()>
            <button type="button" class="secondary" on:click=move |_| more.run(())>"Load more"</button>
        </Show>
    }
}

/// The console's tab bar.
#[component]
pub fn AdminNav() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let tabs = [
        ("/admin", "Overview"),
        ("/admin/invitations", "Invitations"),
        ("/admin/import", "Import"),
        ("/admin/users", "Users"),
        ("/admin/organizations", "Organisations"),
        ("/admin/audit", "Audit log"),
        ("/admin/api-keys", "API keys"),
        ("/admin/apps", "Apps"),
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

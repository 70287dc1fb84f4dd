//! `/admin/organizations`: every organisation, creating one, and managing any of them (members,
//! roles, invitations into it, join requests).

use super::*;
use crate::pages::org_manage::ManageOrganization;

/// `/admin/organizations`: list, search and create organisations; manage the selected one.
#[component]
pub fn AdminOrganizations() -> impl IntoView {
    let ctx = ctx();
    let rows = RwSignal::new(Vec::<Organization>::new());
    let cursor = RwSignal::new(None::<String>);
    let search = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<(String, String)>);
    let load = paged(
        rows,
        cursor,
        error,
        move || OrganizationListQuery {
            q: text_filter(search),
            limit: Some(DEFAULT_PAGE_LIMIT),
            ..Default::default()
        },
        |c, q| async move { c.list_organizations(&q).await },
    );
    load(false);
    let name = RwSignal::new(String::new());
    let slug = RwSignal::new(String::new());
    let create_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = CreateOrganizationRequest {
            name: name.get_untracked().trim().to_string(),
            slug: Some(slug.get_untracked().trim().to_string()).filter(|s| !s.is_empty()),
            ..Default::default()
        };
        ctx.act_busy(
            busy,
            create_error,
            req,
            |c, req| async move { c.create_organization(&req).await },
            move |org| {
                name.set(String::new());
                slug.set(String::new());
                selected.set(Some((org.id, org.name)));
                load(false);
            },
        );
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Organisations"</h1>
            <form class="filters" role="search" on:submit=move |ev| { ev.prevent_default(); load(false) }>
                <Field id="org-search" label="Name or slug" kind="search" value=search />
                <button type="submit" class="secondary">"Search"</button>
            </form>
            <Alert message=error />
            <PagedTable columns=&["Name", "Slug", "Members", "Created", ACTIONS] cursor=cursor more=move |()| load(true)
                empty=(Signal::derive(move || rows.with(Vec::is_empty)), "No organisations yet.")>
                <For each=move || rows.get() key=|o| (o.id.clone(), o.member_count) let:o>
                    {
                        let pick = StoredValue::new((o.id.clone(), o.name.clone()));
                        view! {
                            <tr>
                                <td>{o.name.clone()}</td>
                                <td><code>{o.slug.clone()}</code></td>
                                <td>{o.member_count}</td>
                                <td>{fmt_time(&o.created_at)}</td>
                                <td class="actions"><button type="button" class="secondary" aria-label=format!("Manage {}", o.name) on:click=move |_| selected.set(Some(pick.get_value()))>"Manage"</button></td>
                            </tr>
                        }
                    }
                </For>
            </PagedTable>
        </section>
        <section class="card">
            <h2>"New organisation"</h2>
            <form on:submit=create novalidate>
                <Field id="org-name" label="Name" value=name required=true />
                <Field id="org-slug" label="Short name (optional)" value=slug hint="Lower-case letters, digits and -; made from the name when empty. Used in CSV imports." />
                <Alert message=create_error />
                <Submit label="Create organisation" busy=busy />
            </form>
        </section>
        {move || selected.get().map(|(id, name)| view! {
            <ManageOrganization id=id name=name mine=None />
        })}
    }
}

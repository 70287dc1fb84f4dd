//! `/admin/apps`: the apps that sign people in through Invitegate (OpenID Connect relying
//! parties): register one (its secret is shown once), see and delete them.

use super::*;

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `/admin/apps`: register, list and delete relying parties.
#[component]
pub fn AdminApps() -> impl IntoView {
    let ctx = ctx();
    let clients = RwSignal::new(Vec::<OAuthClient>::new());
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let redirects = RwSignal::new(String::new());
    let logout_redirects = RwSignal::new(String::new());
    let public = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedOAuthClient>);
    let load = move || {
        ctx.act(
            error,
            (),
            |c, ()| async move { c.list_oauth_clients().await },
            move |k| clients.set(k),
        )
    };
    load();
    let issuer = ctx.base.get_value();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = CreateOAuthClientRequest {
            name: name.get_untracked().trim().to_string(),
            redirect_uris: lines(&redirects.get_untracked()),
            post_logout_redirect_uris: lines(&logout_redirects.get_untracked()),
            initiate_login_uri: None,
            public: public.get_untracked(),
            id_token_signed_response_alg: None,
        };
        ctx.act(
            error,
            req,
            |c, req| async move { c.create_oauth_client(&req).await },
            move |k| {
                created.set(Some(k));
                name.set(String::new());
                redirects.set(String::new());
                logout_redirects.set(String::new());
                error.set(None);
                load();
            },
        );
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Apps"</h1>
            <p class="muted">"Apps that sign people in with Invitegate (OpenID Connect). Issuer: "<code>{issuer}</code></p>
            <form on:submit=submit novalidate>
                <Field id="app-name" label="Name (shown as “Continue to …”)" value=name required=true />
                <label for="app-redirects">"Redirect URIs, one per line (compared exactly)"</label>
                <textarea id="app-redirects" rows="2" prop:value=move || redirects.get() on:input=move |ev| redirects.set(event_target_value(&ev))></textarea>
                <label for="app-logout">"Return addresses after sign-out, one per line (optional)"</label>
                <textarea id="app-logout" rows="2" prop:value=move || logout_redirects.get() on:input=move |ev| logout_redirects.set(event_target_value(&ev))></textarea>
                <label class="check" for="app-public">
                    <input id="app-public" type="checkbox" prop:checked=move || public.get() on:change=move |ev| public.set(event_target_checked(&ev)) />
                    "Public client (single-page or mobile app: no secret, PKCE)"
                </label>
                <Alert message=error />
                <button type="submit" class="primary">"Register app"</button>
            </form>
            <div role="status" aria-live="polite">
                {move || created.get().map(|k| view! {
                    <div class="success">
                        <CopyField value=k.client.client_id.clone() label="Client ID" />
                        {k.client_secret.map(|s| view! {
                            <p><strong>"Copy the client secret now: it will not be shown again."</strong></p>
                            <CopyField value=s label="Client secret" />
                        })}
                    </div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"Registered apps"</h2>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Client ID"</th><th scope="col">"Type"</th><th scope="col">"Redirect URIs"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || clients.get() key=|k| k.id.clone() let:k>
                        {
                            let id = StoredValue::new(k.id.clone());
                            let label = format!("Delete {}", k.name);
                            let remove = move |_| ctx.act(error, id.get_value(), |c, id| async move { c.delete_oauth_client(&id).await }, move |()| load());
                            view! {
                                <tr>
                                    <td>{k.name.clone()}</td><td><code>{k.client_id.clone()}</code></td>
                                    <td>{if k.public { "public" } else { "confidential" }}</td>
                                    <td>{k.redirect_uris.join(" ")}</td>
                                    <td class="actions"><button type="button" class="danger" aria-label=label on:click=remove>"Delete"</button></td>
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

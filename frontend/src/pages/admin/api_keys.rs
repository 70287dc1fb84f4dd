//! `/admin/api-keys`: create and revoke API keys.

use super::*;

/// `/admin/api-keys`: create (the key is shown once) and revoke.
#[component]
pub fn AdminApiKeys() -> impl IntoView {
    let ctx = ctx();
    let keys = RwSignal::new(Vec::<ApiKey>::new());
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec![Scope::InvitationsWrite]);
    let created = RwSignal::new(None::<String>);
    let load = move || {
        ctx.act(
            error,
            (),
            |c, ()| async move { c.list_api_keys().await },
            move |k| keys.set(k),
        )
    };
    load();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = CreateApiKeyRequest {
            name: name.get_untracked().trim().to_string(),
            scopes: scopes.get_untracked(),
        };
        if req.name.is_empty() {
            return error.set(Some(
                "Give the key a name, such as the system that will use it.".into(),
            ));
        }
        ctx.act(
            error,
            req,
            |c, req| async move { c.create_api_key(&req).await },
            move |k| {
                created.set(Some(k.key));
                name.set(String::new());
                error.set(None);
                load();
            },
        );
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"API keys"</h1>
            <form on:submit=submit novalidate>
                <Field id="key-name" label="Name" value=name required=true />
                <fieldset>
                    <legend>"Scopes"</legend>
                    {Scope::ALL.iter().copied().map(|s| {
                        let id = format!("scope-{}", s.as_str().replace(':', "-"));
                        view! {
                            <label class="check" for=id.clone()>
                                <input id=id.clone() type="checkbox" prop:checked=move || scopes.with(|v| v.contains(&s))
                                    on:change=move |ev| scopes.update(|v| if event_target_checked(&ev) { if !v.contains(&s) { v.push(s) } } else { v.retain(|x| *x != s) }) />
                                <code>{s.as_str()}</code>
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <Alert message=error />
                <button type="submit" class="primary">"Create key"</button>
            </form>
            <div role="status" aria-live="polite">
                {move || created.get().map(|k| view! {
                    <div class="success"><p><strong>"Copy this key now: it will not be shown again."</strong></p><CopyField value=k label="API key" /></div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"Keys"</h2>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Prefix"</th><th scope="col">"Scopes"</th><th scope="col">"Last used"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || keys.get() key=|k| (k.id.clone(), k.revoked_at.is_some()) let:k>
                        {
                            let id = StoredValue::new(k.id.clone());
                            let label = format!("Revoke {}", k.name);
                            let revoke = move |_| ctx.act(error, id.get_value(), |c, id| async move { c.revoke_api_key(&id).await }, move |()| load());
                            view! {
                                <tr>
                                    <td>{k.name.clone()}</td><td><code>{k.prefix.clone()}</code></td>
                                    <td>{k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                    <td>{k.last_used_at.as_ref().map(fmt_time).unwrap_or_else(|| "never".into())}</td>
                                    <td class="actions">{if k.revoked_at.is_some() { view! { <span class="badge badge-revoked">"revoked"</span> }.into_any() } else { view! { <button type="button" class="danger" aria-label=label on:click=revoke>"Revoke"</button> }.into_any() }}</td>
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

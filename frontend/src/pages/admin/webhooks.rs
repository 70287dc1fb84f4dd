//! `/admin/webhooks`: endpoints, delivery log, replay.

use super::*;

/// `/admin/webhooks`: endpoints (the signing secret shown once), delivery log, replay.
#[component]
pub fn AdminWebhooks() -> impl IntoView {
    let ctx = ctx();
    let hooks = RwSignal::new(Vec::<WebhookEndpoint>::new());
    let error = RwSignal::new(None::<String>);
    let url = RwSignal::new(String::new());
    let events = RwSignal::new(String::new());
    let secret = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let deliveries = RwSignal::new(Vec::<WebhookDelivery>::new());
    let load = move || {
        ctx.act(
            error,
            (),
            |c, ()| async move { c.list_webhooks().await },
            move |h| hooks.set(h),
        )
    };
    load();
    let show = move |id: String| {
        selected.set(Some(id.clone()));
        ctx.act(
            error,
            id,
            |c, id| async move { c.webhook_deliveries(&id).await },
            move |d| deliveries.set(d),
        );
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ev_list: Vec<String> = events
            .get_untracked()
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let req = CreateWebhookRequest {
            url: url.get_untracked().trim().to_string(),
            events: if ev_list.is_empty() {
                vec!["*".into()]
            } else {
                ev_list
            },
        };
        ctx.act(
            error,
            req,
            |c, req| async move { c.create_webhook(&req).await },
            move |h| {
                secret.set(Some(h.secret));
                url.set(String::new());
                error.set(None);
                load();
            },
        );
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Webhooks"</h1>
            <p class="muted">"Every audit event can be sent, signed as in the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature)."</p>
            <form on:submit=submit novalidate>
                <Field id="hook-url" label="Endpoint URL" kind="url" value=url required=true />
                <Field id="hook-events" label="Events" value=events hint="Comma-separated, e.g. invitation.created, registration.succeeded. Empty: every event." />
                <Alert message=error />
                <button type="submit" class="primary">"Add endpoint"</button>
            </form>
            <div role="status" aria-live="polite">
                {move || secret.get().map(|s| view! {
                    <div class="success"><p><strong>"Copy the signing secret now: it will not be shown again."</strong></p><CopyField value=s label="Signing secret" /></div>
                })}
            </div>
        </section>
        <section class="card">
            <h2>"Endpoints"</h2>
            <Show when=move || !hooks.with(|h| h.is_empty()) fallback=|| view! { <p class="muted">"No endpoints yet."</p> }>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"URL"</th><th scope="col">"Events"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || hooks.get() key=|h| h.id.clone() let:h>
                        {
                            let id = StoredValue::new(h.id.clone());
                            let remove = move |_| ctx.act(error, id.get_value(), |c, id| async move { c.delete_webhook(&id).await }, move |()| load());
                            view! {
                                <tr>
                                    <td class="break">{h.url.clone()}</td><td>{h.events.join(", ")}</td>
                                    <td class="actions">
                                        <button type="button" class="secondary" on:click=move |_| show(id.get_value())>"Deliveries"</button>
                                        <button type="button" class="danger" on:click=remove>"Delete"</button>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            </div>
            </Show>
        </section>
        <Show when=move || selected.get().is_some()>
            <section class="card">
                <h2>"Delivery log"</h2>
                <div class="table-wrap">
                <table>
                    <thead><tr><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Response"</th><th scope="col">"Attempts"</th><th scope="col">"Next attempt"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                        <For each=move || deliveries.get() key=|d| (d.id.clone(), d.status, d.attempts) let:d>
                            {
                                let did = StoredValue::new(d.id.clone());
                                let replay = move |_| {
                                    let (Some(h), d) = (selected.get_untracked(), did.get_value()) else { return };
                                    ctx.act(error, (h.clone(), d), |c, (h, d)| async move { c.replay_webhook_delivery(&h, &d).await }, move |()| show(h));
                                };
                                view! {
                                    <tr>
                                        <td><code>{d.event.clone()}</code></td>
                                        <td><span class=format!("badge badge-{}", d.status)>{d.status.as_str()}</span></td>
                                        <td>{d.response_status.map(|s| s.to_string()).or(d.last_error.clone()).unwrap_or_default()}</td>
                                        <td>{d.attempts}</td>
                                        <td>{d.next_attempt_at.as_ref().map(fmt_time).unwrap_or_default()}</td>
                                        <td class="actions"><button type="button" class="secondary" on:click=replay>"Replay"</button></td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
                </div>
            </section>
        </Show>
    }
}

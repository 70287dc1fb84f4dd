//! `/admin/outbox`: dead deliveries, with retry.

use super::*;

/// `/admin/outbox`: emails and webhook deliveries that gave up (dead), with retry.
#[component]
pub fn AdminOutbox() -> impl IntoView {
    let ctx = ctx();
    let items = RwSignal::new(Vec::<OutboxItem>::new());
    let status_filter = RwSignal::new("dead".to_string());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let load = move || {
        let query = OutboxListQuery {
            status: status_filter.get_untracked().parse().ok(),
            limit: None,
        };
        ctx.act(
            error,
            query,
            |c, q| async move { c.list_outbox(&q).await },
            move |i| items.set(i),
        )
    };
    load();
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Delivery"</h1>
            <p class="muted">"Emails and webhook deliveries are retried with growing delays; after the last attempt they are marked dead and wait here."</p>
            <div class="filters">
                <div class="field">
                    <label for="outbox-status">"Status"</label>
                    <select id="outbox-status" on:change=move |ev| { status_filter.set(event_target_value(&ev)); load() }>
                        <option value="dead">"dead"</option><option value="pending">"pending"</option><option value="sent">"sent"</option>
                    </select>
                </div>
            </div>
            <Alert message=error />
            <Status message=notice />
            <Show when=move || !items.with(|i| i.is_empty()) fallback=|| view! { <p class="muted">"Nothing here."</p> }>
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Kind"</th><th scope="col">"To"</th><th scope="col">"What"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || items.get() key=|i| (i.id.clone(), i.status) let:i>
                        {
                            let id = StoredValue::new(i.id.clone());
                            let dead = i.status == invitegate_core::model::OutboxStatus::Dead;
                            let retry = move |_| ctx.act(error, id.get_value(), |c, id| async move { c.retry_outbox_item(&id).await }, move |()| { notice.set(Some("Queued for another attempt.".into())); load() });
                            view! {
                                <tr>
                                    <td>{i.kind.as_str()}</td><td class="break">{i.recipient.clone().unwrap_or_default()}</td>
                                    <td>{i.summary.clone().unwrap_or_default()}</td><td>{i.attempts}</td>
                                    <td class="break">{i.last_error.clone().unwrap_or_default()}</td>
                                    <td class="actions">{dead.then(|| view! { <button type="button" class="secondary" on:click=retry>"Retry"</button> })}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            </div>
            </Show>
        </section>
    }
}

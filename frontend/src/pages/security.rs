//! `/app/security`: the signed-in person's password, sessions, data export and account
//! deletion.

use invitegate_core::api::SessionInfo;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::session::ctx;
use crate::ui::*;
use crate::util::{download, fmt_time};

/// The security page.
#[component]
pub fn SecurityPage() -> impl IntoView {
    // Bumped when the password changes here: the sessions list reloads.
    let changed = RwSignal::new(0u32);
    view! {
        <section class="card">
            <h1>"Security and your data"</h1>
            <p><a href="/app">"Back to your account"</a></p>
        </section>
        <ChangePassword changed=changed />
        <Sessions changed=changed />
        <ExportData />
        <DeleteAccount />
    }
}

#[component]
fn ChangePassword(changed: RwSignal<u32>) -> impl IntoView {
    let ctx = ctx();
    let limits = ctx.limits;
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let email = Signal::derive(move || {
        ctx.session
            .with(|s| s.as_ref().map(|s| s.user.email.clone()).unwrap_or_default())
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let (old, new) = (current.get_untracked(), password.get_untracked());
        if old.is_empty() {
            return error.set(Some("Enter your current password.".into()));
        }
        if let Some(msg) = check_new_password(
            &new,
            &confirm.get_untracked(),
            &email.get_untracked(),
            limits.get_untracked(),
        ) {
            return error.set(Some(msg));
        }
        error.set(None);
        ctx.act_busy(
            busy,
            error,
            (old, new),
            |c, (old, new)| async move { c.change_password(&old, &new).await },
            move |session| {
                ctx.signed_in(session);
                changed.update(|n| *n += 1);
                for s in [current, password, confirm] {
                    s.set(String::new());
                }
                done.set(Some(
                    "Password changed. Every other session of your account has ended.".into(),
                ));
            },
        );
    };
    view! {
        <section class="card">
            <h2>"Change password"</h2>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" type="password" autocomplete="current-password" required=true
                        prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev)) />
                </div>
                <NewPassword password=password confirm=confirm email=email limits=limits label="New password" />
                <Alert message=error />
                <Status message=done />
                <Submit label="Change password" busy=busy />
            </form>
        </section>
    }
}

fn describe_session(s: &SessionInfo) -> String {
    let agent = s.user_agent.as_deref().unwrap_or("Unknown browser");
    let short: String = agent.chars().take(80).collect();
    match &s.ip {
        Some(ip) => format!("{short} from {ip}"),
        None => short,
    }
}

#[component]
fn Sessions(changed: RwSignal<u32>) -> impl IntoView {
    let ctx = ctx();
    let sessions = RwSignal::new(Vec::<SessionInfo>::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let load = move || {
        ctx.act(
            error,
            (),
            |c, ()| async move { c.my_sessions().await },
            move |s| sessions.set(s),
        )
    };
    load();
    // A password change on this page ends the other sessions: show that.
    Effect::new(move |previous: Option<()>| {
        changed.track();
        if previous.is_some() {
            load();
        }
    });
    view! {
        <section class="card">
            <h2>"Where you are signed in"</h2>
            <Alert message=error />
            <Status message=status />
            <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Device"</th><th scope="col">"Signed in"</th><th scope="col">"Last active"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=move || sessions.get() key=|s| s.id.clone() let:s>
                        {
                            let id = StoredValue::new(s.id.clone());
                            let what = describe_session(&s);
                            let label = format!("End session: {what}");
                            let end = move |_| {
                                ctx.act(error, id.get_value(), |c, id| async move { c.end_my_session(&id).await }, move |()| {
                                    status.set(Some("Session ended.".into()));
                                    load();
                                });
                            };
                            view! {
                                <tr data-testid="session">
                                    <td>{what}{s.current.then(|| view! { " " <span class="badge badge-accepted">"this browser"</span> })}</td>
                                    <td>{fmt_time(&s.created_at)}</td>
                                    <td>{fmt_time(&s.last_used_at)}</td>
                                    <td class="actions">{(!s.current).then(|| view! { <button type="button" class="danger" aria-label=label on:click=end>"End session"</button> })}</td>
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

#[component]
fn ExportData() -> impl IntoView {
    let ctx = ctx();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let export = move |_| {
        ctx.act_busy(
            busy,
            error,
            (),
            |c, ()| async move { c.export_my_data_json().await },
            move |json| download("invitegate-export.json", "application/json", &json),
        );
    };
    view! {
        <section class="card">
            <h2>"Your data"</h2>
            <p>"Download everything kept about you: your account, memberships, sessions, the invitations you sent and received, and the audit events about you (JSON)."</p>
            <Alert message=error />
            <button type="button" class="secondary" disabled=move || busy.get() on:click=export>"Download my data"</button>
        </section>
    }
}

#[component]
fn DeleteAccount() -> impl IntoView {
    let ctx = ctx();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pw = password.get_untracked();
        if pw.is_empty() {
            return error.set(Some("Enter your password to delete your account.".into()));
        }
        let sure = web_sys::window()
            .and_then(|w| w.confirm_with_message("Delete your account for good? You are signed out everywhere, your pending invitations are revoked, and this cannot be undone.").ok())
            .unwrap_or(false);
        if !sure {
            return;
        }
        let navigate = navigate.clone();
        ctx.act_busy(
            busy,
            error,
            pw,
            |c, pw| async move { c.delete_my_account(&pw).await },
            move |()| {
                navigate("/login?deleted=1", Default::default());
                // Once this page is gone: forgetting the session while it is shown would send
                // the page's guard to the sign-in page without the notice.
                set_timeout(move || ctx.forget(), std::time::Duration::ZERO);
            },
        );
    };
    view! {
        <section class="card">
            <h2>"Delete your account"</h2>
            <p>"Your account, sessions and memberships are deleted; invitations you sent that are still pending stop working. The audit log keeps a record of what happened, without your email address."</p>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="delete-password">"Password"</label>
                    <input id="delete-password" type="password" autocomplete="current-password" required=true
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <Alert message=error />
                <button type="submit" class="danger" disabled=move || busy.get()>"Delete my account"</button>
            </form>
        </section>
    }
}

//! Organisation invitations for people who already have an account: accepting an invitation
//! link while signed in (or after signing in), and `/accept-invitation`, where the emailed
//! proof of owning the invited address completes the acceptance (seed 003). Nothing is sent
//! without an explicit click: mail scanners and link previews run JavaScript.

use invitegate_client::Acceptance;
use invitegate_core::ErrorCode;
use invitegate_core::api::InvitationPreview;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::errors::{Limits, describe};
use crate::session::ctx;
use crate::ui::*;
use crate::util::{focus_id, take_fragment_token};

const INVITATION_KEY: &str = "invitegate.invitation";
const PROOF_KEY: &str = "invitegate.acceptance_proof";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Keeps `token` in this tab's session storage across a sign-in (never in the URL, which
/// would put it in the history and in `Referer` headers).
fn remember(key: &str, token: &str) {
    if let Some(s) = session_storage() {
        let _ = s.set_item(key, token);
    }
}

fn take(key: &str) -> Option<String> {
    let s = session_storage()?;
    let token = s.get_item(key).ok()??;
    let _ = s.remove_item(key);
    Some(token)
}

/// The invitation token of this page: from the link's fragment, or the one remembered before
/// the visitor went to sign in.
pub fn invitation_token() -> Option<String> {
    take_fragment_token().or_else(|| take(INVITATION_KEY))
}

/// Where "Sign in to accept" leads: remembers `token`, then the sign-in page returning here.
fn sign_in_to(key: &'static str, token: String, back: &'static str) -> impl Fn() + Clone {
    let navigate = use_navigate();
    move || {
        remember(key, &token);
        navigate(&format!("/login?next={back}"), Default::default());
    }
}

/// "Already have an account? Sign in to accept": for organisation invitations on `/invite`.
#[component]
pub fn SignInToAccept(token: String) -> impl IntoView {
    let go = sign_in_to(INVITATION_KEY, token, "/invite");
    view! {
        <p class="muted">"Already have an account? "
            <button type="button" class="link" on:click=move |_| go()>"Sign in to accept"</button>
        </p>
    }
}

/// The invitation page for a signed-in visitor: whose invitation it is, which account would
/// accept it, Accept, and "Sign in with another account".
#[component]
pub fn AcceptWithAccount(preview: InvitationPreview, token: String) -> impl IntoView {
    let ctx = ctx();
    let error = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let account = move || {
        ctx.session
            .with(|s| s.as_ref().map(|s| s.user.email.clone()))
            .unwrap_or_default()
    };
    let org = preview
        .organization
        .as_ref()
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let who = preview
        .inviter_display_name
        .clone()
        .unwrap_or_else(|| "An administrator".into());
    let addressed = match (&preview.email, &preview.email_domain) {
        (Some(e), _) => format!("The invitation is for {e}."),
        (None, Some(d)) => format!("The invitation is for addresses at @{d}."),
        _ => "Anyone with this link may accept it.".to_string(),
    };
    let org_name = StoredValue::new(org.clone());
    let invited = StoredValue::new(preview.email.clone());
    let t = StoredValue::new(token.clone());
    let accept = move |_| {
        error.set(None);
        ctx.act_busy(
            busy,
            error,
            t.get_value(),
            |c, t| async move { c.accept_invitation_by_token(&t).await },
            move |a| {
                // An invitation made for an app continues there (OpenID Connect Core §4).
                if matches!(a, Acceptance::Member(_))
                    && crate::pages::oidc::continue_to_app(&account())
                {
                    return;
                }
                outcome.set(Some(match a {
                    Acceptance::Member(_) => format!("You joined {}.", org_name.get_value()),
                    Acceptance::VerificationPending => format!(
                        "We sent a link to {} to confirm that the address is yours. Open it while signed in as {}, and you will join {}.",
                        invited.get_value().unwrap_or_default(),
                        account(),
                        org_name.get_value()
                    ),
                }));
                focus_id("accept-outcome");
            },
        );
    };
    let navigate = use_navigate();
    let other = {
        let go = sign_in_to(INVITATION_KEY, token, "/invite");
        move |_| {
            let go = go.clone();
            leptos::task::spawn_local(async move {
                ctx.sign_out().await;
                go();
            });
        }
    };
    view! {
        <h1 id="reg-heading" tabindex="-1">{format!("Join {org}")}</h1>
        <p class="lead"><strong>{who}</strong>" invited you to join "<strong>{org.clone()}</strong>"."</p>
        <p>{addressed}" You are signed in as "<strong>{account}</strong>"."</p>
        <Alert message=error />
        {move || match outcome.get() {
            Some(text) => view! {
                <p id="accept-outcome" tabindex="-1" class="success" role="status">{text}</p>
                <p><button type="button" class="primary" on:click={
                    let navigate = navigate.clone();
                    move |_| navigate("/app", Default::default())
                }>"Go to your account"</button></p>
            }.into_any(),
            None => view! {
                <div class="actions">
                    <button type="button" class="primary" disabled=move || busy.get() on:click=accept>"Accept invitation"</button>
                    <button type="button" class="secondary" on:click=other.clone()>"Sign in with another account"</button>
                </div>
            }.into_any(),
        }}
    }
}

/// `/accept-invitation#token=…`: the emailed proof that the signed-in account's holder owns the
/// invited address. Signed in as the account that asked, one click completes the acceptance;
/// signed out, the visitor signs in first and comes back.
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let ctx = ctx();
    let token = StoredValue::new(take_fragment_token().or_else(|| take(PROOF_KEY)));
    // Kept until used, so a reload or a detour through sign-in does not lose the link.
    if let Some(t) = token.get_value() {
        remember(PROOF_KEY, &t);
    }
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let wrong_account = RwSignal::new(false);
    let account = Memo::new(move |_| {
        ctx.session
            .with(|s| s.as_ref().map(|s| s.user.email.clone()))
    });
    let sign_in = token
        .get_value()
        .map(|t| sign_in_to(PROOF_KEY, t, "/accept-invitation"));
    let switch = sign_in.clone();
    let other = move |_| {
        let go = switch.clone();
        leptos::task::spawn_local(async move {
            ctx.sign_out().await;
            if let Some(go) = go {
                go();
            }
        });
    };
    let accept = move |_| {
        let Some(t) = token.get_value() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = ctx
                .call_with(
                    t,
                    |c, t| async move { c.accept_invitation_with_proof(&t).await },
                )
                .await;
            busy.set(false);
            match result {
                Ok(m) => {
                    let _ = take(PROOF_KEY);
                    done.set(Some(m.organization.name));
                }
                Err(e) if e.code() == Some(ErrorCode::Forbidden) => {
                    wrong_account.set(true);
                    error.set(Some(
                        "This link was requested by another account. Sign in with the account that asked to accept the invitation.".into(),
                    ));
                }
                Err(e) => error.set(Some(describe(&e, Limits::default()))),
            }
        });
    };
    view! {
        <section class="card narrow">
            <h1 id="accept-heading" tabindex="-1">"Accept the invitation"</h1>
            {move || match (token.get_value(), done.get()) {
                (None, _) => view! { <p class="dead-message" role="alert">"This page needs the link from the confirmation email."</p> }.into_any(),
                (Some(_), Some(org)) => view! {
                    <p class="success" role="status">{format!("You joined {org}.")}</p>
                    <p><a class="button primary" href="/app">"Go to your account"</a></p>
                }.into_any(),
                (Some(_), None) => match account.get() {
                    Some(email) => view! {
                        <p>"Confirm that you own the invited address and join with the account "<strong>{email}</strong>"."</p>
                        <Alert message=error />
                        <div class="actions">
                            <button type="button" class="primary" disabled=move || busy.get() || wrong_account.get() on:click=accept>"Accept invitation"</button>
                            <button type="button" class="secondary" on:click=other.clone()>"Sign in with another account"</button>
                        </div>
                    }.into_any(),
                    None => {
                        let go = sign_in.clone();
                        view! {
                            <p>"Sign in with the account that asked to accept this invitation; you will come back here to finish."</p>
                            <button type="button" class="primary" on:click=move |_| if let Some(go) = &go { go() }>"Sign in"</button>
                        }.into_any()
                    }
                },
            }}
        </section>
    }
}

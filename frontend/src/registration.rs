//! The registration flow: from an invitation link (or a pasted one) to a signed-in account or
//! a "check your email" screen. Used by the SPA's `/invite` and `/register`, by the embeddable
//! widget, and by Leptos apps through [`crate::widget::InvitegateRegistration`].

use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::{InvitationPreview, RegisterRequest, SessionResponse};
use invitegate_core::model::SignupMode;
use leptos::prelude::*;

use crate::errors::{Limits, describe};
use crate::session::ctx;
use crate::ui::*;
use crate::util::{fmt_time, fmt_until, focus_id, token_from_text};

/// What the registration flow reports besides a sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowEvent {
    /// The account waits for the emailed link (202).
    VerificationPending,
    /// The flow stopped or a submission failed, with the API error code.
    Error(String),
}

#[derive(Clone, Debug)]
enum Stage {
    Loading,
    NeedToken,
    Dead {
        title: String,
        message: String,
        code: Option<ErrorCode>,
    },
    Form(Option<Box<InvitationPreview>>),
    Pending(String),
    Closed,
}

fn dead_stage(code: Option<ErrorCode>, message: String) -> Stage {
    let title = match code {
        Some(ErrorCode::InvitationExpired) => "This invitation has expired",
        Some(ErrorCode::InvitationRevoked) => "This invitation was withdrawn",
        Some(ErrorCode::InvitationUsed) => "This invitation has been used",
        Some(ErrorCode::InvitationDeclined) => "This invitation was declined",
        Some(ErrorCode::RateLimited) => "Too many attempts",
        _ => "This invitation link does not work",
    };
    Stage::Dead {
        title: title.into(),
        message,
        code,
    }
}

/// An organisation invitation opened while signed in is accepted, not registered: the account
/// joins (or proves the invited address first). Otherwise `register`.
#[cfg(feature = "console")]
fn signed_in_or<V: IntoView + 'static>(
    preview: InvitationPreview,
    token: String,
    register: impl Fn() -> V + Send + Sync + 'static,
) -> AnyView {
    let ctx = ctx();
    // Only signing in or out switches the screen: a silent renewal of the session must not
    // rebuild it (and lose what the visitor already did there).
    let signed_in = Memo::new(move |_| ctx.session.with(Option::is_some));
    view! {
        {move || if signed_in.get() {
            view! { <crate::pages::org_invite::AcceptWithAccount preview=preview.clone() token=token.clone() /> }.into_any()
        } else {
            register().into_any()
        }}
    }
    .into_any()
}

/// The embeddable widget has no session: it always registers.
#[cfg(not(feature = "console"))]
fn signed_in_or<V: IntoView + 'static>(
    _preview: InvitationPreview,
    _token: String,
    register: impl Fn() -> V + Send + Sync + 'static,
) -> AnyView {
    register().into_any()
}

#[cfg(feature = "console")]
fn sign_in_to_accept(token: String) -> AnyView {
    view! { <crate::pages::org_invite::SignInToAccept token=token /> }.into_any()
}

#[cfg(not(feature = "console"))]
fn sign_in_to_accept(_token: String) -> AnyView {
    view! { <p class="muted">"Already have an account? "<a href="/login">"Sign in"</a></p> }
        .into_any()
}

/// The "who to ask" line of a dead invitation: the server names the inviter when it can.
fn who_to_ask(e: &invitegate_client::ClientError) -> Option<String> {
    match e {
        invitegate_client::ClientError::Api { problem, .. } => problem.detail.clone(),
        _ => None,
    }
    .filter(|d| d.starts_with("Ask "))
}

/// The whole registration flow. Reads [`crate::session::AppCtx`] from context.
///
/// - `token`: an invitation token already known (from the link's fragment); without one the
///   flow asks for the link, or, when the sign-up mode allows it, registers without one.
/// - `on_signed_in`: called with the session after a 201 (email-bound invitation).
/// - `login_href`: where "sign in instead" points.
/// - `on_event`: told when the flow waits for the emailed link or ends in an error (the
///   widget turns these into DOM events).
#[component]
pub fn RegistrationFlow(
    #[prop(into)] token: Option<String>,
    on_signed_in: Callback<SessionResponse>,
    #[prop(into, default = "/login".into())] login_href: String,
    #[prop(optional)] on_event: Option<Callback<FlowEvent>>,
) -> impl IntoView {
    let ctx = ctx();
    let (limits, mode) = (ctx.limits, ctx.mode);
    let token = RwSignal::new(token);
    let stage = RwSignal::new(Stage::Loading);
    if let Some(notify) = on_event {
        Effect::new(move |_| match stage.get() {
            Stage::Pending(_) => notify.run(FlowEvent::VerificationPending),
            Stage::Dead { code, .. } => notify.run(FlowEvent::Error(
                code.map(|c| c.as_str().to_string())
                    .unwrap_or_else(|| "invalid_invitation".into()),
            )),
            Stage::Closed => notify.run(FlowEvent::Error("signup_closed".into())),
            _ => {}
        });
    }
    let verify = move |t: String| {
        stage.set(Stage::Loading);
        leptos::task::spawn_local(async move {
            match ctx.anon().verify_invitation(&t).await {
                Ok(v) => {
                    #[cfg(feature = "console")]
                    crate::pages::oidc::remember_app(&v.invitation);
                    token.set(Some(t));
                    stage.set(Stage::Form(Some(Box::new(v.invitation))));
                    focus_id("reg-heading");
                }
                Err(e) => {
                    let mut message = describe(&e, limits.get_untracked());
                    if let Some(ask) = who_to_ask(&e) {
                        message = format!("{message} {ask}");
                    }
                    stage.set(dead_stage(e.code(), message));
                    focus_id("reg-heading");
                }
            }
        });
    };
    match token.get_untracked() {
        Some(t) => verify(t),
        None => stage.set(Stage::NeedToken),
    }
    let login_href = StoredValue::new(login_href);
    view! {
        <div class="flow">
            {move || match stage.get() {
                Stage::Loading => view! { <p class="muted" aria-busy="true">"Checking your invitation…"</p> }.into_any(),
                Stage::NeedToken => view! { <PasteLink verify=Callback::new(verify) mode=mode stage_form=Callback::new(move |_| stage.set(Stage::Form(None))) /> }.into_any(),
                Stage::Closed => view! { <h1 id="reg-heading" tabindex="-1">"Sign-up is closed"</h1><p>"This service is not accepting new accounts at the moment."</p> }.into_any(),
                Stage::Dead { title, message, .. } => view! {
                    <h1 id="reg-heading" tabindex="-1">{title}</h1>
                    <p class="dead-message" role="alert">{message}</p>
                    <p>"Ask the person who invited you to send a new invitation. Already have an account? "
                        <a href=login_href.get_value()>"Sign in"</a>"."</p>
                    <p><button type="button" class="link" on:click=move |_| { token.set(None); stage.set(Stage::NeedToken) }>"Use another link"</button></p>
                }.into_any(),
                Stage::Form(preview) => {
                    let preview = preview.map(|p| *p);
                    let joining = preview.clone().filter(|p| p.organization.is_some());
                    let register = move || view! {
                        <RegisterForm preview=preview.clone() token=token limits=limits stage=stage on_signed_in=on_signed_in login_href=login_href.get_value() on_event=on_event />
                    };
                    match (joining, token.get_untracked()) {
                        // An organisation invitation opened while signed in is accepted, not
                        // registered: the account joins (or proves the invited address first).
                        (Some(p), Some(t)) => signed_in_or(p, t, register),
                        _ => register().into_any(),
                    }
                }
                Stage::Pending(email) => view! { <CheckEmail email=email /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn PasteLink(
    verify: Callback<String>,
    mode: RwSignal<Option<SignupMode>>,
    stage_form: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match token_from_text(&text.get_untracked()) {
            Some(t) => verify.run(t),
            None => error.set(Some(
                "Paste the whole invitation link from your email.".into(),
            )),
        }
    };
    view! {
        {move || match mode.get() {
            Some(SignupMode::Open) => view! {
                <h1 id="reg-heading" tabindex="-1">"Create your account"</h1>
                <p>"Anyone can sign up here. Have an invitation link? Paste it below instead."</p>
                <p><button type="button" class="primary" on:click=move |_| stage_form.run(())>"Continue without an invitation"</button></p>
            }.into_any(),
            Some(SignupMode::Closed) => view! {
                <h1 id="reg-heading" tabindex="-1">"Sign-up is closed"</h1>
                <p>"This service is not accepting new accounts at the moment."</p>
            }.into_any(),
            _ => view! {
                <h1 id="reg-heading" tabindex="-1">"Sign-up is by invitation"</h1>
                <p>"To create an account you need an invitation from a member. Open the link in your invitation email, or paste it here."</p>
            }.into_any(),
        }}
        <Show when=move || mode.get() != Some(SignupMode::Closed)>
            <form on:submit=submit novalidate>
                <Field id="invite-link" label="Invitation link or code" value=text hint="It looks like https://…/invite#token=…" />
                <Alert message=error />
                <button type="submit" class="primary">"Continue"</button>
            </form>
        </Show>
        <Show when=move || mode.get() == Some(SignupMode::InviteOnly)>
            <details class="allowlist">
                <summary>"My organisation approved my email address"</summary>
                <p>"Some organisations pre-approve their people's addresses. If yours did, you can register with that address and confirm it by email."</p>
                <button type="button" class="secondary" on:click=move |_| stage_form.run(())>"Register with my email"</button>
            </details>
        </Show>
    }
}

#[component]
fn RegisterForm(
    preview: Option<InvitationPreview>,
    token: RwSignal<Option<String>>,
    limits: RwSignal<Limits>,
    stage: RwSignal<Stage>,
    on_signed_in: Callback<SessionResponse>,
    login_href: String,
    on_event: Option<Callback<FlowEvent>>,
) -> impl IntoView {
    let ctx = ctx();
    let locked = preview.as_ref().and_then(|p| p.email.clone());
    let domain = preview.as_ref().and_then(|p| p.email_domain.clone());
    let email = RwSignal::new(locked.clone().unwrap_or_default());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let email_hint = match (&locked, &domain) {
        (Some(_), _) => Some("This invitation is for this address.".to_string()),
        (None, Some(d)) => Some(format!(
            "Use your @{d} address; we will email you a link to confirm it."
        )),
        _ => Some("We will email you a link to confirm this address.".to_string()),
    };
    let is_locked = locked.is_some();
    let joins_organization = preview.as_ref().is_some_and(|p| p.organization.is_some());
    // Where the address must be proven first, the password is chosen on the emailed link's
    // page, so that nobody can pre-register someone else's address with their own password.
    let verify_first = preview
        .as_ref()
        .map(|p| p.email_verification_required)
        .unwrap_or(true);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let e = email.get_untracked().trim().to_string();
        if invitegate_core::Email::parse(&e).is_err() {
            error.set(Some(
                "Enter a valid email address, like name@example.com.".into(),
            ));
            focus_id("email");
            return;
        }
        let pw = password.get_untracked();
        if !verify_first
            && let Some(msg) =
                check_new_password(&pw, &confirm.get_untracked(), &e, limits.get_untracked())
        {
            error.set(Some(msg));
            focus_id("password");
            return;
        }
        error.set(None);
        busy.set(true);
        let display = name.get_untracked().trim().to_string();
        let req = RegisterRequest {
            email: e.clone(),
            password: (!verify_first).then_some(pw),
            invite_token: token.get_untracked(),
            display_name: (!display.is_empty()).then_some(display),
        };
        leptos::task::spawn_local(async move {
            let result = ctx.anon().register(&req).await;
            busy.set(false);
            match result {
                Ok(Registration::SignedIn(s)) => on_signed_in.run(*s),
                Ok(Registration::VerificationPending) => stage.set(Stage::Pending(e)),
                Err(err) => match err.code() {
                    Some(
                        c @ (ErrorCode::InvitationExpired
                        | ErrorCode::InvitationRevoked
                        | ErrorCode::InvitationUsed
                        | ErrorCode::InvalidInvitation),
                    ) => stage.set(dead_stage(Some(c), describe(&err, limits.get_untracked()))),
                    Some(ErrorCode::SignupClosed) => stage.set(Stage::Closed),
                    code => {
                        if let Some(notify) = on_event {
                            let code = code.map_or("unavailable", |c| c.as_str());
                            notify.run(FlowEvent::Error(code.to_string()));
                        }
                        error.set(Some(describe(&err, limits.get_untracked())));
                    }
                },
            }
        });
    };
    let intro = preview.as_ref().map(|p| {
        let who = p
            .inviter_display_name
            .clone()
            .unwrap_or_else(|| "An administrator".into());
        let until = format!("{} ({})", fmt_time(&p.expires_at), fmt_until(&p.expires_at));
        let what = match &p.organization {
            Some(o) => {
                view! { " invited you to join "<strong>{o.name.clone()}</strong>"." }.into_any()
            }
            None => view! { " invited you to create an account." }.into_any(),
        };
        let app = p.app.as_ref().map(|a| {
            view! { <p class="muted">"Then you continue to "<strong>{a.name.clone()}</strong>", signed in."</p> }
        });
        view! {
            <p class="lead"><strong>{who}</strong>{what}</p>
            <p class="muted">"The invitation is valid until "{until}"."</p>
            {app}
        }
    });
    view! {
        <h1 id="reg-heading" tabindex="-1">"Create your account"</h1>
        {intro}
        <form on:submit=submit novalidate>
            <Field id="email" label="Email" kind="email" autocomplete="email" value=email hint=email_hint.unwrap_or_default() readonly=is_locked required=true />
            <Field id="display-name" label="Your name (optional)" autocomplete="name" value=name />
            {if verify_first {
                view! { <p class="muted">"You will choose your password after confirming your address."</p> }.into_any()
            } else {
                view! { <NewPassword password=password confirm=confirm email=email limits=limits /> }.into_any()
            }}
            <Alert message=error />
            <Submit label=if verify_first { "Continue" } else { "Create account" } busy=busy />
        </form>
        {match (joins_organization, token.get_untracked()) {
            (true, Some(t)) if login_href == "/login" => sign_in_to_accept(t),
            _ => view! { <p class="muted">"Already have an account? "<a href=login_href>"Sign in"</a></p> }.into_any(),
        }}
    }
}

/// "Check your email" with a resend button (the server answers the same whether or not an
/// account exists).
#[component]
pub fn CheckEmail(#[prop(into)] email: String) -> impl IntoView {
    let ctx = ctx();
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let addr = StoredValue::new(email.clone());
    let resend = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ctx.anon().resend_verification(&addr.get_value()).await {
                Ok(()) => status.set(Some("Sent again. It can take a minute to arrive.".into())),
                Err(e) => error.set(Some(describe(&e, Limits::default()))),
            }
            busy.set(false);
        });
    };
    Effect::new(move |_| focus_id("check-heading"));
    view! {
        <h1 id="check-heading" tabindex="-1">"Check your email"</h1>
        <p>"We sent a link to "<strong>{email}</strong>". Open it to confirm your address and finish creating your account."</p>
        <p class="muted">"Nothing there after a few minutes? Look in your spam folder, or send it again."</p>
        <button type="button" class="secondary" disabled=move || busy.get() on:click=resend>"Send the link again"</button>
        <Status message=status />
        <Alert message=error />
    }
}

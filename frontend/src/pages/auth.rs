//! Screens for people who are not signed in: invitation, registration, email verification,
//! sign-in, forgotten and reset password.

use invitegate_core::api::{ConfirmEmailRequest, SessionResponse};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::errors::{Limits, describe};
use crate::pages::oidc::{ContinueTo, after_sign_in, continue_after_sign_in};
use crate::registration::{CheckEmail, RegistrationFlow};
use crate::session::ctx;
use crate::ui::*;
use crate::util::{focus_id, safe_next, take_fragment_token};

/// After a password reset: a waiting app request, else the member area (an invitation's app
/// is for the invitation's own flows).
fn back_to_waiting_app() -> Callback<SessionResponse> {
    let ctx = ctx();
    let navigate = use_navigate();
    Callback::new(move |s: SessionResponse| {
        ctx.signed_in(s);
        navigate(&after_sign_in("/app"), Default::default());
    })
}

fn go_to_app() -> Callback<SessionResponse> {
    let ctx = ctx();
    let navigate = use_navigate();
    Callback::new(move |s: SessionResponse| {
        let email = s.user.email.clone();
        ctx.signed_in(s);
        continue_after_sign_in(&email, "/app", navigate.clone());
    })
}

/// `/invite#token=…`: verify, then register.
#[component]
pub fn InvitePage() -> impl IntoView {
    let token = crate::pages::org_invite::invitation_token();
    view! { <section class="card narrow"><RegistrationFlow token=token on_signed_in=go_to_app() /></section> }
}

/// `/register`: explains invitation-only sign-up; the link field; allowlisted emails.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let token = take_fragment_token();
    view! { <section class="card narrow"><RegistrationFlow token=token on_signed_in=go_to_app() /></section> }
}

/// `/verify-email#token=…`: whoever opened the emailed link chooses the password and, on an
/// explicit submit, the account is created and signed in. Nothing is sent on load: mail
/// scanners and link previews run JavaScript (security.md, pre-hijacking).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let ctx = ctx();
    let on_done = go_to_app();
    let limits = ctx.limits;
    let token = StoredValue::new(take_fragment_token());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let dead = RwSignal::new(
        token
            .get_value()
            .is_none()
            .then(|| "This page needs the link from your confirmation email.".to_string()),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(t) = token.get_value() else { return };
        let pw = password.get_untracked();
        if let Some(msg) =
            check_new_password(&pw, &confirm.get_untracked(), "", limits.get_untracked())
        {
            error.set(Some(msg));
            focus_id("password");
            return;
        }
        busy.set(true);
        error.set(None);
        let display = name.get_untracked().trim().to_string();
        let req = ConfirmEmailRequest {
            token: t,
            password: Some(pw),
            display_name: (!display.is_empty()).then_some(display),
        };
        leptos::task::spawn_local(async move {
            match ctx.anon().confirm_email_with(&req).await {
                Ok(s) => on_done.run(s),
                Err(e) => {
                    busy.set(false);
                    let message = describe(&e, limits.get_untracked());
                    if e.status() == Some(422) {
                        error.set(Some(message));
                    } else {
                        dead.set(Some(message));
                    }
                }
            }
        });
    };
    let email = RwSignal::new(String::new());
    let sent = RwSignal::new(false);
    let resend = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let e = email.get_untracked();
        leptos::task::spawn_local(async move {
            let _ = ctx.anon().resend_verification(&e).await;
            sent.set(true);
        });
    };
    view! {
        <section class="card narrow">
            <Show when=move || dead.get().is_some() fallback=move || view! {
                <h1 id="verify-heading" tabindex="-1">"Choose your password"</h1>
                <p class="muted">"Your address is confirmed when you create the account."</p>
                <form on:submit=submit novalidate>
                    <Field id="display-name" label="Your name (optional)" autocomplete="name" value=name />
                    <NewPassword password=password confirm=confirm email=Signal::stored(String::new()) limits=limits />
                    <Alert message=error />
                    <Submit label="Create account" busy=busy />
                </form>
            }>
                <h1>"We could not confirm your email"</h1>
                <Alert message=dead />
                <Show when=move || !sent.get() fallback=move || view! { <CheckEmail email=email.get_untracked() /> }>
                    <p>"Enter your address to get a new confirmation link."</p>
                    <form on:submit=resend novalidate>
                        <Field id="email" label="Email" kind="email" autocomplete="email" value=email required=true />
                        <button type="submit" class="primary">"Send a new link"</button>
                    </form>
                </Show>
            </Show>
        </section>
    }
}

/// `/login?login_hint=…`: the email is prefilled from `login_hint` (as in OpenID Connect Core
/// §3.1.2.1).
#[component]
pub fn LoginPage() -> impl IntoView {
    let ctx = ctx();
    let query = use_query_map();
    let navigate = use_navigate();
    let hint = query
        .with_untracked(|q| q.get("login_hint"))
        .unwrap_or_default();
    let next = safe_next(query.with_untracked(|q| q.get("next")).as_deref());
    let email = RwSignal::new(hint.clone());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let focus_password = !hint.is_empty();
    let deleted = query.with_untracked(|q| q.get("deleted").is_some());
    Effect::new(move |_| focus_id(if focus_password { "password" } else { "email" }));
    let next = StoredValue::new(next);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (e, p) = (email.get_untracked(), password.get_untracked());
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match ctx.anon().login(e.trim(), &p).await {
                Ok(s) => {
                    // Only a waiting app request: an invitation made for an app continues there
                    // once registered or accepted, not at any sign-in.
                    ctx.signed_in(s);
                    navigate(&after_sign_in(next.get_value()), Default::default());
                }
                Err(err) => {
                    busy.set(false);
                    error.set(Some(describe(&err, Limits::default())));
                }
            }
        });
    };
    let forgot = move || {
        format!(
            "/forgot-password?login_hint={}",
            js_sys::encode_uri_component(&email.get())
        )
    };
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            {deleted.then(|| view! { <p class="success" role="status">"Your account was deleted."</p> })}
            <ContinueTo />
            <form on:submit=submit novalidate>
                <Field id="email" label="Email" kind="email" autocomplete="username" value=email required=true />
                <Field id="password" label="Password" kind="password" autocomplete="current-password" value=password required=true />
                <Alert message=error />
                <Submit label="Sign in" busy=busy />
            </form>
            <p><a href=forgot>"Forgot your password?"</a></p>
            <p class="muted">"New here? Sign-up is by invitation: "<a href="/register">"use your invitation"</a>"."</p>
        </section>
    }
}

/// `/forgot-password`: asks for a reset link (the answer never reveals whether an account exists).
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let ctx = ctx();
    let query = use_query_map();
    let email = RwSignal::new(
        query
            .with_untracked(|q| q.get("login_hint"))
            .unwrap_or_default(),
    );
    let sent = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let e = email.get_untracked().trim().to_string();
        if invitegate_core::Email::parse(&e).is_err() {
            error.set(Some(
                "Enter a valid email address, like name@example.com.".into(),
            ));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ctx.anon().request_password_reset(&e).await {
                Ok(()) => sent.set(true),
                Err(err) => error.set(Some(describe(&err, Limits::default()))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Reset your password"</h1>
            <Show when=move || !sent.get() fallback=move || view! {
                <p role="status">"If "<strong>{email.get_untracked()}</strong>" has an account, we sent it a link to choose a new password. The link works once, for 60 minutes."</p>
                <p><a href="/login">"Back to sign in"</a></p>
            }>
                <p>"Enter the email address of your account. We will send you a link to choose a new password."</p>
                <form on:submit=submit novalidate>
                    <Field id="email" label="Email" kind="email" autocomplete="email" value=email required=true />
                    <Alert message=error />
                    <Submit label="Send reset link" busy=busy />
                </form>
            </Show>
        </section>
    }
}

/// `/reset-password#token=…`: chooses a new password; other sessions end; signs in.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let ctx = ctx();
    let on_done = back_to_waiting_app();
    let token = StoredValue::new(take_fragment_token());
    let limits = ctx.limits;
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(t) = token.get_value() else { return };
        let pw = password.get_untracked();
        if let Some(msg) =
            check_new_password(&pw, &confirm.get_untracked(), "", limits.get_untracked())
        {
            error.set(Some(msg));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match ctx.anon().confirm_password_reset(&t, &pw).await {
                Ok(s) => on_done.run(s),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(describe(&e, limits.get_untracked())));
                }
            }
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            <Show when=move || token.get_value().is_some() fallback=|| view! {
                <p role="alert">"This page needs the link from your password reset email."</p>
                <p><a href="/forgot-password">"Request a new link"</a></p>
            }>
                <p class="muted">"Signing in with the new password ends every other session of your account."</p>
                <form on:submit=submit novalidate>
                    <NewPassword password=password confirm=confirm email=Signal::stored(String::new()) limits=limits label="New password" />
                    <Alert message=error />
                    <Submit label="Set password and sign in" busy=busy />
                </form>
                <p class="muted"><a href="/forgot-password">"Request a new link"</a></p>
            </Show>
        </section>
    }
}

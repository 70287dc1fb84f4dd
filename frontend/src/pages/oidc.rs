//! The OpenID Provider's pages: `/authorize` ("Continue to <app>") and `/end-session`. A
//! cross-site navigation from the app does not carry the `SameSite=Strict` refresh cookie, so
//! these pages resume the request with the app's own same-origin calls. The request waits in
//! local storage (no secret in it: the query the app sent) while the person signs in,
//! registers — the emailed verification may open in another tab — or resets a password.

use invitegate_core::api::{AuthorizeRequest, EndSessionRequest};
use invitegate_core::model::AuthorizeStatus;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};

use crate::errors::{Limits, describe};
use crate::session::ctx;

const PENDING_KEY: &str = "invitegate.authorize";
/// A waiting request is dropped after 15 minutes, so that it cannot take over a later,
/// unrelated sign-in (and the app's own state would be stale anyway).
const PENDING_MAX_AGE_MS: f64 = 900_000.0;

#[derive(Serialize, Deserialize)]
struct Pending {
    query: String,
    client_name: String,
    at: f64,
    fresh_sign_in: bool,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn read_pending() -> Option<Pending> {
    let raw = storage()?.get_item(PENDING_KEY).ok()??;
    let p: Pending = serde_json::from_str(&raw).ok()?;
    (js_sys::Date::now() - p.at < PENDING_MAX_AGE_MS).then_some(p)
}

fn write_pending(p: &Pending) {
    if let (Some(s), Ok(raw)) = (storage(), serde_json::to_string(p)) {
        let _ = s.set_item(PENDING_KEY, &raw);
    }
}

fn clear_pending() {
    if let Some(s) = storage() {
        let _ = s.remove_item(PENDING_KEY);
    }
}

const APP_KEY: &str = "invitegate.app";

/// An invitation made for an app: after registering, the person is sent to its
/// `initiate_login_uri` (OpenID Connect Core §4). Kept like a waiting request.
pub fn remember_app(preview: &invitegate_core::api::InvitationPreview) {
    let Some(s) = storage() else { return };
    // Each invitation opened replaces what an earlier one left, so a plain invitation never
    // continues to another invitation's app.
    match &preview.app {
        Some(app) => {
            let value = serde_json::json!({"uri": app.initiate_login_uri, "issuer": app.issuer, "at": js_sys::Date::now()});
            let _ = s.set_item(APP_KEY, &value.to_string());
        }
        None => {
            let _ = s.remove_item(APP_KEY);
        }
    }
}

/// The third-party-initiated login URL of the app an invitation was made for, with `iss`,
/// `login_hint` and `target_link_uri` — standard parameters only; the invitation token never
/// goes to the app.
fn app_login(email: &str) -> Option<String> {
    let s = storage()?;
    let raw = s.get_item(APP_KEY).ok()??;
    let _ = s.remove_item(APP_KEY);
    let value: serde_json::Value = serde_json::from_str(&raw).ok()?;
    if js_sys::Date::now() - value["at"].as_f64()? > PENDING_MAX_AGE_MS {
        return None;
    }
    let uri = value["uri"].as_str()?;
    let origin = web_sys::Url::new(uri).ok()?.origin();
    let issuer = value["issuer"].as_str()?.to_string();
    let enc = |v: &str| String::from(js_sys::encode_uri_component(v));
    let sep = if uri.contains('?') { '&' } else { '?' };
    Some(format!(
        "{uri}{sep}iss={}&login_hint={}&target_link_uri={}",
        enc(&issuer),
        enc(email),
        enc(&format!("{origin}/"))
    ))
}

/// Sends `email` to the app an invitation was made for, if any; whether it did.
pub fn continue_to_app(email: &str) -> bool {
    match app_login(email) {
        Some(url) => {
            go(&url);
            true
        }
        None => false,
    }
}

/// Where to go after `email` signed in: a waiting app request, else the app an invitation was
/// made for, else `fallback` (a route of this app).
pub fn continue_after_sign_in(
    email: &str,
    fallback: &str,
    navigate: impl Fn(&str, leptos_router::NavigateOptions),
) {
    let next = after_sign_in(fallback);
    if next == fallback
        && let Some(url) = app_login(email)
    {
        return go(&url);
    }
    navigate(&next, Default::default());
}

/// Forgets any waiting app request (on sign-out).
pub fn forget() {
    clear_pending();
    if let Some(s) = storage() {
        let _ = s.remove_item(APP_KEY);
    }
}

/// The app waiting for this sign-in, if any: "Continue to <name>".
pub fn waiting_client() -> Option<String> {
    read_pending().map(|p| p.client_name)
}

/// After a sign-in, registration or password reset: the page to go to — `/authorize` when an
/// app is waiting (the sign-in just happened, which answers `prompt=login`), else `fallback`.
pub fn after_sign_in(fallback: &str) -> String {
    match read_pending() {
        Some(mut p) => {
            p.fresh_sign_in = true;
            write_pending(&p);
            "/authorize".into()
        }
        None => fallback.into(),
    }
}

/// "Sign in to continue to <app>", on the sign-in and registration screens.
#[component]
pub fn ContinueTo() -> impl IntoView {
    waiting_client().map(|name| {
        view! { <p class="notice" data-testid="continue-to">"Sign in to continue to "<strong>{name}</strong>"."</p> }
    })
}

fn go(to: &str) {
    let scheme = to
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if matches!(scheme.trim(), "javascript" | "data" | "vbscript") {
        return;
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().replace(to);
    }
}

/// `/authorize?…`: the authorization endpoint.
#[component]
pub fn AuthorizePage() -> impl IntoView {
    let ctx = ctx();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let create = RwSignal::new(None::<String>);
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let query = search.trim_start_matches('?').to_string();
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if !ctx.ready.get() || started.get_value() {
            return;
        }
        started.set_value(true);
        let (query, fresh_sign_in) = match (query.is_empty(), read_pending()) {
            (false, _) => (query.clone(), false),
            (true, Some(p)) => (p.query, p.fresh_sign_in),
            (true, None) => {
                error.set(Some("This page continues a sign-in that an app started. Go back to the app and sign in again.".into()));
                return;
            }
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let req = AuthorizeRequest {
                query: query.clone(),
                fresh_sign_in,
            };
            match ctx.client().authorize(&req).await {
                Ok(out) => match out.status {
                    AuthorizeStatus::Redirect => {
                        clear_pending();
                        go(out.redirect_to.as_deref().unwrap_or("/"));
                    }
                    AuthorizeStatus::SignIn => {
                        write_pending(&Pending {
                            query,
                            client_name: out.client_name,
                            at: js_sys::Date::now(),
                            fresh_sign_in: false,
                        });
                        // prompt=login or max_age: sign in anew. The current session is
                        // left alone: a link from any site must not sign people out.
                        let hint = out
                            .login_hint
                            .map(|h| format!("?login_hint={}", js_sys::encode_uri_component(&h)))
                            .unwrap_or_default();
                        navigate(&format!("/login{hint}"), Default::default());
                    }
                    AuthorizeStatus::CreateAccount => {
                        write_pending(&Pending {
                            query,
                            client_name: out.client_name.clone(),
                            at: js_sys::Date::now(),
                            fresh_sign_in: false,
                        });
                        create.set(Some(out.client_name));
                    }
                },
                Err(e) => {
                    clear_pending();
                    error.set(Some(describe(&e, Limits::default())));
                }
            }
        });
    });
    view! {
        <section class="card narrow">
            {move || match (error.get(), create.get()) {
                (Some(message), _) => view! {
                    <h1>"This sign-in link does not work"</h1>
                    <p role="alert">{message}</p>
                }.into_any(),
                (None, Some(app)) => view! {
                    <h1>{format!("Create an account for {app}")}</h1>
                    <p>"Accounts here are by invitation. Open the invitation link you received: after you register, you continue to "{app.clone()}"."</p>
                    <p><a href="/register">"I have an invitation"</a>" · "<a href="/login">"I already have an account"</a></p>
                }.into_any(),
                (None, None) => view! { <p class="muted" aria-busy="true">"Signing you in…"</p> }.into_any(),
            }}
        </section>
    }
}

/// `/end-session?…`: RP-initiated logout.
#[component]
pub fn EndSessionPage() -> impl IntoView {
    let ctx = ctx();
    let query = StoredValue::new(
        web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default()
            .trim_start_matches('?')
            .to_string(),
    );
    let state = RwSignal::new(None::<Result<(bool, Option<String>, bool), String>>);
    let send = move |confirm: bool| {
        leptos::task::spawn_local(async move {
            let req = EndSessionRequest {
                query: query.get_value(),
                confirm,
            };
            match ctx.client().end_session(&req).await {
                Ok(out) => {
                    if out.signed_out {
                        ctx.sign_out().await;
                    }
                    match out.redirect_to {
                        Some(to) => go(&to),
                        None => state.set(Some(Ok((
                            out.signed_out,
                            out.client_name,
                            out.confirmation_required,
                        )))),
                    }
                }
                Err(e) => state.set(Some(Err(describe(&e, Limits::default())))),
            }
        });
    };
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if ctx.ready.get() && !started.get_value() {
            started.set_value(true);
            send(false);
        }
    });
    view! {
        <section class="card narrow">
            {move || match state.get() {
                None => view! { <p class="muted" aria-busy="true">"Signing you out…"</p> }.into_any(),
                Some(Err(message)) => view! { <h1>"This sign-out link does not work"</h1><p role="alert">{message}</p> }.into_any(),
                Some(Ok((_, app, true))) => view! {
                    <h1>"Sign out?"</h1>
                    <p>{match app { Some(a) => format!("{a} asks to sign you out of this account."), None => "An app asks to sign you out of this account.".to_string() }}</p>
                    <button type="button" class="primary" on:click=move |_| send(true)>"Sign out"</button>
                }.into_any(),
                Some(Ok((_, _, false))) => view! { <h1>"You are signed out"</h1><p><a href="/login">"Sign in again"</a></p> }.into_any(),
            }}
        </section>
    }
}

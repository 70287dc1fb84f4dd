//! The single-page app: router, header, session guard, every screen.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use wasm_bindgen::prelude::*;

use crate::pages::admin::*;
use crate::pages::auth::*;
use crate::pages::member::MemberPage;
use crate::pages::oidc::{AuthorizePage, EndSessionPage};
use crate::pages::org_invite::AcceptInvitationPage;
use crate::pages::security::SecurityPage;
use crate::session::{AppCtx, ctx};

/// Requires a session (and the admin role when `admin`); otherwise sends to `/login`.
#[component]
fn Guard(#[prop(default = false)] admin: bool, children: ChildrenFn) -> impl IntoView {
    let ctx = ctx();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if ctx.ready.get() && ctx.session.with(|s| s.is_none()) {
            let next = location.pathname.get_untracked();
            navigate(
                &format!("/login?next={}", js_sys::encode_uri_component(&next)),
                Default::default(),
            );
        }
    });
    let children = StoredValue::new(children);
    // A memo: a renewed token (every few minutes, or after a password change) changes the
    // session but not the access, and must not rebuild the page and lose what is typed in it.
    let access = Memo::new(move |_| {
        if !ctx.ready.get() {
            Access::Loading
        } else if ctx.session.with(|s| s.is_none()) {
            Access::SignedOut
        } else if admin && !ctx.is_admin() {
            Access::NotAdmin
        } else {
            Access::Granted
        }
    });
    view! {
        {move || match access.get() {
            Access::Loading => view! { <p class="muted" aria-busy="true">"Loading…"</p> }.into_any(),
            Access::SignedOut => view! { <p class="muted">"Redirecting to sign in…"</p> }.into_any(),
            Access::NotAdmin => view! { <section class="card"><h1>"Administrators only"</h1><p>"This part of the console is for administrators. "<a href="/app">"Go to your account"</a></p></section> }.into_any(),
            Access::Granted => children.with_value(|c| c()).into_any(),
        }}
    }
}

/// What [`Guard`] shows.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    Loading,
    SignedOut,
    NotAdmin,
    Granted,
}

#[component]
fn Header() -> impl IntoView {
    let ctx = ctx();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            ctx.sign_out().await;
            navigate("/login", Default::default());
        });
    };
    view! {
        <header class="top">
            <a class="brand" href="/">{move || ctx.product.get()}</a>
            <nav aria-label="Main">
                {move || match ctx.session.get() {
                    Some(s) => view! {
                        <a href="/app">"My account"</a>
                        {(s.user.role == invitegate_core::model::Role::Admin).then(|| view! { <a href="/admin">"Admin"</a> })}
                        <span class="who" title=s.user.email.clone()>{s.user.email.clone()}</span>
                        <button type="button" class="link" on:click=sign_out.clone()>"Sign out"</button>
                    }.into_any(),
                    None => view! { <a href="/login">"Sign in"</a> }.into_any(),
                }}
            </nav>
        </header>
    }
}

#[component]
fn Home() -> impl IntoView {
    let ctx = ctx();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if ctx.ready.get() {
            let to = if ctx.session.with(|s| s.is_some()) {
                "/app"
            } else {
                "/login"
            };
            navigate(to, Default::default());
        }
    });
    view! { <p class="muted" aria-busy="true">"Loading…"</p> }
}

#[component]
fn NotFound() -> impl IntoView {
    view! { <section class="card narrow"><h1>"Page not found"</h1><p><a href="/">"Go to the start page"</a></p></section> }
}

/// The whole SPA.
#[component]
pub fn App() -> impl IntoView {
    let app = AppCtx::new(window().location().origin().unwrap_or_default());
    provide_context(app);
    // Pages reached from email links carry their own credentials; everywhere else the session
    // is restored from the refresh cookie.
    leptos::task::spawn_local(async move {
        app.refresh().await;
    });
    app.load_policy();
    Effect::new(move |_| document().set_title(&app.product.get()));
    // A new link pasted into the address bar of an open page changes only the fragment: load
    // the page again so it reads the new token.
    let on_hash = window_event_listener(leptos::ev::hashchange, |_| {
        if window()
            .location()
            .hash()
            .is_ok_and(|h| h.contains("token="))
        {
            let _ = window().location().reload();
        }
    });
    on_cleanup(move || on_hash.remove());
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <Header />
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/invite") view=InvitePage />
                    <Route path=path!("/register") view=RegisterPage />
                    <Route path=path!("/verify-email") view=VerifyEmailPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                    <Route path=path!("/reset-password") view=ResetPasswordPage />
                    <Route path=path!("/accept-invitation") view=AcceptInvitationPage />
                    <Route path=path!("/authorize") view=AuthorizePage />
                    <Route path=path!("/end-session") view=EndSessionPage />
                    <Route path=path!("/app") view=|| view! { <Guard><MemberPage /></Guard> } />
                    <Route path=path!("/app/security") view=|| view! { <Guard><SecurityPage /></Guard> } />
                    <Route path=path!("/admin") view=|| view! { <Guard admin=true><AdminOverview /></Guard> } />
                    <Route path=path!("/admin/invitations") view=|| view! { <Guard admin=true><AdminInvitations /></Guard> } />
                    <Route path=path!("/admin/organizations") view=|| view! { <Guard admin=true><AdminOrganizations /></Guard> } />
                    <Route path=path!("/admin/import") view=|| view! { <Guard admin=true><AdminImport /></Guard> } />
                    <Route path=path!("/admin/users") view=|| view! { <Guard admin=true><AdminUsers /></Guard> } />
                    <Route path=path!("/admin/audit") view=|| view! { <Guard admin=true><AdminAudit /></Guard> } />
                    <Route path=path!("/admin/api-keys") view=|| view! { <Guard admin=true><AdminApiKeys /></Guard> } />
                    <Route path=path!("/admin/apps") view=|| view! { <Guard admin=true><AdminApps /></Guard> } />
                    <Route path=path!("/admin/webhooks") view=|| view! { <Guard admin=true><AdminWebhooks /></Guard> } />
                    <Route path=path!("/admin/outbox") view=|| view! { <Guard admin=true><AdminOutbox /></Guard> } />
                    <Route path=path!("/admin/settings") view=|| view! { <Guard admin=true><AdminSettings /></Guard> } />
                </Routes>
            </main>
        </Router>
    }
}

/// Starts the SPA in `<body>` (called by the page's boot script).
#[wasm_bindgen]
pub fn start_app() {
    console_error_panic_hook::set_once();
    if let Some(el) = document().get_element_by_id("boot") {
        el.remove();
    }
    mount_to_body(App);
}

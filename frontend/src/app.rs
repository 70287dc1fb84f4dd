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

/// A page of the admin console. Their views are in a module of their own (split off by
/// `cargo xtask web` at [`console`]), which the browser fetches when an administrator first
/// opens the console: the pages every invitee and member loads stay a third smaller.
#[derive(Clone, Copy)]
#[repr(u8)]
enum ConsolePage {
    Overview,
    Invitations,
    Organizations,
    Import,
    Users,
    Audit,
    ApiKeys,
    Apps,
    Webhooks,
    Outbox,
    Settings,
}

/// `page` from the console's module; `Err` when the module could not be fetched (offline, or
/// an upgrade replaced the app since this page loaded; a later call tries again). Leptos's
/// `#[lazy]` would panic there, which stops the whole app.
#[leptos::wasm_split::wasm_split(console, wasm_split_path = ::leptos::wasm_split, fallible)]
fn console(page: ConsolePage) -> Result<AnyView, leptos::wasm_split::SplitLoaderError> {
    Ok(match page {
        ConsolePage::Overview => view! { <AdminOverview /> }.into_any(),
        ConsolePage::Invitations => view! { <AdminInvitations /> }.into_any(),
        ConsolePage::Organizations => view! { <AdminOrganizations /> }.into_any(),
        ConsolePage::Import => view! { <AdminImport /> }.into_any(),
        ConsolePage::Users => view! { <AdminUsers /> }.into_any(),
        ConsolePage::Audit => view! { <AdminAudit /> }.into_any(),
        ConsolePage::ApiKeys => view! { <AdminApiKeys /> }.into_any(),
        ConsolePage::Apps => view! { <AdminApps /> }.into_any(),
        ConsolePage::Webhooks => view! { <AdminWebhooks /> }.into_any(),
        ConsolePage::Outbox => view! { <AdminOutbox /> }.into_any(),
        ConsolePage::Settings => view! { <AdminSettings /> }.into_any(),
    })
}

/// A console route: the guard stays in the main module, so only an administrator's browser
/// fetches the console's.
fn console_route(page: ConsolePage) -> impl IntoView {
    view! {
        <Guard admin=true>
            <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading…"</p> }>
                {Suspend::new(async move {
                    console(page)
                        .await
                        .unwrap_or_else(|_| view! { <ConsoleUnavailable /> }.into_any())
                })}
            </Suspense>
        </Guard>
    }
}

/// What a console route shows when the console's module could not be fetched.
#[component]
fn ConsoleUnavailable() -> impl IntoView {
    view! {
        <section class="card narrow" role="alert">
            <h1>"The admin console could not be loaded"</h1>
            <p>"The connection may have dropped, or Invitegate was updated since this page opened. Reloading fetches the current version."</p>
            <button type="button" on:click=|_| { let _ = window().location().reload(); }>"Reload"</button>
        </section>
    }
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
                    <Route path=path!("/admin") view=|| console_route(ConsolePage::Overview) />
                    <Route path=path!("/admin/invitations") view=|| console_route(ConsolePage::Invitations) />
                    <Route path=path!("/admin/organizations") view=|| console_route(ConsolePage::Organizations) />
                    <Route path=path!("/admin/import") view=|| console_route(ConsolePage::Import) />
                    <Route path=path!("/admin/users") view=|| console_route(ConsolePage::Users) />
                    <Route path=path!("/admin/audit") view=|| console_route(ConsolePage::Audit) />
                    <Route path=path!("/admin/api-keys") view=|| console_route(ConsolePage::ApiKeys) />
                    <Route path=path!("/admin/apps") view=|| console_route(ConsolePage::Apps) />
                    <Route path=path!("/admin/webhooks") view=|| console_route(ConsolePage::Webhooks) />
                    <Route path=path!("/admin/outbox") view=|| console_route(ConsolePage::Outbox) />
                    <Route path=path!("/admin/settings") view=|| console_route(ConsolePage::Settings) />
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

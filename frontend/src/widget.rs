//! The embeddable registration: [`InvitegateRegistration`], with the DOM events it tells its
//! host page about and the redirect it may make there.

use invitegate_core::api::SessionResponse;
use leptos::prelude::*;

use crate::registration::{FlowEvent, RegistrationFlow};
use crate::session::AppCtx;

/// Registration for Leptos apps that embed Invitegate: provides its own context for the API
/// at `api_base` (CORS must allow the host page's origin: `cors_allowed_origins`).
///
/// On a 201 it shows a confirmation with a sign-in link to `api_base`'s login page.
///
/// With `element`, it dispatches bubbling DOM `CustomEvent`s on it: `invitegate:registered`
/// (`detail: {status: "signed_in", user}` or `{status: "verification_pending"}`) and
/// `invitegate:error` (`detail: {code}`, the API's error code). With `redirect_to`, a URL on
/// the host page's own origin (which `cors_allowed_origins` must allow for the widget to work
/// at all), the page goes there once the account is signed in; other origins are ignored.
#[component]
pub fn InvitegateRegistration(
    #[prop(into)] api_base: String,
    #[prop(into, default = None)] token: Option<String>,
    #[prop(default = None)] element: Option<web_sys::HtmlElement>,
    #[prop(into, default = None)] redirect_to: Option<String>,
) -> impl IntoView {
    let element = StoredValue::new_local(element);
    let redirect_to = StoredValue::new(redirect_to.filter(|r| same_origin(r)));
    let emit = move |name: &str, detail: serde_json::Value| {
        if let Some(el) = element.get_value() {
            dispatch(&el, name, &detail);
        }
    };
    let on_event = Callback::new(move |e: FlowEvent| match e {
        FlowEvent::VerificationPending => emit(
            "invitegate:registered",
            serde_json::json!({"status": "verification_pending"}),
        ),
        FlowEvent::Error(code) => emit("invitegate:error", serde_json::json!({"code": code})),
    });
    let base = api_base.trim_end_matches('/').to_string();
    let app = AppCtx::new(base.clone());
    app.load_policy();
    provide_context(app);
    let done = RwSignal::new(None::<String>);
    let login = format!("{base}/login");
    let login2 = StoredValue::new(login.clone());
    view! {
        <div class="invitegate">
            <Show
                when=move || done.get().is_some()
                fallback=move || view! {
                    <RegistrationFlow token=token.clone() login_href=login.clone() on_event=on_event
                        on_signed_in=Callback::new(move |s: SessionResponse| {
                            emit("invitegate:registered", serde_json::json!({"status": "signed_in", "user": s.user}));
                            if let Some(to) = redirect_to.get_value()
                                && let Some(w) = web_sys::window()
                            {
                                let _ = w.location().assign(&to);
                            }
                            done.set(Some(s.user.email))
                        }) />
                }
            >
                <h2 id="reg-heading" tabindex="-1">"Welcome aboard"</h2>
                <p role="status">"Your account "<strong>{move || done.get()}</strong>" is ready."</p>
                <p><a class="button primary" href=move || format!("{}?login_hint={}", login2.get_value(), js_sys::encode_uri_component(&done.get().unwrap_or_default()))>"Sign in"</a></p>
            </Show>
        </div>
    }
}

/// Dispatches a bubbling `CustomEvent` `name` with `detail` (as a plain JS object) on `el`.
fn dispatch(el: &web_sys::HtmlElement, name: &str, detail: &serde_json::Value) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    if let Ok(d) = js_sys::JSON::parse(&detail.to_string()) {
        init.set_detail(&d);
    }
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = el.dispatch_event(&event);
    }
}

/// Whether `url` is on the host page's own origin.
fn same_origin(url: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(here) = window.location().href() else {
        return false;
    };
    match (web_sys::Url::new(url), web_sys::Url::new(&here)) {
        (Ok(to), Ok(here)) => to.origin() == here.origin(),
        _ => false,
    }
}

//! Invitegate's web app (Leptos, client-side rendered WASM) and embeddable registration widget.
//!
//! - [`start_app`]: the SPA served by the server at `/` (invitee, member and admin screens);
//!   feature `console` (default).
//! - [`mount_registration`]: the widget, `mount_registration(element, {apiBase, token?})`, for
//!   pages on other origins (`/embed/invitegate-embed.js`). `cargo xtask web` builds it a second
//!   time without `console`, so other sites load only the registration form.
//! - [`InvitegateRegistration`]: the same registration form as a Leptos component.

#[cfg(feature = "console")]
mod app;
#[cfg(feature = "console")]
mod charts;
#[cfg_attr(not(feature = "console"), allow(dead_code))]
mod errors;
#[cfg(feature = "console")]
mod pages;
mod registration;
#[cfg_attr(not(feature = "console"), allow(dead_code))]
mod session;
#[cfg_attr(not(feature = "console"), allow(dead_code))]
mod ui;
#[cfg_attr(not(feature = "console"), allow(dead_code))]
mod util;
mod widget;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[cfg(feature = "console")]
pub use app::{App, start_app};
pub use widget::InvitegateRegistration;

/// Renders the registration form into `element`, without a router.
///
/// `options`: `{apiBase: string, token?: string, redirectTo?: string}` — `apiBase` is the
/// Invitegate server's origin (e.g. `"https://invite.example.com"`); `token` an invitation
/// token, if the host page has one (otherwise the form asks for the link, or reads `#token=`
/// from the host page's address); `redirectTo` a URL on the host page's origin to go to once
/// the account is signed in. The widget dispatches bubbling `invitegate:registered`
/// (`detail: {status: "signed_in" | "verification_pending", user?}`) and `invitegate:error`
/// (`detail: {code}`) events on `element`. Errors: a `TypeError` when `apiBase` is missing.
#[wasm_bindgen]
pub fn mount_registration(element: web_sys::HtmlElement, options: JsValue) -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let get = |k: &str| {
        js_sys::Reflect::get(&options, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    let api_base = get("apiBase")
        .filter(|b| !b.is_empty())
        .ok_or_else(|| js_sys::TypeError::new("mount_registration: options.apiBase is required"))?;
    let token = get("token").or_else(util::take_fragment_token);
    let redirect_to = get("redirectTo");
    let target = element.clone();
    leptos::mount::mount_to(element, move || {
        view! { <InvitegateRegistration api_base=api_base.clone() token=token.clone() element=Some(target.clone()) redirect_to=redirect_to.clone() /> }
    })
    .forget();
    Ok(())
}

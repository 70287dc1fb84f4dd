//! Small browser helpers: fragments, clipboard, dates, downloads.

use invitegate_core::time::{DateTime, Utc};
use wasm_bindgen::JsValue;

/// Reads `token=` from the address bar's fragment and removes the fragment from the address
/// bar and the session history (`history.replaceState`), so the secret is neither left on
/// screen nor sent on as a referrer. `None` when there is no token.
pub fn take_fragment_token() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let hash = location.hash().ok()?;
    let token = token_from_text(hash.trim_start_matches('#'))?;
    if let (Ok(path), Ok(search), Ok(history)) =
        (location.pathname(), location.search(), window.history())
    {
        let _ =
            history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{search}")));
    }
    Some(token)
}

/// The SPA's routes a sign-in may return to (`/login?next=…`); they mirror `app.rs`.
pub const RETURN_ROUTES: &[&str] = &[
    "/app",
    "/invite",
    "/accept-invitation",
    "/admin",
    "/admin/invitations",
    "/admin/organizations",
    "/admin/import",
    "/admin/users",
    "/admin/audit",
    "/admin/api-keys",
    "/admin/webhooks",
    "/admin/outbox",
    "/admin/settings",
];

/// Where to go after signing in: `next` when it is exactly one of [`RETURN_ROUTES`], else
/// `/app`. Anything else — `//evil.example`, `/\evil.example` (browsers read `\` as `/`),
/// absolute URLs, unknown paths — stays home (security.md, redirects after sign-in).
pub fn safe_next(next: Option<&str>) -> &'static str {
    next.and_then(|n| RETURN_ROUTES.iter().find(|r| **r == n).copied())
        .unwrap_or("/app")
}

/// Extracts a token from pasted text: a whole link (`…#token=…` or `…?token=…`), a
/// `token=…` fragment, or the bare token.
pub fn token_from_text(text: &str) -> Option<String> {
    let text = text.trim();
    let raw = match text.find("token=") {
        Some(i) => &text[i + "token=".len()..],
        None => text,
    };
    let token: String = raw
        .split(['&', '#', ' '])
        .next()
        .unwrap_or_default()
        .to_string();
    (!token.is_empty() && token.len() <= invitegate_core::api::MAX_TOKEN_LENGTH).then_some(token)
}

/// A timestamp in the reader's locale and time zone, e.g. "23 Nov 2026, 18:30".
pub fn fmt_time(t: &DateTime<Utc>) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
    let opts = js_sys::Object::new();
    for (k, v) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
    }
    date.to_locale_string("default", &opts).into()
}

/// The UTC date and time of day of `t`: (`2026-12-05`, `14:30`).
pub fn utc_date_time(t: &DateTime<Utc>) -> (String, String) {
    let iso = String::from(
        js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64)).to_iso_string(),
    );
    (iso[..10].to_string(), iso[11..16].to_string())
}

/// "in 3 days", "in 5 hours", "expired".
pub fn fmt_until(t: &DateTime<Utc>) -> String {
    let secs = (*t - Utc::now()).num_seconds();
    match secs {
        s if s <= 0 => "expired".into(),
        s if s < 3600 => format!("in {} minutes", (s / 60).max(1)),
        s if s < 2 * 86400 => format!("in {} hours", s / 3600),
        s => format!("in {} days", s / 86400),
    }
}

/// Copies `text` to the clipboard (needs a secure context or localhost).
pub fn copy_to_clipboard(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// Offers `content` as a file download named `name`.
pub fn download(name: &str, mime: &str, content: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &props) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let document = leptos::prelude::document();
    if let Ok(a) = document.create_element("a") {
        let _ = a.set_attribute("href", &url);
        let _ = a.set_attribute("download", name);
        if let Some(body) = document.body() {
            let _ = body.append_child(&a);
            if let Some(a) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&a) {
                a.click();
            }
            let _ = body.remove_child(&a);
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Moves keyboard focus to the element with `id` once the current render is on screen (used
/// when a screen changes, so keyboard and screen-reader users start in the right place).
pub fn focus_id(id: &str) {
    let id = id.to_string();
    leptos::prelude::request_animation_frame(move || {
        if let Some(el) = leptos::prelude::document().get_element_by_id(&id)
            && let Some(el) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&el)
        {
            let _ = el.focus();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_known_same_origin_routes_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        for hostile in [
            "/\\evil.example",
            "//evil.example",
            "https://evil.example/app",
            "/app/../../evil",
            "/\t/evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/app", "{hostile}");
        }
        assert_eq!(safe_next(None), "/app");
    }
}

//! Unicode text operations that the browser already knows: on wasm they call the page's own
//! JavaScript, so the web bundles carry no Unicode case tables (about 5 KiB compressed).

/// Unicode default lowercase mapping, with the final-sigma rule (Unicode §3.13; Rust's
/// `str::to_lowercase` natively, `String.prototype.toLowerCase` in browsers: the same mapping).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub fn lowercase(s: &str) -> String {
    s.to_lowercase()
}

/// Unicode default lowercase mapping, with the final-sigma rule (Unicode §3.13; Rust's
/// `str::to_lowercase` natively, `String.prototype.toLowerCase` in browsers: the same mapping).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub fn lowercase(s: &str) -> String {
    String::from(js_sys::JsString::from(s).to_lower_case())
}

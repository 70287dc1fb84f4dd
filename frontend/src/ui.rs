//! Building blocks shared by the screens: fields, alerts, the password pair with its
//! strength meter, buttons.

use invitegate_core::password::PasswordPolicy;
use leptos::prelude::*;

use crate::errors::{Limits, field_message};

/// A live region for errors: always in the page so screen readers announce changes.
#[component]
pub fn Alert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="alert" role="alert" aria-live="assertive">
            {move || message.get()}
        </div>
    }
}

/// A live region for confirmations.
#[component]
pub fn Status(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="status" role="status" aria-live="polite">
            {move || message.get()}
        </div>
    }
}

/// A labelled text input bound to `value`.
#[component]
pub fn Field(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    #[prop(into, default = "text".into())] kind: String,
    #[prop(into, default = "off".into())] autocomplete: String,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(into, default = Signal::stored(false))] readonly: Signal<bool>,
    #[prop(default = false)] required: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described = hint.as_ref().map(|_| hint_id.clone());
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=kind
                autocomplete=autocomplete
                required=required
                readonly=move || readonly.get()
                aria-describedby=described
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
        </div>
    }
}

/// How strong a password looks, 0 (unacceptable) to 4, with the reason shown to the user.
/// Acceptance follows the server's NIST SP 800-63B §3.1.1.2 policy (length, repetition, email);
/// above the minimum, extra length counts most, as guessing cost grows with it.
pub fn strength(password: &str, email: &str, limits: Limits) -> (u8, String) {
    if password.is_empty() {
        return (0, String::new());
    }
    let policy = PasswordPolicy {
        min_length: limits.min as usize,
        max_length: limits.max as usize,
    };
    let local = email.split('@').next().filter(|l| l.len() >= 3);
    let issues = policy.check(password, local);
    let length = invitegate_core::password::normalize(password)
        .chars()
        .count();
    if let Some(issue) = issues.first() {
        let text = match issue {
            invitegate_core::password::PasswordIssue::TooShort => {
                format!("Too short: {length} of at least {} characters", limits.min)
            }
            other => field_message("password", other.code().as_str(), limits),
        };
        return (if length >= limits.min as usize { 1 } else { 0 }, text);
    }
    // Rust's `char::is_lowercase`, `is_uppercase`, `is_numeric` and not `is_alphanumeric`, as
    // Unicode property classes (UTS #18) in the browser's `RegExp`: no Unicode tables shipped.
    let classes = [
        r"\p{Lowercase}",
        r"\p{Uppercase}",
        r"\p{N}",
        r"[^\p{Alphabetic}\p{N}]",
    ]
    .iter()
    .filter(|class| js_sys::RegExp::new(class, "u").test(password))
    .count();
    let extra = length.saturating_sub(limits.min as usize);
    let score = if extra >= 10 || (extra >= 5 && classes >= 3) {
        4
    } else if extra >= 4 || classes >= 3 {
        3
    } else {
        2
    };
    let word = ["", "Weak", "Fair", "Good", "Strong"][score as usize];
    (score, format!("{word} ({length} characters)"))
}

/// A new password with its confirmation, a show/hide toggle, the policy and a strength meter.
#[component]
pub fn NewPassword(
    password: RwSignal<String>,
    confirm: RwSignal<String>,
    #[prop(into)] email: Signal<String>,
    #[prop(into)] limits: Signal<Limits>,
    #[prop(into, default = "Password".into())] label: String,
) -> impl IntoView {
    let show = RwSignal::new(false);
    let kind = move || if show.get() { "text" } else { "password" };
    let meter = Memo::new(move |_| strength(&password.get(), &email.get(), limits.get()));
    let mismatch = move || {
        let c = confirm.get();
        !c.is_empty() && c != password.get()
    };
    view! {
        <div class="field">
            <label for="password">{label}</label>
            <div class="with-toggle">
                <input
                    id="password"
                    type=kind
                    autocomplete="new-password"
                    required=true
                    aria-describedby="password-policy password-strength"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <button
                    type="button"
                    class="toggle"
                    aria-pressed=move || show.get().to_string()
                    aria-controls="password password-confirm"
                    on:click=move |_| show.update(|s| *s = !*s)
                >
                    {move || if show.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            <p class="hint" id="password-policy">
                {move || {
                    let l = limits.get();
                    format!(
                        "At least {} characters (up to {}). Spaces and any characters are welcome; a few unrelated words make a strong password.",
                        l.min,
                        l.max,
                    )
                }}
            </p>
            <div class="strength" data-score=move || meter.get().0.to_string()>
                <meter
                    min="0"
                    max="4"
                    low="2"
                    high="3"
                    optimum="4"
                    value=move || meter.get().0.to_string()
                    aria-label="Password strength"
                ></meter>
                <span id="password-strength" aria-live="polite">
                    {move || meter.get().1}
                </span>
            </div>
        </div>
        <div class="field">
            <label for="password-confirm">"Confirm password"</label>
            <input
                id="password-confirm"
                type=kind
                autocomplete="new-password"
                required=true
                aria-invalid=move || mismatch().to_string()
                aria-describedby="password-confirm-msg"
                prop:value=move || confirm.get()
                on:input=move |ev| confirm.set(event_target_value(&ev))
            />
            <p class="hint error-text" id="password-confirm-msg" aria-live="polite">
                {move || mismatch().then_some("The passwords do not match.")}
            </p>
        </div>
    }
}

/// Checks a new password pair before it is sent; the message to show when it is not acceptable.
pub fn check_new_password(
    password: &str,
    confirm: &str,
    email: &str,
    limits: Limits,
) -> Option<String> {
    if password != confirm {
        return Some("The passwords do not match.".into());
    }
    if password.is_empty() {
        return Some("Choose a password.".into());
    }
    let (score, text) = strength(password, email, limits);
    (score <= 1).then_some(text)
}

/// A submit button that shows progress and cannot be pressed twice.
#[component]
pub fn Submit(#[prop(into)] label: String, busy: RwSignal<bool>) -> impl IntoView {
    view! {
        <button type="submit" class="primary" disabled=move || busy.get() aria-busy=move || busy.get().to_string()>
            {move || if busy.get() { "Please wait…".to_string() } else { label.clone() }}
        </button>
    }
}

/// A state badge for invitations.
#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let class = format!("badge badge-{state}");
    view! { <span class=class>{state}</span> }
}

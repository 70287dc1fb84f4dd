//! `/admin/settings`: sign-up mode and the invitation options.

use super::*;

/// `/admin/settings`: sign-up mode and the seed's four options.
#[component]
pub fn AdminSettings() -> impl IntoView {
    let ctx = ctx();
    let mode = RwSignal::new("invite_only".to_string());
    let invite_only = RwSignal::new(true);
    let expiry = RwSignal::new(String::new());
    let quota = RwSignal::new(String::new());
    let allow = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let apply = move |s: SettingsView| {
        mode.set(s.signup_mode.as_str().to_string());
        invite_only.set(s.enable_invite_only);
        expiry.set(s.invite_link_expiry.to_string());
        quota.set(s.max_invites_per_user.to_string());
        allow.set(s.invitation_whitelist_emails.join("\n"));
    };
    ctx.act(error, (), |c, ()| async move { c.settings().await }, apply);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(days), Ok(q)) = (
            expiry.get_untracked().trim().parse::<i64>(),
            quota.get_untracked().trim().parse::<u32>(),
        ) else {
            return error.set(Some("Expiry and quota must be whole numbers.".into()));
        };
        let patch = SettingsPatch {
            enable_invite_only: Some(invite_only.get_untracked()),
            signup_mode: mode.get_untracked().parse::<SignupMode>().ok(),
            invite_link_expiry: Some(days),
            max_invites_per_user: Some(q),
            invitation_whitelist_emails: Some(
                allow
                    .get_untracked()
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        };
        status.set(None);
        ctx.act_busy(
            busy,
            error,
            patch,
            |c, p| async move { c.patch_settings(&p).await },
            move |s| {
                apply(s);
                error.set(None);
                status.set(Some("Settings saved.".into()))
            },
        );
    };
    view! {
        <AdminNav />
        <section class="card">
            <h1>"Settings"</h1>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="set-mode">"Sign-up mode"</label>
                    <select id="set-mode" prop:value=move || mode.get() on:change=move |ev| mode.set(event_target_value(&ev))>
                        <option value="invite_only">"Invitation only"</option>
                        <option value="open">"Open to anyone"</option>
                        <option value="closed">"Closed"</option>
                    </select>
                </div>
                <label class="check" for="set-invite-only"><input id="set-invite-only" type="checkbox" prop:checked=move || invite_only.get() on:change=move |ev| invite_only.set(event_target_checked(&ev)) />"Require an invitation (enable_invite_only)"</label>
                <Field id="set-expiry" label="Invitation links expire after (days)" kind="number" value=expiry />
                <Field id="set-quota" label="Invitations each member may send" kind="number" value=quota />
                <div class="field">
                    <label for="set-allow">"Pre-approved email addresses (one per line)"</label>
                    <textarea id="set-allow" rows="5" aria-describedby="set-allow-hint" prop:value=move || allow.get() on:input=move |ev| allow.set(event_target_value(&ev))></textarea>
                    <p class="hint" id="set-allow-hint">"These people can register without an invitation, after confirming their address."</p>
                </div>
                <Alert message=error />
                <Status message=status />
                <Submit label="Save settings" busy=busy />
            </form>
        </section>
    }
}

//! Email templates: built-in messages, overridable file by file.

use super::OutgoingEmail;

/// Email templates (minijinja): a subject, a plain-text and an HTML part per message, built in
/// and overridable file by file from `templates_dir` (`invitation.subject`, `invitation.txt`,
/// `invitation.html`, `layout.html`, ...). Every template gets `product_name` and
/// `brand_color`. Overrides are rendered once at start-up, so a broken one stops the server
/// with its name instead of failing later.
pub struct Templates {
    env: minijinja::Environment<'static>,
    product_name: String,
    brand_color: String,
}

macro_rules! builtin {
    ($($name:literal),+ $(,)?) => { &[$(($name, include_str!(concat!("../../templates/", $name)))),+] };
}

const BUILTIN: &[(&str, &str)] = builtin!(
    "layout.html",
    "button.html",
    "invitation.subject",
    "invitation.txt",
    "invitation.html",
    "reminder.subject",
    "reminder.txt",
    "reminder.html",
    "verification.subject",
    "verification.txt",
    "verification.html",
    "existing_account.subject",
    "existing_account.txt",
    "existing_account.html",
    "password_reset.subject",
    "password_reset.txt",
    "password_reset.html",
    "acceptance_proof.subject",
    "acceptance_proof.txt",
    "acceptance_proof.html",
);

const MESSAGES: &[&str] = &[
    "invitation",
    "reminder",
    "verification",
    "existing_account",
    "password_reset",
    "acceptance_proof",
];

impl Templates {
    /// The built-in templates with the overrides found in `config.templates_dir`.
    pub fn load(config: &crate::config::Config) -> anyhow::Result<Self> {
        let mut env = minijinja::Environment::new();
        for (name, source) in BUILTIN {
            let text = match config
                .templates_dir
                .as_ref()
                .map(|d| d.join(name))
                .filter(|p| p.exists())
            {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("template {}: {e}", path.display()))?,
                None => source.to_string(),
            };
            env.add_template_owned(name.to_string(), text)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
        }
        let templates = Self {
            env,
            product_name: config.product_name.clone(),
            brand_color: config.brand_color.clone(),
        };
        let sample = minijinja::context! {
            inviter => "Ann", url => "https://example.com/invite#token=x", expires_at => "2030-01-01 00:00 UTC",
            note => "Hello", hours => 24, minutes => 60, organization => "Acme", account => "ann@example.com",
        };
        for message in MESSAGES {
            templates.try_render(message, "test@example.com", sample.clone())?;
        }
        Ok(templates)
    }

    fn try_render(
        &self,
        message: &str,
        to: &str,
        ctx: minijinja::Value,
    ) -> anyhow::Result<OutgoingEmail> {
        let ctx = minijinja::context! { product_name => &self.product_name, brand_color => &self.brand_color, ..ctx };
        let render = |suffix: &str| -> anyhow::Result<String> {
            let name = format!("{message}.{suffix}");
            self.env
                .get_template(&name)?
                .render(&ctx)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))
        };
        let subject = render("subject")?
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or(message)
            .to_string();
        let ctx_html = minijinja::context! { subject => &subject, ..ctx.clone() };
        let html_name = format!("{message}.html");
        let html = self
            .env
            .get_template(&html_name)?
            .render(&ctx_html)
            .map_err(|e| anyhow::anyhow!("template {html_name}: {e}"))?;
        Ok(OutgoingEmail {
            to: to.to_string(),
            subject,
            text: render("txt")?,
            html: Some(html),
            invitation_id: None,
        })
    }

    fn render(&self, message: &str, to: &str, ctx: minijinja::Value, url: &str) -> OutgoingEmail {
        self.try_render(message, to, ctx).unwrap_or_else(|e| {
            tracing::error!(error = %e, "email template failed; sending a plain fallback");
            OutgoingEmail {
                to: to.to_string(),
                subject: self.product_name.clone(),
                text: format!("{url}\n"),
                html: None,
                invitation_id: None,
            }
        })
    }

    /// The invitation email.
    pub fn invitation(
        &self,
        to: &str,
        inviter: &str,
        url: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
        note: Option<&str>,
    ) -> OutgoingEmail {
        let expires_at = expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        self.render(
            "invitation",
            to,
            minijinja::context! { inviter, url, expires_at, note },
            url,
        )
    }

    /// The reminder sent once before an invitation expires; its link replaces the earlier one.
    pub fn reminder(
        &self,
        to: &str,
        inviter: &str,
        url: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> OutgoingEmail {
        let expires_at = expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        self.render(
            "reminder",
            to,
            minijinja::context! { inviter, url, expires_at },
            url,
        )
    }

    /// The email-verification email.
    pub fn verification(&self, to: &str, url: &str, hours: i64) -> OutgoingEmail {
        self.render("verification", to, minijinja::context! { url, hours }, url)
    }

    /// The notice sent to an existing account when someone tries to register with its address.
    pub fn existing_account(&self, to: &str, url: &str) -> OutgoingEmail {
        self.render("existing_account", to, minijinja::context! { url }, url)
    }

    /// The password-reset email.
    pub fn password_reset(&self, to: &str, url: &str, minutes: i64) -> OutgoingEmail {
        self.render(
            "password_reset",
            to,
            minijinja::context! { url, minutes },
            url,
        )
    }

    /// The proof-of-ownership email (seed 003): sent to the address an invitation names when
    /// the signed-in account `account` asks to accept it.
    pub fn acceptance_proof(&self, to: &str, proof: &ProofEmail<'_>, hours: i64) -> OutgoingEmail {
        let ProofEmail {
            inviter,
            organization,
            account,
            url,
        } = *proof;
        self.render(
            "acceptance_proof",
            to,
            minijinja::context! { inviter, organization, account, url, hours },
            url,
        )
    }
}

/// What a proof-of-ownership email names.
#[derive(Debug, Clone, Copy)]
pub struct ProofEmail<'a> {
    /// Who invited the address.
    pub inviter: &'a str,
    /// The organisation's name.
    pub organization: &'a str,
    /// The email of the account that asked to accept.
    pub account: &'a str,
    /// The `/accept-invitation#token=…` link.
    pub url: &'a str,
}

//! A typed client for the Invitegate HTTP API v1, over `reqwest` (native, with a cookie store
//! for the refresh cookie; and wasm, where the browser keeps cookies).
//!
//! ```no_run
//! # async fn demo() -> Result<(), invitegate_client::ClientError> {
//! use invitegate_client::Client;
//! use invitegate_core::api::CreateInvitationRequest;
//! let client = Client::new("https://invite.example.com")?.with_bearer("igk_...");
//! let created = client
//!     .create_invitation(&CreateInvitationRequest { email: Some("ann@example.com".into()), ..Default::default() })
//!     .await?;
//! println!("{}", created.url);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a problem document.
    #[error("{status}: {}", problem.code)]
    Api {
        /// HTTP status.
        status: u16,
        /// The problem document.
        problem: Box<Problem>,
    },
    /// Transport or decoding failure.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

impl ClientError {
    /// The API error code, when the server sent a known one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { problem, .. } => ErrorCode::from_code(&problem.code),
            Self::Http(_) => None,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Http(e) => e.status().map(|s| s.as_u16()),
        }
    }
}

/// The outcome of `POST /register`.
#[derive(Debug, Clone)]
pub enum Registration {
    /// 201: the account exists and is signed in.
    SignedIn(Box<SessionResponse>),
    /// 202: the email must be verified first.
    VerificationPending,
}

/// A client bound to one server and, optionally, one bearer credential.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    bearer: Option<String>,
    origin: Option<String>,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let builder = reqwest::Client::builder();
        #[cfg(not(target_arch = "wasm32"))]
        let builder = builder.cookie_store(true);
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            http: builder.build()?,
            bearer: None,
            origin: None,
        })
    }

    /// A client for the server at `base_url` over an HTTP client of the caller's (its own
    /// TLS roots, proxy, timeouts or source address).
    pub fn with_http(base_url: &str, http: reqwest::Client) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            bearer: None,
            origin: None,
        }
    }

    /// The same client authenticating with `credential` (API key or access token).
    pub fn with_bearer(&self, credential: &str) -> Self {
        Self {
            bearer: Some(credential.to_string()),
            ..self.clone()
        }
    }

    /// The same client sending `Origin` (needed by cookie-authenticated calls outside browsers).
    pub fn with_origin(&self, origin: &str) -> Self {
        Self {
            origin: Some(origin.to_string()),
            ..self.clone()
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(b) = &self.bearer {
            rb = rb.bearer_auth(b);
        }
        if let Some(o) = &self.origin {
            rb = rb.header("Origin", o);
        }
        rb
    }

    async fn send(&self, rb: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let res = rb.send().await?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status().as_u16();
        let problem = res.json::<Problem>().await?;
        Err(ClientError::Api {
            status,
            problem: Box::new(problem),
        })
    }

    async fn json<T: DeserializeOwned>(&self, rb: RequestBuilder) -> Result<T, ClientError> {
        Ok(self.send(rb).await?.json().await?)
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.json(self.request(Method::POST, path).json(body)).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.json(self.request(Method::GET, path)).await
    }

    /// `GET /signup-policy`.
    pub async fn signup_policy(&self) -> Result<SignupPolicy, ClientError> {
        self.get("/signup-policy").await
    }

    /// `POST /invitations/verify`.
    pub async fn verify_invitation(
        &self,
        token: &str,
    ) -> Result<VerifyInvitationResponse, ClientError> {
        self.post(
            "/invitations/verify",
            &TokenRequest {
                token: token.into(),
            },
        )
        .await
    }

    /// `POST /register`.
    pub async fn register(&self, req: &RegisterRequest) -> Result<Registration, ClientError> {
        let res = self
            .send(self.request(Method::POST, "/register").json(req))
            .await?;
        if res.status() == StatusCode::CREATED {
            Ok(Registration::SignedIn(Box::new(res.json().await?)))
        } else {
            Ok(Registration::VerificationPending)
        }
    }

    /// `POST /email-verifications/confirm`: proves the email and chooses the password.
    pub async fn confirm_email(
        &self,
        token: &str,
        password: &str,
    ) -> Result<SessionResponse, ClientError> {
        self.post(
            "/email-verifications/confirm",
            &ConfirmEmailRequest {
                token: token.into(),
                password: Some(password.into()),
                display_name: None,
            },
        )
        .await
    }

    /// `POST /email-verifications/confirm` with a display name as well.
    pub async fn confirm_email_with(
        &self,
        req: &ConfirmEmailRequest,
    ) -> Result<SessionResponse, ClientError> {
        self.post("/email-verifications/confirm", req).await
    }

    /// `POST /auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Result<SessionResponse, ClientError> {
        self.post(
            "/auth/login",
            &LoginRequest {
                email: email.into(),
                password: password.into(),
            },
        )
        .await
    }

    /// `POST /auth/refresh` (uses the cookie store; set an origin with [`Client::with_origin`]).
    pub async fn refresh(&self) -> Result<SessionResponse, ClientError> {
        self.json(self.request(Method::POST, "/auth/refresh")).await
    }

    /// `POST /auth/logout`.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.send(self.request(Method::POST, "/auth/logout"))
            .await
            .map(|_| ())
    }

    /// `POST /password-resets` (always accepted).
    pub async fn request_password_reset(&self, email: &str) -> Result<(), ClientError> {
        self.send(
            self.request(Method::POST, "/password-resets")
                .json(&PasswordResetRequest {
                    email: email.into(),
                }),
        )
        .await
        .map(|_| ())
    }

    /// `POST /password-resets/confirm`.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        password: &str,
    ) -> Result<SessionResponse, ClientError> {
        self.post(
            "/password-resets/confirm",
            &PasswordResetConfirm {
                token: token.into(),
                password: password.into(),
            },
        )
        .await
    }

    /// `GET /me`.
    pub async fn me(&self) -> Result<MeResponse, ClientError> {
        self.get("/me").await
    }

    /// `POST /invitations`.
    pub async fn create_invitation(
        &self,
        req: &CreateInvitationRequest,
    ) -> Result<InvitationWithToken, ClientError> {
        self.post("/invitations", req).await
    }

    /// `POST /invitations/bulk`.
    pub async fn bulk_create_invitations(
        &self,
        req: &BulkCreateRequest,
    ) -> Result<BulkCreateResponse, ClientError> {
        self.post("/invitations/bulk", req).await
    }

    /// `GET /invitations` with query pairs such as `("state", "pending")`.
    pub async fn list_invitations(
        &self,
        query: &[(&str, &str)],
    ) -> Result<Page<Invitation>, ClientError> {
        self.json(self.request(Method::GET, "/invitations").query(query))
            .await
    }

    /// `GET /invitations/{id}`.
    pub async fn get_invitation(&self, id: &str) -> Result<Invitation, ClientError> {
        self.get(&format!("/invitations/{id}")).await
    }

    /// `POST /invitations/{id}/revoke`.
    pub async fn revoke_invitation(&self, id: &str) -> Result<Invitation, ClientError> {
        self.json(self.request(Method::POST, &format!("/invitations/{id}/revoke")))
            .await
    }

    /// `POST /invitations/{id}/resend`.
    pub async fn resend_invitation(
        &self,
        id: &str,
        req: &ResendInvitationRequest,
    ) -> Result<InvitationWithToken, ClientError> {
        self.post(&format!("/invitations/{id}/resend"), req).await
    }

    /// `GET /users`.
    pub async fn list_users(&self, query: &[(&str, &str)]) -> Result<Page<User>, ClientError> {
        self.json(self.request(Method::GET, "/users").query(query))
            .await
    }

    /// `POST /users/{id}/disable`.
    pub async fn disable_user(&self, id: &str) -> Result<User, ClientError> {
        self.json(self.request(Method::POST, &format!("/users/{id}/disable")))
            .await
    }

    /// `GET /audit-events`.
    pub async fn list_audit_events(
        &self,
        query: &[(&str, &str)],
    ) -> Result<Page<AuditEvent>, ClientError> {
        self.json(self.request(Method::GET, "/audit-events").query(query))
            .await
    }

    /// `GET /audit-events/export`: the raw file.
    pub async fn export_audit_events(&self, query: &[(&str, &str)]) -> Result<String, ClientError> {
        Ok(self
            .send(
                self.request(Method::GET, "/audit-events/export")
                    .query(query),
            )
            .await?
            .text()
            .await?)
    }

    /// `POST /api-keys`.
    pub async fn create_api_key(
        &self,
        req: &CreateApiKeyRequest,
    ) -> Result<CreatedApiKey, ClientError> {
        self.post("/api-keys", req).await
    }

    /// `GET /api-keys`.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, ClientError> {
        self.get("/api-keys").await
    }

    /// `DELETE /api-keys/{id}`.
    pub async fn revoke_api_key(&self, id: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::DELETE, &format!("/api-keys/{id}")))
            .await
            .map(|_| ())
    }

    /// `POST /webhooks`.
    pub async fn create_webhook(
        &self,
        req: &CreateWebhookRequest,
    ) -> Result<CreatedWebhook, ClientError> {
        self.post("/webhooks", req).await
    }

    /// `GET /webhooks`.
    pub async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>, ClientError> {
        self.get("/webhooks").await
    }

    /// `DELETE /webhooks/{id}`.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::DELETE, &format!("/webhooks/{id}")))
            .await
            .map(|_| ())
    }

    /// `GET /webhooks/{id}/deliveries`.
    pub async fn webhook_deliveries(&self, id: &str) -> Result<Vec<WebhookDelivery>, ClientError> {
        self.get(&format!("/webhooks/{id}/deliveries")).await
    }

    /// `POST /webhooks/{id}/deliveries/{delivery_id}/replay`.
    pub async fn replay_webhook_delivery(
        &self,
        id: &str,
        delivery_id: &str,
    ) -> Result<(), ClientError> {
        self.send(self.request(
            Method::POST,
            &format!("/webhooks/{id}/deliveries/{delivery_id}/replay"),
        ))
        .await
        .map(|_| ())
    }

    /// `GET /outbox` with query pairs such as `("status", "dead")`.
    pub async fn list_outbox(
        &self,
        query: &[(&str, &str)],
    ) -> Result<Vec<OutboxItem>, ClientError> {
        self.json(self.request(Method::GET, "/outbox").query(query))
            .await
    }

    /// `POST /outbox/{id}/retry`.
    pub async fn retry_outbox_item(&self, id: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::POST, &format!("/outbox/{id}/retry")))
            .await
            .map(|_| ())
    }

    /// `POST /email-verifications/resend` (always accepted).
    pub async fn resend_verification(&self, email: &str) -> Result<(), ClientError> {
        self.send(
            self.request(Method::POST, "/email-verifications/resend")
                .json(&ResendVerificationRequest {
                    email: email.into(),
                }),
        )
        .await
        .map(|_| ())
    }

    /// `GET /settings`.
    pub async fn settings(&self) -> Result<SettingsView, ClientError> {
        self.get("/settings").await
    }

    /// `PATCH /settings`.
    pub async fn patch_settings(&self, patch: &SettingsPatch) -> Result<SettingsView, ClientError> {
        self.json(self.request(Method::PATCH, "/settings").json(patch))
            .await
    }
}

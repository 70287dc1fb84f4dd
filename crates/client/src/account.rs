//! Sign-up, sign-in and the signed-in account: the public endpoints and the session ones.

use crate::transport::{CREATED, Method};
use crate::{Client, ClientError, Registration};
use invitegate_core::api::*;

impl Client {
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
        if res.status() == CREATED {
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

    /// `POST /me/password`: every other session ends.
    pub async fn change_password(
        &self,
        current_password: &str,
        new_password: &str,
    ) -> Result<SessionResponse, ClientError> {
        self.post(
            "/me/password",
            &ChangePasswordRequest {
                current_password: current_password.into(),
                new_password: new_password.into(),
            },
        )
        .await
    }

    /// `GET /me/sessions`.
    pub async fn my_sessions(&self) -> Result<Vec<SessionInfo>, ClientError> {
        self.get("/me/sessions").await
    }

    /// `DELETE /me/sessions/{id}`.
    pub async fn end_my_session(&self, id: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::DELETE, &format!("/me/sessions/{id}")))
            .await
            .map(|_| ())
    }

    /// `GET /me/export`.
    pub async fn export_my_data(&self) -> Result<AccountExport, ClientError> {
        self.get("/me/export").await
    }

    /// `GET /me/export` as the server wrote it (JSON text), for saving to a file as it is.
    pub async fn export_my_data_json(&self) -> Result<String, ClientError> {
        Ok(self
            .send(self.request(Method::GET, "/me/export"))
            .await?
            .text()
            .await?)
    }

    /// `DELETE /me` with the password.
    pub async fn delete_my_account(&self, password: &str) -> Result<(), ClientError> {
        self.send(
            self.request(Method::DELETE, "/me")
                .json(&DeleteAccountRequest {
                    password: password.into(),
                }),
        )
        .await
        .map(|_| ())
    }
}

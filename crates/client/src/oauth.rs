//! Relying parties of the OpenID Provider, and the web app's half of the authorization and
//! logout endpoints.

use crate::transport::Method;
use crate::{Client, ClientError};
use invitegate_core::api::*;

impl Client {
    /// `POST /oauth-clients`: the response carries the secret, shown once.
    pub async fn create_oauth_client(
        &self,
        req: &CreateOAuthClientRequest,
    ) -> Result<CreatedOAuthClient, ClientError> {
        self.post("/oauth-clients", req).await
    }

    /// `GET /oauth-clients`.
    pub async fn list_oauth_clients(&self) -> Result<Vec<OAuthClient>, ClientError> {
        self.get("/oauth-clients").await
    }

    /// `DELETE /oauth-clients/{id}`.
    pub async fn delete_oauth_client(&self, id: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::DELETE, &format!("/oauth-clients/{id}")))
            .await
            .map(|_| ())
    }

    /// `POST /oauth2/authorize`: what to do with an authorization request's query string.
    pub async fn authorize(&self, req: &AuthorizeRequest) -> Result<AuthorizeOutcome, ClientError> {
        self.post("/oauth2/authorize", req).await
    }

    /// `POST /oauth2/logout`: an RP-initiated logout request's query string.
    pub async fn end_session(
        &self,
        req: &EndSessionRequest,
    ) -> Result<EndSessionOutcome, ClientError> {
        self.post("/oauth2/logout", req).await
    }
}

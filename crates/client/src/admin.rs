//! Administration: users, the audit log, API keys, webhooks, the delivery queue, settings.

use crate::transport::Method;
use crate::{Client, ClientError};
use invitegate_core::api::*;

impl Client {
    /// `GET /users`: a page of users, newest first.
    pub async fn list_users(&self, query: &UserListQuery) -> Result<Page<User>, ClientError> {
        self.json(self.request(Method::GET, "/users").query(query))
            .await
    }

    /// `POST /users/{id}/disable`.
    pub async fn disable_user(&self, id: &str) -> Result<User, ClientError> {
        self.json(self.request(Method::POST, &format!("/users/{id}/disable")))
            .await
    }

    /// `POST /users/{id}/enable`.
    pub async fn enable_user(&self, id: &str) -> Result<User, ClientError> {
        self.json(self.request(Method::POST, &format!("/users/{id}/enable")))
            .await
    }

    /// `PATCH /users/{id}`: role and display name.
    pub async fn update_user(
        &self,
        id: &str,
        req: &UpdateUserRequest,
    ) -> Result<User, ClientError> {
        self.json(
            self.request(Method::PATCH, &format!("/users/{id}"))
                .json(req),
        )
        .await
    }

    /// `DELETE /users/{id}`.
    pub async fn delete_user(&self, id: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::DELETE, &format!("/users/{id}")))
            .await
            .map(|_| ())
    }

    /// `GET /users/{id}/invite-tree`: the account's branch, depth-first.
    pub async fn invite_tree(&self, id: &str) -> Result<InviteTree, ClientError> {
        self.json(self.request(Method::GET, &format!("/users/{id}/invite-tree")))
            .await
    }

    /// `POST /users/{id}/invite-tree/revoke`: disables the account and its whole branch.
    pub async fn revoke_invite_tree(&self, id: &str) -> Result<InviteTreeRevoked, ClientError> {
        self.json(self.request(Method::POST, &format!("/users/{id}/invite-tree/revoke")))
            .await
    }

    /// `GET /insights/funnel`.
    pub async fn insights_funnel(&self, query: &InsightsQuery) -> Result<Funnel, ClientError> {
        self.json(self.request(Method::GET, "/insights/funnel").query(query))
            .await
    }

    /// `GET /insights/timeseries`: one point per day or hour of the period, zero-filled.
    pub async fn insights_timeseries(
        &self,
        query: &TimeseriesQuery,
    ) -> Result<Timeseries, ClientError> {
        self.json(
            self.request(Method::GET, "/insights/timeseries")
                .query(query),
        )
        .await
    }

    /// `GET /insights/inviters`: the inviters of the period, most accepted first.
    pub async fn insights_inviters(
        &self,
        query: &InvitersQuery,
    ) -> Result<InviterRanking, ClientError> {
        self.json(self.request(Method::GET, "/insights/inviters").query(query))
            .await
    }

    /// `GET /audit-events`: a page of events, newest first.
    pub async fn list_audit_events(
        &self,
        query: &AuditEventQuery,
    ) -> Result<Page<AuditEvent>, ClientError> {
        self.json(self.request(Method::GET, "/audit-events").query(query))
            .await
    }

    /// `GET /audit-events/export`: the raw file (JSON Lines or CSV, by `query.format`).
    pub async fn export_audit_events(
        &self,
        query: &AuditEventQuery,
    ) -> Result<String, ClientError> {
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

    /// `GET /outbox`: the newest items, optionally of one status.
    pub async fn list_outbox(
        &self,
        query: &OutboxListQuery,
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

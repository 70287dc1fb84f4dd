//! Invitations: create, bulk-create, list, get, revoke, resend, redeem.

use crate::transport::Method;
use crate::{Client, ClientError};
use invitegate_core::api::*;

impl Client {
    /// `POST /invitations`.
    pub async fn create_invitation(
        &self,
        req: &CreateInvitationRequest,
    ) -> Result<InvitationWithToken, ClientError> {
        self.post("/invitations", req).await
    }

    /// `POST /invitations/redeem` (scope `invitations:redeem`): use one use of an invitation in
    /// the host app's own sign-up, without an Invitegate account.
    pub async fn redeem_invitation(
        &self,
        req: &RedeemInvitationRequest,
    ) -> Result<RedeemInvitationResponse, ClientError> {
        self.post("/invitations/redeem", req).await
    }

    /// `POST /invitations/bulk`.
    pub async fn bulk_create_invitations(
        &self,
        req: &BulkCreateRequest,
    ) -> Result<BulkCreateResponse, ClientError> {
        self.post("/invitations/bulk", req).await
    }

    /// `GET /invitations`: a page of invitations, newest first.
    pub async fn list_invitations(
        &self,
        query: &InvitationListQuery,
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
}

//! Organisation domains and requests to join through them.

use crate::transport::Method;
use crate::{Client, ClientError};
use invitegate_core::api::*;

impl Client {
    /// `POST /organizations/{id}/domains`.
    pub async fn add_organization_domain(
        &self,
        id: &str,
        req: &AddDomainRequest,
    ) -> Result<OrganizationDomain, ClientError> {
        self.post(&format!("/organizations/{id}/domains"), req)
            .await
    }

    /// `GET /organizations/{id}/domains`.
    pub async fn organization_domains(
        &self,
        id: &str,
    ) -> Result<Vec<OrganizationDomain>, ClientError> {
        self.get(&format!("/organizations/{id}/domains")).await
    }

    /// `DELETE /organizations/{id}/domains/{domain}`.
    pub async fn remove_organization_domain(
        &self,
        id: &str,
        domain: &str,
    ) -> Result<(), ClientError> {
        self.send(self.request(
            Method::DELETE,
            &format!("/organizations/{id}/domains/{domain}"),
        ))
        .await
        .map(|_| ())
    }

    /// `GET /me/suggestions`: organisations the signed-in account may ask to join.
    pub async fn my_suggestions(&self) -> Result<Vec<Organization>, ClientError> {
        self.get("/me/suggestions").await
    }

    /// `POST /organizations/{id}/join-requests`: ask to join.
    pub async fn request_to_join(&self, id: &str) -> Result<JoinRequest, ClientError> {
        self.json(self.request(Method::POST, &format!("/organizations/{id}/join-requests")))
            .await
    }

    /// `GET /organizations/{id}/join-requests`: the pending ones.
    pub async fn join_requests(&self, id: &str) -> Result<Vec<JoinRequest>, ClientError> {
        self.get(&format!("/organizations/{id}/join-requests"))
            .await
    }

    /// `POST /organizations/{id}/join-requests/{rid}/approve`.
    pub async fn approve_join_request(
        &self,
        id: &str,
        rid: &str,
    ) -> Result<Membership, ClientError> {
        self.json(self.request(
            Method::POST,
            &format!("/organizations/{id}/join-requests/{rid}/approve"),
        ))
        .await
    }

    /// `POST /organizations/{id}/join-requests/{rid}/reject`.
    pub async fn reject_join_request(
        &self,
        id: &str,
        rid: &str,
    ) -> Result<JoinRequest, ClientError> {
        self.json(self.request(
            Method::POST,
            &format!("/organizations/{id}/join-requests/{rid}/reject"),
        ))
        .await
    }
}

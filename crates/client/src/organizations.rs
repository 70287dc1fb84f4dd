//! Organisations and their members.

use crate::transport::{ACCEPTED, Method};
use crate::{Acceptance, Client, ClientError};
use invitegate_core::api::*;

impl Client {
    /// `POST /organizations`.
    pub async fn create_organization(
        &self,
        req: &CreateOrganizationRequest,
    ) -> Result<Organization, ClientError> {
        self.post("/organizations", req).await
    }

    /// `GET /organizations`: all of them with `organizations:read`, else the caller's own.
    pub async fn list_organizations(
        &self,
        query: &OrganizationListQuery,
    ) -> Result<Page<Organization>, ClientError> {
        self.json(self.request(Method::GET, "/organizations").query(query))
            .await
    }

    /// `GET /organizations/{id}`.
    pub async fn get_organization(&self, id: &str) -> Result<Organization, ClientError> {
        self.get(&format!("/organizations/{id}")).await
    }

    /// `PATCH /organizations/{id}`.
    pub async fn update_organization(
        &self,
        id: &str,
        req: &UpdateOrganizationRequest,
    ) -> Result<Organization, ClientError> {
        self.json(
            self.request(Method::PATCH, &format!("/organizations/{id}"))
                .json(req),
        )
        .await
    }

    /// `GET /organizations/{id}/members`.
    pub async fn organization_members(
        &self,
        id: &str,
        query: &MemberListQuery,
    ) -> Result<Page<Membership>, ClientError> {
        self.json(
            self.request(Method::GET, &format!("/organizations/{id}/members"))
                .query(query),
        )
        .await
    }

    /// `PATCH /organizations/{id}/members/{user_id}`: change a member's role.
    pub async fn update_organization_member(
        &self,
        id: &str,
        user_id: &str,
        req: &UpdateMembershipRequest,
    ) -> Result<Membership, ClientError> {
        self.json(
            self.request(
                Method::PATCH,
                &format!("/organizations/{id}/members/{user_id}"),
            )
            .json(req),
        )
        .await
    }

    /// `DELETE /organizations/{id}/members/{user_id}`: remove a member, or leave.
    pub async fn remove_organization_member(
        &self,
        id: &str,
        user_id: &str,
    ) -> Result<(), ClientError> {
        self.send(self.request(
            Method::DELETE,
            &format!("/organizations/{id}/members/{user_id}"),
        ))
        .await
        .map(|_| ())
    }
}

impl Client {
    /// `GET /me/invitations`: pending organisation invitations addressed to the account.
    pub async fn my_invitations(&self) -> Result<Vec<Invitation>, ClientError> {
        self.get("/me/invitations").await
    }

    /// `POST /invitations/accept`: accept one of [`Client::my_invitations`].
    pub async fn accept_invitation(&self, invitation_id: &str) -> Result<Membership, ClientError> {
        self.post(
            "/invitations/accept",
            &AcceptInvitationRequest {
                invitation_id: Some(invitation_id.into()),
                ..Default::default()
            },
        )
        .await
    }

    /// `POST /invitations/accept` with the token of an invitation link: a membership, or — for
    /// an invitation bound to another address — [`Acceptance::VerificationPending`] (a
    /// proof-of-ownership link went to that address).
    pub async fn accept_invitation_by_token(&self, token: &str) -> Result<Acceptance, ClientError> {
        let body = AcceptInvitationRequest {
            token: Some(token.into()),
            ..Default::default()
        };
        let res = self
            .send(
                self.request(Method::POST, "/invitations/accept")
                    .json(&body),
            )
            .await?;
        if res.status() == ACCEPTED {
            Ok(Acceptance::VerificationPending)
        } else {
            Ok(Acceptance::Member(Box::new(res.json().await?)))
        }
    }

    /// `POST /invitations/accept` with the token of a proof-of-ownership link
    /// (`/accept-invitation#token=…`), signed in as the account that asked for it.
    pub async fn accept_invitation_with_proof(
        &self,
        verification_token: &str,
    ) -> Result<Membership, ClientError> {
        self.post(
            "/invitations/accept",
            &AcceptInvitationRequest {
                verification_token: Some(verification_token.into()),
                ..Default::default()
            },
        )
        .await
    }

    /// `POST /invitations/{id}/decline`: decline an invitation addressed to the account.
    pub async fn decline_invitation(&self, id: &str) -> Result<Invitation, ClientError> {
        self.json(self.request(Method::POST, &format!("/invitations/{id}/decline")))
            .await
    }
}

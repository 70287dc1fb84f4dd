//! Seeding organisations (seed 001): bulk creation takes an organisation and a role per row,
//! and a dry run reports exactly what the run would, unknown organisations included.

use crate::both_backends;
use crate::helpers::*;
use invitegate_core::api::*;
use invitegate_core::model::OrganizationRole;

both_backends!(bulk_seeds_several_organisations_and_the_dry_run_reports_unknown_ones);

async fn bulk_seeds_several_organisations_and_the_dry_run_reports_unknown_ones(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let new_org = |name: &str| CreateOrganizationRequest {
        name: name.into(),
        ..Default::default()
    };
    let acme = admin.create_organization(&new_org("Acme")).await.unwrap();
    let globex = admin.create_organization(&new_org("Globex")).await.unwrap();
    // An existing account may be invited into an organisation, not into the instance.
    app.member(&admin, "eve@example.com").await;
    let row =
        |email: &str, org: Option<&str>, role: Option<OrganizationRole>| CreateInvitationRequest {
            organization_id: org.map(str::to_string),
            organization_role: role,
            send_email: Some(false),
            ..email_req(email)
        };
    let rows = vec![
        row(
            "ann@example.com",
            Some(&acme.id),
            Some(OrganizationRole::Admin),
        ),
        row("bo@example.com", Some(&globex.id), None),
        row("cy@example.com", Some("no-such-organisation"), None),
        row("eve@example.com", Some(&acme.id), None),
        row("eve@example.com", None, None),
    ];
    let before = app.count_invitations().await;
    let dry = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: rows.clone(),
            dry_run: true,
        })
        .await
        .unwrap();
    let statuses: Vec<_> = dry.results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            BulkStatus::Created,
            BulkStatus::Created,
            BulkStatus::Invalid,
            BulkStatus::Created,
            BulkStatus::AlreadyInvited,
        ]
    );
    assert!(
        dry.results[2]
            .error
            .as_ref()
            .unwrap()
            .contains_key("organization_id")
    );
    assert!(
        dry.results
            .iter()
            .all(|r| r.url.is_none() && r.token.is_none())
    );
    assert_eq!(
        app.count_invitations().await,
        before,
        "the dry run created nothing"
    );

    let done = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: rows,
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(
        done.results.iter().map(|r| r.status).collect::<Vec<_>>(),
        statuses,
        "the run does what its dry run said"
    );
    let org_of = |i: usize| {
        let inv = done.results[i].invitation.as_ref().unwrap();
        (
            inv.organization.as_ref().unwrap().id.clone(),
            inv.organization_role,
        )
    };
    assert_eq!(org_of(0), (acme.id.clone(), Some(OrganizationRole::Admin)));
    assert_eq!(
        org_of(1),
        (globex.id.clone(), Some(OrganizationRole::Member))
    );
    assert_eq!(org_of(3).0, acme.id);
    assert_eq!(app.count_invitations().await, before + 3);
    // The list filters by organisation.
    let into_acme = admin
        .list_invitations(&InvitationListQuery {
            organization_id: Some(acme.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut emails: Vec<_> = into_acme
        .data
        .iter()
        .filter_map(|i| i.email.as_deref())
        .collect();
    emails.sort();
    assert_eq!(emails, ["ann@example.com", "eve@example.com"]);
}

//! Queries on `redemptions`: invitations used by a host app's own sign-up, without an
//! Invitegate account.

use super::DbConn;
use super::models::*;
use super::schema::redemptions::dsl as r;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `redemptions`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = redemptions)]
pub struct RedemptionRow {
    pub id: String,
    pub invitation_id: String,
    pub email: String,
    pub external_id: Option<String>,
    pub api_key_id: Option<String>,
    pub redeemed_at: NaiveDateTime,
}

impl RedemptionRow {
    /// The API object.
    pub fn to_api(&self) -> api::Redemption {
        api::Redemption {
            id: self.id.clone(),
            email: self.email.clone(),
            external_id: self.external_id.clone(),
            redeemed_at: utc(self.redeemed_at),
        }
    }
}

/// Records a redemption.
pub fn insert(conn: &mut DbConn, row: &RedemptionRow) -> QueryResult<()> {
    diesel::insert_into(r::redemptions)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

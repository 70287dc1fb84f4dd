//! Cursor pagination: `?limit=` (default 50, max 500) and an opaque `?cursor=`.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use invitegate_core::FieldCode;
use invitegate_core::api::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, Page};

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Rows per page.
    pub limit: i64,
    /// Rows strictly older than this id.
    pub after_id: Option<String>,
}

impl PageRequest {
    /// 422 for a limit outside 1..=500 or a cursor this server did not issue.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", FieldCode::OutOfRange));
        }
        let after_id = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let id = B64
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|id| uuid::Uuid::parse_str(id).is_ok())
                    .ok_or_else(|| ApiError::field("cursor", FieldCode::Invalid))?;
                Some(id)
            }
        };
        Ok(Self {
            limit: i64::from(limit),
            after_id,
        })
    }

    /// Turns `limit + 1` fetched rows into a page with the next cursor.
    pub fn page<R, T>(
        &self,
        mut rows: Vec<R>,
        id: impl Fn(&R) -> &str,
        map: impl Fn(&R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| B64.encode(id(r)))
        } else {
            None
        };
        Page {
            data: rows.iter().map(map).collect(),
            next_cursor,
        }
    }
}

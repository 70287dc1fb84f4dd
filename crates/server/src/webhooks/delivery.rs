//! Sending one webhook delivery, signed as Standard Webhooks specifies: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over `id.timestamp.body`.

use crate::egress::check_target;
use crate::state::AppState;
use crate::storage::models::OutboxRow;
use crate::storage::webhooks;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` with the key decoded from the
/// `whsec_` secret (Standard Webhooks).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// Sends one delivery; returns the HTTP status on any response, or the transport error.
pub async fn deliver(state: &AppState, item: &OutboxRow) -> (Option<i32>, anyhow::Result<()>) {
    let endpoint_id = item.endpoint_id.clone().unwrap_or_default();
    let endpoint = match state
        .db(move |conn| Ok(webhooks::find_active(conn, &endpoint_id)?))
        .await
    {
        Ok(Some(e)) => e,
        Ok(None) => return (None, Err(anyhow::anyhow!("the endpoint was deleted"))),
        Err(e) => return (None, Err(anyhow::anyhow!("{e}"))),
    };
    if let Err(why) = check_target(&endpoint.url, state.config.webhook_allow_private_targets).await
    {
        return (None, Err(anyhow::anyhow!("refused: {why}")));
    }
    let timestamp = chrono::Utc::now().timestamp();
    let Some(sig) = signature(&endpoint.secret, &item.id, timestamp, &item.payload) else {
        return (
            None,
            Err(anyhow::anyhow!("the endpoint secret is unusable")),
        );
    };
    let sent = state
        .http
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("user-agent", "Invitegate-Webhooks/1")
        .header("webhook-id", &item.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(item.payload.clone())
        .send()
        .await;
    match sent {
        Ok(res) if res.status().is_success() => (Some(i32::from(res.status().as_u16())), Ok(())),
        Ok(res) => (
            Some(i32::from(res.status().as_u16())),
            Err(anyhow::anyhow!("the endpoint answered {}", res.status())),
        ),
        Err(e) => (
            None,
            Err(anyhow::anyhow!(
                "request failed: {}",
                if e.is_timeout() {
                    "timeout"
                } else {
                    "connection error"
                }
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}

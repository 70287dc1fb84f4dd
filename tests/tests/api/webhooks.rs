use crate::both_backends;
use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use sha2::Sha256;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(
    every_event_of_a_flow_arrives_signed_and_failures_are_retried,
    private_targets_are_refused_by_default
);

/// A request the receiver got: headers (lower-case names) and body.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// An HTTP receiver on loopback answering 500 to the first `fail_first` requests, then 200.
pub(crate) async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let store = got.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let store = store.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + length {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| {
                        l.split_once(':')
                            .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
                    })
                    .collect();
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let status = if seen.fetch_add(1, Ordering::SeqCst) < fail_first {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                if status.starts_with("200") {
                    store.lock().unwrap().push(Received { headers, body });
                }
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    (url, got)
}

fn verify(secret: &str, r: &Received) -> bool {
    let key = B64.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            r.header("webhook-id"),
            r.header("webhook-timestamp"),
            r.body
        )
        .as_bytes(),
    );
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    r.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

async fn every_event_of_a_flow_arrives_signed_and_failures_are_retried(b: Backend) {
    let (url, got) = receiver(1).await;
    let app = spawn_app_with(b, |c| c.webhook_allow_private_targets = true).await;
    let admin = app.admin().await;
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            url: url.clone(),
            events: vec!["*".into()],
        })
        .await
        .unwrap();
    assert!(hook.secret.starts_with("whsec_"));
    assert!(
        !serde_json::to_string(&admin.list_webhooks().await.unwrap())
            .unwrap()
            .contains(&hook.secret)
    );
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    app.api.verify_invitation(&inv.token).await.unwrap();
    let session = match app
        .api
        .register(&register_req("ann@example.com", Some(&inv.token)))
        .await
        .unwrap()
    {
        invitegate_client::Registration::SignedIn(s) => s,
        _ => unreachable!(),
    };
    let _ = app
        .api
        .login("ann@example.com", "not my password at all")
        .await;
    let wanted = [
        "webhook.created",
        "invitation.created",
        "invitation.verified",
        "invitation.redeemed",
        "registration.succeeded",
        "login.failed",
    ];
    for _ in 0..300 {
        let types: Vec<String> = got
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        if wanted.iter().all(|w| types.iter().any(|t| t == w)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let received = got.lock().unwrap().clone();
    for w in wanted {
        assert!(
            received
                .iter()
                .any(|r| r.body.contains(&format!("\"type\":\"{w}\""))),
            "{w} was not delivered"
        );
    }
    for r in &received {
        assert!(verify(&hook.secret, r), "signature of {}", r.body);
        assert!(r.header("webhook-id").starts_with("msg_"));
        for secret in [
            inv.token.as_str(),
            session.access_token.as_str(),
            PASSWORD,
            hook.secret.as_str(),
        ] {
            assert!(!r.body.contains(secret), "a payload holds a secret");
        }
    }
    // The receiver records the failed first attempt too: wait for the retry itself (its
    // backoff is one to three seconds), not only for the event's name to have arrived.
    let deliveries = eventually("the retried delivery", || async {
        let d = admin.webhook_deliveries(&hook.endpoint.id).await.unwrap();
        d.iter()
            .any(|d| d.attempts >= 2 && d.status.as_str() == "sent")
            .then_some(d)
    })
    .await;
    let retried: Vec<_> = deliveries.iter().filter(|d| d.attempts >= 2).collect();
    assert_eq!(
        retried.len(),
        1,
        "the first delivery met a 500 and was retried: {deliveries:?}"
    );
    assert!(
        deliveries
            .iter()
            .filter(|d| d.status.as_str() == "sent")
            .all(|d| d.response_status == Some(200))
    );
    // Replay sends the same delivery again with the same webhook-id.
    let first = deliveries
        .iter()
        .find(|d| d.status.as_str() == "sent")
        .unwrap();
    let before = got.lock().unwrap().len();
    admin
        .replay_webhook_delivery(&hook.endpoint.id, &first.id)
        .await
        .unwrap();
    for _ in 0..100 {
        if got.lock().unwrap().len() > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        got.lock().unwrap()[before..]
            .iter()
            .any(|r| r.header("webhook-id") == first.id)
    );
    admin.delete_webhook(&hook.endpoint.id).await.unwrap();
    assert!(admin.list_webhooks().await.unwrap().is_empty());
}

async fn private_targets_are_refused_by_default(b: Backend) {
    let (url, _) = receiver(0).await;
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    for target in [
        url.as_str(),
        "http://10.0.0.1/hook",
        "http://[::1]:8080/x",
        "http://169.254.169.254/latest",
    ] {
        assert_problem(
            admin
                .create_webhook(&CreateWebhookRequest {
                    url: target.into(),
                    events: vec!["*".into()],
                })
                .await,
            422,
            ErrorCode::ValidationFailed,
        );
    }
    assert_problem(
        admin
            .create_webhook(&CreateWebhookRequest {
                url: "ftp://example.com".into(),
                events: vec!["*".into()],
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_problem(
        admin
            .create_webhook(&CreateWebhookRequest {
                url: "http://93.184.216.34/h".into(),
                events: vec!["no.such.event".into()],
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    let (member, _) = app.member(&admin, "m@example.com").await;
    assert_problem(member.list_webhooks().await, 403, ErrorCode::Forbidden);
}

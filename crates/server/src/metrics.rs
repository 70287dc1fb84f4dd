//! Prometheus metrics, served at `/metrics` in the text format.

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the funnel gauges stay fresh: scrapes within it reuse the last figures instead of
/// querying the database again.
const FUNNEL_TTL: Duration = Duration::from_secs(30);

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{method,route,status}`.
    pub http_requests: IntCounterVec,
    /// `http_request_duration_seconds{method,route}`.
    pub http_duration: HistogramVec,
    /// `invitegate_events_total{action,outcome}`: audited actions.
    pub events: IntCounterVec,
    /// `invitegate_registrations_per_commit`: registrations with an invitation written by one
    /// group commit (`registration::group_commit`), observed once per commit that wrote any;
    /// those written alone afterwards are not counted.
    pub registrations_per_commit: Histogram,
    /// `invitegate_funnel_invitations{stage}`: the funnel of the last 30 days, as
    /// `GET /api/v1/insights/funnel` answers it.
    funnel: IntGaugeVec,
    /// `invitegate_funnel_median_seconds_to_accept`: its median time to acceptance (NaN when
    /// none was accepted).
    median: Gauge,
    /// When the funnel gauges were last set.
    funnel_at: Arc<Mutex<Option<Instant>>>,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method", "route"],
        )
        .expect("metric");
        let events = IntCounterVec::new(
            Opts::new("invitegate_events_total", "Audited actions by outcome"),
            &["action", "outcome"],
        )
        .expect("metric");
        let registrations_per_commit = Histogram::with_opts(
            HistogramOpts::new(
                "invitegate_registrations_per_commit",
                "Registrations with an invitation written by one commit",
            )
            .buckets(vec![1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0]),
        )
        .expect("metric");
        let funnel = IntGaugeVec::new(
            Opts::new(
                "invitegate_funnel_invitations",
                "Invitations created in the last 30 days, by how far they got",
            ),
            &["stage"],
        )
        .expect("metric");
        let median = Gauge::new(
            "invitegate_funnel_median_seconds_to_accept",
            "Median seconds from creation to acceptance of the last 30 days' invitations",
        )
        .expect("metric");
        registry
            .register(Box::new(funnel.clone()))
            .expect("register");
        registry
            .register(Box::new(median.clone()))
            .expect("register");
        registry
            .register(Box::new(http_requests.clone()))
            .expect("register");
        registry
            .register(Box::new(http_duration.clone()))
            .expect("register");
        registry
            .register(Box::new(events.clone()))
            .expect("register");
        registry
            .register(Box::new(registrations_per_commit.clone()))
            .expect("register");
        Self {
            registry,
            http_requests,
            http_duration,
            events,
            registrations_per_commit,
            funnel,
            median,
            funnel_at: Arc::default(),
        }
    }

    /// Whether the funnel gauges are older than 30 seconds (or unset); claims the refresh, so
    /// concurrent scrapes query once.
    pub fn funnel_due(&self) -> bool {
        let mut at = self.funnel_at.lock().unwrap_or_else(|p| p.into_inner());
        let due = at.is_none_or(|t| t.elapsed() >= FUNNEL_TTL);
        if due {
            *at = Some(Instant::now());
        }
        due
    }

    /// Gives back the refresh claimed by [`Metrics::funnel_due`] when it failed, so the next
    /// scrape tries again instead of 30 seconds later.
    pub fn funnel_failed(&self) {
        *self.funnel_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Sets the funnel gauges.
    pub fn set_funnel(&self, f: &invitegate_core::api::Funnel) {
        for (stage, n) in [
            ("created", f.created),
            ("delivered", f.delivered),
            ("opened", f.opened),
            ("accepted", f.accepted),
            ("expired", f.expired),
            ("revoked", f.revoked),
            ("declined", f.declined),
        ] {
            self.funnel
                .with_label_values(&[stage])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.median
            .set(f.median_seconds_to_accept.unwrap_or(f64::NAN));
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encode metrics");
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware: counts every request and observes its latency by route pattern, with the
/// `Metrics` registered as `web::Data<Metrics>`.
pub async fn record(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().cloned();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        m.http_requests
            .with_label_values(&[method.as_str(), route.as_str(), res.status().as_str()])
            .inc();
        m.http_duration
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(start.elapsed().as_secs_f64());
    }
    Ok(res)
}

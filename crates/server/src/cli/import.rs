//! `invitegate invitations import`: bulk invitations from a CSV file, through the same rules as
//! the bulk API, with organisations named by slug.

use crate::config::Config;
use crate::http::RequestMeta;
use crate::invitations::bulk;
use crate::invitations::rules::Inviter;
use crate::settings::RuntimeSettings;
use crate::startup;
use crate::state::AppState;
use crate::storage::organizations as orgs;
use invitegate_core::api::{BulkResult, BulkStatus};
use invitegate_core::import::{self, CsvRow};
use invitegate_core::model::Role;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn read_rows(file: &PathBuf, default_role: Role) -> anyhow::Result<Vec<CsvRow>> {
    let f = std::fs::File::open(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    invitegate_core::import::parse_invitation_csv(std::io::BufReader::new(f), default_role)
        .map_err(anyhow::Error::msg)
}

/// `invitegate invitations import FILE`: creates (or with `dry_run`, checks) an invitation per
/// CSV row and prints a result row per input row; exit 2 when any row is invalid.
pub(super) async fn run(
    config: Config,
    file: PathBuf,
    dry_run: bool,
    no_email: bool,
    role: &str,
) -> anyhow::Result<ExitCode> {
    let role: Role = role
        .parse()
        .map_err(|_| anyhow::anyhow!("`--role` must be member or admin"))?;
    let mut rows = read_rows(&file, role)?;
    if no_email {
        for r in &mut rows {
            r.invitation.send_email = Some(false);
        }
    }
    let bind = config.bind.parse()?;
    let state = startup::build_state(config, bind).await?;
    let st = state.clone();
    let settings = state
        .db(move |conn| Ok(RuntimeSettings::load(conn, &st.config)?))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let inviter = Inviter::system();
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["row", "email", "status", "url", "error"])?;
    let mut seen = HashSet::new();
    let ids = organization_ids(&state, &rows).await?;
    let mut results: Vec<BulkResult> = Vec::with_capacity(rows.len());
    let mut items = rows.into_iter().enumerate().peekable();
    while items.peek().is_some() {
        let chunk: Vec<_> = items.by_ref().take(50).collect();
        let n = chunk.len() as u64;
        let (chunk, mut done) = import::assign_organizations(chunk, &ids);
        done.extend(
            bulk::process_chunk(
                &state,
                &inviter,
                &settings,
                chunk,
                dry_run,
                &RequestMeta::default(),
                &mut seen,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.problem().detail.unwrap_or_default()))?,
        );
        done.sort_by_key(|r| r.index);
        for r in &done {
            let status = serde_json::to_value(r.status)?
                .as_str()
                .unwrap_or_default()
                .to_string();
            let error = r
                .error
                .as_ref()
                .map(|e| serde_json::to_string(e).unwrap_or_default())
                .unwrap_or_default();
            out.write_record([
                (r.index + 1).to_string(),
                r.email.clone().unwrap_or_default(),
                status,
                r.url.clone().unwrap_or_default(),
                error,
            ])?;
        }
        out.flush()?;
        results.extend(done);
        bar.inc(n);
    }
    bar.finish_and_clear();
    let s = bulk::summarize(&results);
    if !dry_run {
        bulk::refresh_statistics_in_background(&state, s.created).await;
        state.background.settled().await;
    }
    eprintln!(
        "{}{} created, {} already invited, {} already registered, {} invalid",
        if dry_run { "dry run: " } else { "" },
        s.created,
        s.already_invited,
        s.already_registered,
        s.invalid
    );
    if !dry_run && !no_email && s.created > 0 {
        eprintln!("invitation emails are queued; `invitegate serve` delivers them");
    }
    let failed = results.iter().any(|r| r.status == BulkStatus::Invalid);
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The ids of the organisations `rows` name by slug (unknown slugs are absent).
async fn organization_ids(
    state: &Arc<AppState>,
    rows: &[CsvRow],
) -> anyhow::Result<HashMap<String, String>> {
    let slugs = import::organization_slugs(rows);
    state
        .db(move |conn| {
            let mut ids = HashMap::new();
            for slug in slugs {
                if let Some(org) = orgs::find_by_slug(conn, &slug)? {
                    ids.insert(slug, org.id);
                }
            }
            Ok(ids)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

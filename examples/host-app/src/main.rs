//! `cargo xtask example` registers this app with a local Invitegate and runs it; or run it
//! yourself with `INVITEGATE_ISSUER`, `CLIENT_ID`, `CLIENT_SECRET` and `PORT` (default 3000).

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let env = |k: &str| std::env::var(k).map_err(|_| anyhow::anyhow!("set {k}"));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let config = invitegate_example_host::Config {
        issuer: env("INVITEGATE_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
        client_id: env("CLIENT_ID")?,
        client_secret: std::env::var("CLIENT_SECRET").ok(),
        base_url: format!("http://localhost:{port}"),
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    println!(
        "Example app on http://localhost:{port} (signs in with {})",
        config.issuer
    );
    invitegate_example_host::serve(config, listener)
        .await?
        .await?;
    Ok(())
}

//! The admin console's pages come in a WebAssembly module of their own: invitees and members
//! never download it, and an administrator whose page can no longer fetch it (an upgrade
//! replaced the app since the page loaded, or the connection dropped) is told to reload
//! rather than left with a stopped app.

use crate::flows::owner_signs_up;
use crate::harness::{Browser, spawn_web_app_with, web_dir};
use crate::helpers::Backend;

/// Copies the built app to `to`, leaving out the console's module (every encoding of it).
fn copy_without_console(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            copy_without_console(&path, &to.join(&name));
        } else if !name.starts_with("split_console") {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_cannot_be_fetched_asks_for_a_reload_and_the_app_goes_on() {
    let copy = tempfile::tempdir().unwrap();
    copy_without_console(&web_dir(), copy.path());
    let dir = copy.path().to_path_buf();
    let app = spawn_web_app_with(Backend::Sqlite, move |c| c.web_dir = dir).await;
    let mut b = Browser::start("console-module", 1280).await;
    owner_signs_up(&app, &b).await;

    b.click_link("Admin").await;
    b.wait_path("/admin").await;
    b.wait_text("The admin console could not be loaded").await;
    b.screen("console-unavailable").await;

    // The rest of the app still answers: the member area renders again.
    b.click_link("My account").await;
    b.wait_path("/app").await;
    b.wait_text("Your invitations").await;
    b.close().await;
}

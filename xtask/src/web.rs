//! `cargo xtask web`: the WASM app and the widget, from source to `frontend/dist`.
//!
//! Layout written: `index.html` (the SPA shell), `assets/` (content-hashed names: served with a
//! one-year immutable cache), `embed/invitegate-embed.js` (the widget's stable entry point).

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{cargo, root, status};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The oldest binaryen release whose `wasm-opt` is used (reference types handled correctly).
const MIN_WASM_OPT: u32 = 118;
/// The `wasm-split-cli` (crate `wasm_split_cli_support`) that splits the app's module at its
/// `#[wasm_split]` functions: the release made with `wasm_split_helpers` 0.2.3 (in
/// `Cargo.lock`, through Leptos), whose split points it reads.
const WASM_SPLIT_VERSION: &str = "0.2.4";

/// Where the built app goes.
pub fn dist_dir() -> PathBuf {
    root().join("frontend").join("dist")
}

pub fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => root().join(d),
        None => root().join("target"),
    }
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The version of `name` recorded in `Cargo.lock`.
fn lock_version(name: &str) -> Result<String, String> {
    let lock =
        fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let needle = format!("name = \"{name}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .ok_or_else(|| format!("{name} is not in Cargo.lock"))?
        + needle.len();
    Ok(lock[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string())
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    eprintln!("xtask: adding the {WASM_TARGET} target");
    let mut c = Command::new("rustup");
    c.args(["target", "add", WASM_TARGET]);
    status(c)
}

/// Starts installing the `wasm-bindgen` CLI of `version` when the one on `PATH` differs;
/// `None` when it is already there.
fn ensure_wasm_bindgen(version: &str) -> Result<Option<std::process::Child>, String> {
    let found = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(version) {
        return Ok(None);
    }
    eprintln!(
        "xtask: installing wasm-bindgen-cli {version} (must match Cargo.lock; found: {:?})",
        found.trim()
    );
    cargo_install(&["wasm-bindgen-cli", "--version", version]).map(Some)
}

/// Starts installing `wasm-split-cli` [`WASM_SPLIT_VERSION`] when `cargo install` has not;
/// `None` when it has.
fn ensure_wasm_split() -> Result<Option<std::process::Child>, String> {
    let installed = output("cargo", &["install", "--list"]).unwrap_or_default();
    if installed.contains(&format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:")) {
        return Ok(None);
    }
    eprintln!("xtask: installing wasm-split-cli {WASM_SPLIT_VERSION}");
    cargo_install(&[
        "--locked",
        "wasm_split_cli_support",
        "--features",
        "build-binary",
        "--version",
        WASM_SPLIT_VERSION,
    ])
    .map(Some)
}

/// Starts `cargo install <args>`, unoptimised: both CLIs are on the first run's critical path
/// and do seconds of work. wasm-bindgen compiles in 75 s of CPU instead of 170 s at
/// opt-level 1 and still binds the app in about a second; wasm-split-cli in 32 s, splitting
/// it in 0.6 s.
fn cargo_install(args: &[&str]) -> Result<std::process::Child, String> {
    let mut c = cargo();
    c.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .arg("install")
        .args(args);
    c.spawn()
        .map_err(|e| format!("cannot start cargo install: {e}"))
}

fn short_hash(bytes: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    format!("{:016x}", h.finish())
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
}

/// The `wasm-opt` to use: the system's when it is new enough, else binaryen from npm
/// (`frontend/tools`, installed on first use). `None` when neither is available.
/// Resolved once per run (the first caller installs, the others wait for it).
fn wasm_opt() -> Option<PathBuf> {
    static TOOL: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TOOL.get_or_init(find_wasm_opt).clone()
}

fn find_wasm_opt() -> Option<PathBuf> {
    // "wasm-opt version 108 (...)": older releases break wasm-bindgen's externref table (seen
    // with Debian bookworm's 108: the app stops at start with a WebAssembly.Table error).
    let system = output("wasm-opt", &["--version"]).and_then(|v| {
        v.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse::<u32>().ok())
    });
    if system.is_some_and(|v| v >= MIN_WASM_OPT) {
        return Some(PathBuf::from("wasm-opt"));
    }
    let tools = root().join("frontend").join("tools");
    let npm_opt = tools.join("node_modules/.bin/wasm-opt");
    if !npm_opt.exists() {
        eprintln!(
            "xtask: wasm-opt {system:?} is missing or older than {MIN_WASM_OPT}; installing binaryen from npm"
        );
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&tools)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return None;
        }
    }
    npm_opt.exists().then_some(npm_opt)
}

/// Shrinks `wasm` in place with `wasm-opt -Oz`; results are cached by input in the target dir.
fn optimise(wasm: &Path) -> Result<(), String> {
    let input = read(wasm)?;
    let cache = target_dir().join("wasm-opt-cache");
    let cached = cache.join(format!("{}-{}.wasm", short_hash(&input), input.len()));
    if let Ok(bytes) = fs::read(&cached) {
        return write(wasm, &bytes);
    }
    // Release images must not ship an unoptimised bundle by accident (the Dockerfile sets it).
    let required = env::var_os("INVITEGATE_REQUIRE_WASM_OPT").is_some_and(|v| v == "1");
    let Some(tool) = wasm_opt() else {
        if required {
            return Err("no usable wasm-opt (binaryen) and INVITEGATE_REQUIRE_WASM_OPT=1".into());
        }
        eprintln!("xtask: no usable wasm-opt (binaryen); the bundle stays unoptimised");
        return Ok(());
    };
    let out = wasm.with_extension("opt.wasm");
    let ok = Command::new(&tool)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(&out)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        // Else a half-written module would sit beside the app's and ship with them.
        let _ = fs::remove_file(&out);
    }
    if !ok && required {
        return Err("wasm-opt failed and INVITEGATE_REQUIRE_WASM_OPT=1".into());
    }
    if !ok {
        eprintln!("xtask: wasm-opt failed; keeping the unoptimised bundle");
        return Ok(());
    }
    let _ = fs::create_dir_all(&cache);
    let _ = fs::copy(&out, &cached);
    fs::rename(&out, wasm).map_err(|e| e.to_string())
}

/// The target dir of the wasm builds: one of their own, because cargo locks a target dir for
/// the length of a build, and `cargo xtask run` builds the server beside them (they share no
/// artifacts: other target, other profile).
fn wasm_target_dir() -> PathBuf {
    target_dir().join("wasm")
}

/// Builds the web crate with `features` for wasm32; `split`: keeping the linker's relocations,
/// which `wasm-split-cli` reads (passed to the last link only, so the app and the widget share
/// every dependency's build).
fn cargo_wasm(features: &[&str], split: bool) -> Result<(), String> {
    let mut c = cargo();
    c.env("CARGO_TARGET_DIR", wasm_target_dir())
        .args([
            "rustc",
            "--package",
            "invitegate-web",
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            "wasm-release",
        ])
        .args(features);
    if split {
        c.args(["--", "-C", "link-arg=--emit-relocs"]);
    }
    status(c)
}

/// The last wasm build.
fn built_wasm() -> PathBuf {
    wasm_target_dir()
        .join(WASM_TARGET)
        .join("wasm-release")
        .join("invitegate_web.wasm")
}

/// Runs wasm-bindgen on `wasm`, writing `<name>.js` and `<name>_bg.wasm` to `staging`;
/// `split`: the main module of a split build, whose split modules import the linker's exports
/// (its memory, function table and shared globals) by name.
fn bindgen(wasm: &Path, name: &str, staging: &Path, split: bool) -> Result<(), String> {
    let mut c = Command::new("wasm-bindgen");
    c.args(["--target", "web", "--no-typescript"]);
    if split {
        c.arg("--keep-lld-exports");
    }
    c.args(["--out-name", name, "--out-dir"])
        .arg(staging)
        .arg(wasm);
    status(c)
}

/// The app's last build, split at its `#[wasm_split]` functions, in `dir`: `app.js` and
/// `app_bg.wasm` (the main module, bound by wasm-bindgen), `__wasm_split.js` (which the main
/// module imports to load the others) and one `split_<name>.wasm` per split module named in
/// the source (`console`), plus `chunk_<n>.wasm` for code that only split modules share. The
/// loader fetches them relative to itself and imports `./app.js`: they are served from one
/// folder.
fn split_app(dir: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(dir);
    let mut c = Command::new("wasm-split-cli");
    c.args(["--target", "web", "--out-name", "app"])
        .arg(built_wasm())
        .arg(dir);
    status(c)?;
    // The split's main module, bound beside itself as `app.js` and `app_bg.wasm`.
    let main = dir.join("app.wasm");
    bindgen(&main, "app", dir, true)?;
    fs::remove_file(&main).map_err(|e| e.to_string())
}

/// The WebAssembly modules in `dir`.
fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            files.push(path);
        }
    }
    Ok(files)
}

/// Builds the app into [`dist_dir`].
pub fn build() -> Result<(), String> {
    ensure_wasm_target()?;
    // Binaryen from npm downloads, and `cargo install` builds in a folder of its own, while
    // the app compiles; the app's wasm-opt pass runs while the widget compiles.
    let installing = ensure_wasm_bindgen(&lock_version("wasm-bindgen")?)?;
    let installing_split = match ensure_wasm_split() {
        Ok(child) => child,
        Err(e) => {
            if let Some(child) = installing {
                let _ = super::wait(child);
            }
            return Err(e);
        }
    };
    let tool = std::thread::spawn(wasm_opt);
    let staging = target_dir().join("web-staging");
    let _ = fs::remove_dir_all(&staging);
    let app_dir = staging.join("app");
    // The SPA, then the widget alone (no router, no console) for other sites.
    let app = cargo_wasm(&[], true);
    let ready = installing.map_or(Ok(()), super::wait);
    let split_ready = installing_split.map_or(Ok(()), super::wait);
    app?;
    ready?;
    split_ready?;
    split_app(&app_dir)?;
    let app_modules = wasm_files(&app_dir)?;
    let app = std::thread::spawn(move || app_modules.iter().try_for_each(|m| optimise(m)));
    // Every thread is joined before returning, even on an error: none is left writing into
    // the staging folder the next run deletes, or installing binaryen as the process exits.
    let widget = cargo_wasm(&["--no-default-features"], false)
        .and_then(|()| bindgen(&built_wasm(), "widget", &staging, false))
        .and_then(|()| optimise(&staging.join("widget_bg.wasm")));
    let app = app.join().map_err(|_| "wasm-opt of the app panicked")?;
    tool.join().map_err(|_| "finding wasm-opt panicked")?;
    widget?;
    app?;

    let static_dir = root().join("frontend").join("static");
    let mut app_files = Vec::new();
    for entry in fs::read_dir(&app_dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .expect("file")
            .to_string_lossy()
            .into_owned();
        app_files.push((name, read(&path)?));
    }
    app_files.sort();
    let widget_wasm_bytes = read(&staging.join("widget_bg.wasm"))?;
    let widget_js_bytes = read(&staging.join("widget.js"))?;
    let style = read(&static_dir.join("style.css"))?;
    let widget = read(&static_dir.join("widget.css"))?;
    // The app's modules load one another by fixed names, so they share a folder named after
    // all of them: a new build is a new folder, and every file may be cached for good.
    let tag = short_hash(
        &app_files
            .iter()
            .flat_map(|(name, bytes)| [name.as_bytes(), &bytes[..]])
            .collect::<Vec<_>>()
            .concat(),
    );
    let app_folder = format!("app-{tag}");
    let app_js = format!("{app_folder}/app.js");
    let app_wasm = format!("{app_folder}/app_bg.wasm");
    let style_css = format!("style-{}.css", short_hash(&style));
    let widget_css = format!("widget-{}.css", short_hash(&widget));
    let widget_tag = short_hash(&[&widget_wasm_bytes[..], &widget_js_bytes[..]].concat());
    let widget_js = format!("widget-{widget_tag}.js");
    let widget_wasm = format!("widget-{widget_tag}.wasm");
    let boot = format!(
        "import init, {{ start_app }} from \"./{app_js}\";\n\
         await init({{ module_or_path: new URL(\"./{app_wasm}\", import.meta.url) }});\n\
         start_app();\n"
    );
    let boot_js = format!("boot-{}.js", short_hash(boot.as_bytes()));
    let embed = format!(
        "// Invitegate registration widget.\n\
         // import {{ mount_registration }} from \"https://YOUR-INVITEGATE/embed/invitegate-embed.js\";\n\
         // await mount_registration(document.getElementById(\"signup\"), {{ apiBase: \"https://YOUR-INVITEGATE\" }});\n\
         import init, {{ mount_registration as mount }} from \"../assets/{widget_js}\";\n\
         let ready;\n\
         function addStyle() {{\n\
         \x20 if (document.querySelector(\"link[data-invitegate]\")) return;\n\
         \x20 const link = document.createElement(\"link\");\n\
         \x20 link.rel = \"stylesheet\";\n\
         \x20 link.href = new URL(\"../assets/{widget_css}\", import.meta.url).href;\n\
         \x20 link.dataset.invitegate = \"\";\n\
         \x20 document.head.appendChild(link);\n\
         }}\n\
         /** Renders the registration form into `element`. options: {{ apiBase: string, token?: string }} */\n\
         export async function mount_registration(element, options) {{\n\
         \x20 addStyle();\n\
         \x20 ready ??= init({{ module_or_path: new URL(\"../assets/{widget_wasm}\", import.meta.url) }});\n\
         \x20 await ready;\n\
         \x20 mount(element, options ?? {{}});\n\
         }}\n"
    );
    let index = String::from_utf8(read(&static_dir.join("index.html"))?)
        .map_err(|e| e.to_string())?
        .replace("{{STYLE}}", &style_css)
        .replace("{{APP_JS}}", &app_js)
        .replace("{{APP_SPLIT_JS}}", &format!("{app_folder}/__wasm_split.js"))
        .replace("{{APP_WASM}}", &app_wasm)
        .replace("{{BOOT}}", &boot_js);

    let dist = dist_dir();
    let _ = fs::remove_dir_all(&dist);
    let assets = dist.join("assets");
    let embed_dir = dist.join("embed");
    fs::create_dir_all(&assets).map_err(|e| e.to_string())?;
    fs::create_dir_all(&embed_dir).map_err(|e| e.to_string())?;
    fs::create_dir_all(assets.join(&app_folder)).map_err(|e| e.to_string())?;
    for (name, bytes) in &app_files {
        write(&assets.join(&app_folder).join(name), bytes)?;
    }
    write(&assets.join(&style_css), &style)?;
    write(&assets.join(&widget_css), &widget)?;
    write(&assets.join(&widget_js), &widget_js_bytes)?;
    write(&assets.join(&widget_wasm), &widget_wasm_bytes)?;
    write(&assets.join(&boot_js), boot.as_bytes())?;
    write(&embed_dir.join("invitegate-embed.js"), embed.as_bytes())?;
    write(&dist.join("index.html"), index.as_bytes())?;
    precompress(&assets)?;
    precompress(&assets.join(&app_folder))?;
    precompress(&embed_dir)?;
    let sizes = bundle_sizes()?;
    let size_of = |file: &str| {
        app_files
            .iter()
            .find(|(n, _)| n == file)
            .map_or(0, |(_, b)| b.len())
    };
    eprintln!(
        "xtask: web app in {} (app: wasm {} KiB, js {} KiB; widget: wasm {} KiB; downloads, brotli: app {} KiB, console {} KiB more, widget {} KiB)",
        dist.display(),
        size_of("app_bg.wasm") / 1024,
        size_of("app.js") / 1024,
        widget_wasm_bytes.len() / 1024,
        sizes.app / 1024,
        sizes.console / 1024,
        sizes.widget / 1024,
    );
    Ok(())
}

/// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip, level 9) beside every file
/// of `dir`, which the server sends to clients that accept them (`actix-files`
/// `try_compressed`), instead of compressing on every request.
fn precompress(dir: &Path) -> Result<(), String> {
    use std::io::Write as _;
    // Listed before writing into the same folder, and never twins of twins.
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() && !path.extension().is_some_and(|e| e == "br" || e == "gz") {
            files.push(path);
        }
    }
    for path in files {
        let bytes = read(&path)?;
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
            w.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).map_err(|e| e.to_string())?;
        let gz = gz.finish().map_err(|e| e.to_string())?;
        let name = path
            .file_name()
            .expect("file")
            .to_string_lossy()
            .into_owned();
        write(&dir.join(format!("{name}.br")), &br)?;
        write(&dir.join(format!("{name}.gz")), &gz)?;
    }
    Ok(())
}

/// What a browser downloads, brotli-compressed, in bytes: the app (its page's script, style
/// and main WebAssembly module, which every page needs), the console (the modules split off
/// the app, which only the admin console's pages load) and the widget (its entry point,
/// script, style and WebAssembly).
pub struct BundleSizes {
    pub app: u64,
    pub console: u64,
    pub widget: u64,
}

/// The most a browser may download, brotli-compressed, in KiB: (app, console, widget). They
/// stop the bundles from growing unnoticed. The app's and the widget's are issue 10's targets,
/// 350 KB (341 KiB) and 150 KB (146 KiB). Both fell when the wasm stopped carrying reqwest, a
/// date library and Unicode tables (the browser's `fetch`, `Date` and `RegExp` do that work):
/// app 472 → 420 KiB, widget 193 → 141 KiB; the app then to 306 KiB when the admin console's
/// pages moved to a module of their own, loaded by administrators only.
const BUDGET_KIB: (u64, u64, u64) = (341, 170, 146);

/// Fails when a built bundle is over its budget ([`BUDGET_KIB`]).
pub fn check_budget() -> Result<(), String> {
    let sizes = bundle_sizes()?;
    let (app, console, widget) = BUDGET_KIB;
    for (name, size, budget) in [
        ("app", sizes.app, app),
        ("console", sizes.console, console),
        ("widget", sizes.widget, widget),
    ] {
        if size > budget * 1024 {
            return Err(format!(
                "the {name} bundle is {} KiB compressed, over its budget of {budget} KiB \
                 (was it optimised? the xtask needs binaryen's wasm-opt, from npm)",
                size / 1024
            ));
        }
    }
    eprintln!(
        "xtask: bundles within budget: app {} of {app} KiB, console {} of {console} KiB, widget {} of {widget} KiB (brotli)",
        sizes.app / 1024,
        sizes.console / 1024,
        sizes.widget / 1024
    );
    Ok(())
}

/// The sizes of the built bundles in [`dist_dir`] (see [`BundleSizes`]).
pub fn bundle_sizes() -> Result<BundleSizes, String> {
    let assets = dist_dir().join("assets");
    let mut sizes = BundleSizes {
        app: 0,
        console: 0,
        widget: 0,
    };
    let mut compressed = Vec::new();
    for entry in fs::read_dir(&assets).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            for inner in fs::read_dir(&path).map_err(|e| e.to_string())? {
                compressed.push((true, inner.map_err(|e| e.to_string())?.path()));
            }
        } else {
            compressed.push((false, path));
        }
    }
    for (in_app_folder, path) in compressed {
        let name = path
            .file_name()
            .expect("file")
            .to_string_lossy()
            .into_owned();
        let Some(original) = name.strip_suffix(".br") else {
            continue;
        };
        let size = fs::metadata(&path).map_err(|e| e.to_string())?.len();
        if original.starts_with("widget-") {
            sizes.widget += size;
        } else if in_app_folder && original.ends_with(".wasm") && original != "app_bg.wasm" {
            sizes.console += size;
        } else {
            sizes.app += size;
        }
    }
    sizes.widget += fs::metadata(dist_dir().join("embed/invitegate-embed.js.br"))
        .map_err(|e| e.to_string())?
        .len();
    Ok(sizes)
}

fn is_root() -> bool {
    output("id", &["-u"]).is_some_and(|u| u.trim() == "0")
}

/// Chromium and chromedriver (Debian packages) and axe-core (npm) for the browser tests,
/// installed when missing.
pub fn browser_prerequisites() -> Result<(), String> {
    let have = |c: &str| output(c, &["--version"]).is_some();
    if !(have("chromium") && have("chromedriver")) {
        if !is_root() {
            return Err("the browser tests need Chromium and chromedriver: apt-get install chromium chromium-driver".into());
        }
        eprintln!("xtask: installing chromium and chromium-driver");
        let mut c = Command::new("apt-get");
        c.arg("update");
        status(c)?;
        let mut c = Command::new("apt-get");
        c.args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive");
        status(c)?;
    }
    let browser = root().join("tests").join("browser");
    if !browser.join("node_modules/axe-core/axe.min.js").exists() {
        eprintln!("xtask: installing axe-core (npm ci)");
        let mut c = Command::new("npm");
        c.args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&browser);
        status(c)?;
    }
    Ok(())
}

//! A real browser for the console's tests: headless Chromium from the distribution's packages,
//! driven over WebDriver by its chromedriver (started here on a free port, ended on drop), and
//! screenshots saved under the target directory for the README.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Where the distribution puts them (Debian's `chromium` and `chromium-driver`); `CHROMIUM` and
/// `CHROMEDRIVER` override.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium session and the chromedriver serving it.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Start chromedriver and open a headless Chromium session. Fails, saying what to install, when
    /// either is missing: the console's browser tests do not skip themselves.
    pub async fn start() -> anyhow::Result<Self> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned());
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.to_owned());
        for (what, path) in [("chromium", &chromium), ("chromedriver", &driver_bin)] {
            anyhow::ensure!(
                std::path::Path::new(path).exists(),
                "{what} is not at {path}: install it (`apt-get install chromium chromium-driver`) or set {}",
                what.to_uppercase()
            );
        }
        // Both rustls providers are compiled into the tests; the one the workspace uses is chosen.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let port = free_port()?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so Chromium goes with it when a test ends early.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {driver_bin}"))?;
        let mut browser_args = vec![
            "--headless=new",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
            "--no-first-run",
            "--lang=en-US",
        ];
        // Chromium's sandbox refuses to run as root (CI and sessions run as root).
        if nix::unistd::geteuid().is_root() {
            browser_args.push("--no-sandbox");
        }
        let mut caps = Capabilities::new();
        caps.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": browser_args }));
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            match ClientBuilder::rustls()?.capabilities(caps.clone()).connect(&url).await {
                Ok(client) => return Ok(Self { client, driver }),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        kill_group(&driver);
        anyhow::bail!("no WebDriver session from chromedriver: {last:?}")
    }

    /// Open `url` and wait for the page.
    pub async fn open(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await.with_context(|| format!("opening {url}"))
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self.client.find(Locator::Css(css)).await.with_context(|| format!("finding {css}"))?;
        Ok(element.text().await?)
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    /// Type `text` into the field matching `css` (replacing what it holds).
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let field = self.client.find(Locator::Css(css)).await.with_context(|| format!("finding {css}"))?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Click the element matching `css` (a submit button or a link) and wait for the page it
    /// leads to: WebDriver's click returns before the browser has the answer.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let old_page = self.client.find(Locator::Css("html")).await?;
        self.client.find(Locator::Css(css)).await.with_context(|| format!("finding {css}"))?.click().await?;
        for _ in 0..200 {
            // The old page's root goes stale once the new page replaces it.
            if old_page.tag_name().await.is_err() {
                let ready = self.client.execute("return document.readyState", vec![]).await?;
                if ready == "complete" {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("clicking {css} led to no new page within 10 s")
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> anyhow::Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Save a screenshot of the page as `<target>/console-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// End the session and chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reaches `close`: chromedriver and its Chromium must not outlive it.
        kill_group(&self.driver);
        let _ = self.driver.wait();
    }
}

/// `<target dir>/console-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("console-screenshots")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn kill_group(driver: &Child) {
    let group = nix::unistd::Pid::from_raw(driver.id() as i32);
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
}

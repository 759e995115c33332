//! The cockpit without a terminal, for the headless-app tests: `update` plus the driver's real
//! effect runner, with results read back from its channel, as the TUI loop does.

use std::time::Duration;

use shipdeck::app::tasks::TaskState;
use shipdeck::app::{Action, Effect, State, update};
use shipdeck::driver::Runner;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long to wait for an expected action before failing (a bound, not a performance claim).
const PATIENCE: Duration = Duration::from_secs(90);

pub struct Cockpit {
    pub state: State,
    pub runner: Runner,
    pub rx: UnboundedReceiver<Action>,
    /// Run scheduled effects too (the refresh loops), as the TUI does; off by default so a
    /// test's loop goes quiet.
    pub timers: bool,
}

impl Cockpit {
    /// A cockpit on `inv` as the TUI starts one: fresh state, services connected, a runner.
    pub async fn connect(
        inv: &shipdeck::inventory::Inventory,
        paths: &shipdeck::paths::Paths,
    ) -> Cockpit {
        Self::connect_with(inv, paths, false).await
    }

    /// As `shipdeck --read-only` starts the cockpit.
    #[allow(dead_code)]
    pub async fn connect_read_only(
        inv: &shipdeck::inventory::Inventory,
        paths: &shipdeck::paths::Paths,
    ) -> Cockpit {
        Self::connect_with(inv, paths, true).await
    }

    async fn connect_with(
        inv: &shipdeck::inventory::Inventory,
        paths: &shipdeck::paths::Paths,
        read_only: bool,
    ) -> Cockpit {
        let mut state = State::new(inv, "test", shipdeck::app::Keymap::default());
        state.read_only = shipdeck::ops::read_only_reason(read_only, Some(inv));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let services =
            shipdeck::driver::Services::connect(inv, paths, read_only, &mut state, &tx).await;
        Cockpit {
            state,
            runner: Runner::new(tx, services),
            rx,
            timers: false,
        }
    }

    /// Stamps the clock as the driver does, applies one action, and runs its effects. Scheduled
    /// refreshes are left out: tests ask for what they need, so the loop can go quiet.
    pub fn apply(&mut self, action: Action) {
        self.state.clock.now_ms =
            u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0);
        let action = shipdeck::driver::resolve_click(&self.state, action);
        for e in update(&mut self.state, action) {
            if self.timers || !matches!(e, Effect::Schedule { .. }) {
                self.runner.run(e);
            }
        }
    }

    pub fn press(&mut self, cmd: shipdeck::app::Command) {
        self.apply(Action::Command(cmd));
    }

    /// A key as the terminal sends it, through the keymap in the mode the screen is in.
    pub fn key(&mut self, c: char) {
        use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
        let ev = Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        if let Some(a) = self.state.keymap.resolve(&ev, self.state.input_mode()) {
            self.apply(a);
        }
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.apply(Action::Input(c));
        }
    }

    /// Feeds results back until `done` holds, within one overall bound (a stream of unrelated
    /// actions, such as watch events, must not keep a failing wait alive).
    pub async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(&self.state) {
            let action = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "waited for {what}; status {:?}; activity {:?}",
                        self.state.status,
                        self.state
                            .activity
                            .iter()
                            .map(|a| &a.text)
                            .collect::<Vec<_>>()
                    )
                })
                .expect("channel open");
            self.apply(action);
        }
    }

    /// Waits for the newest task to end and returns its Activity line (not a Feishu delivery).
    pub async fn finish_task(&mut self) -> String {
        self.until("the task to end", |s| {
            !s.tasks.any_running()
                && s.tasks
                    .all()
                    .last()
                    .is_some_and(|t| matches!(t.state, TaskState::Finished(_)))
        })
        .await;
        self.state
            .activity
            .iter()
            .rev()
            .find(|a| !a.text.starts_with("Feishu"))
            .map(|a| a.text.clone())
            .unwrap_or_default()
    }

    /// Focuses the Environments panel and moves its selection to `name`.
    pub fn select_env(&mut self, name: &str) {
        assert!(
            self.state.envs.iter().any(|e| e.name == name),
            "no env `{name}`"
        );
        while self.state.focus != shipdeck::app::Panel::Environments {
            self.press(shipdeck::app::Command::FocusNext);
        }
        while self.state.selected_env().map(|e| e.name.as_str()) != Some(name) {
            let before = self.state.selected_env;
            self.press(shipdeck::app::Command::Down);
            if self.state.selected_env == before {
                while self.state.selected_env > 0 {
                    self.press(shipdeck::app::Command::Up);
                }
            }
        }
    }

    /// The tag git says an env of the selected app runs.
    pub fn tag(&self, env: &str) -> Option<String> {
        self.state
            .envs
            .iter()
            .find(|r| r.name == env)
            .and_then(|r| r.git_tag.clone())
    }

    /// Asks git again until `env` shows `want`.
    pub async fn refreshed(&mut self, env: &str, want: &str) {
        self.apply(Action::RefreshGit);
        let (env, want) = (env.to_owned(), want.to_owned());
        self.until("git to show the new tag", move |s| {
            s.envs
                .iter()
                .any(|r| r.name == env && r.git_tag.as_deref() == Some(want.as_str()))
        })
        .await;
    }
}

/// A jsonpath of one object, read with the real `kubectl` (the tests cross-check what the API
/// server holds with the tool people use).
pub fn kubectl_get(
    kubeconfig: &std::path::Path,
    ns: &str,
    what: &[&str],
    jsonpath: &str,
) -> String {
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["-n", ns, "get"])
        .args(what)
        .arg("-o")
        .arg(format!("jsonpath={jsonpath}"))
        .output()
        .expect("kubectl must be installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The sandbox GitHub as the demo inventory names it (`miker-org/miker`), at a time-scale.
pub async fn demo_github(speed: f64) -> shipdeck::sandbox::github::GithubSandbox {
    let _ = rustls::crypto::ring::default_provider().install_default();
    shipdeck::sandbox::github::GithubSandbox::start(shipdeck::sandbox::github::GithubSandboxOpts {
        owner: "miker-org".into(),
        repo: "miker".into(),
        speed,
        ..shipdeck::sandbox::github::GithubSandboxOpts::default()
    })
    .await
    .expect("start the sandbox GitHub")
}

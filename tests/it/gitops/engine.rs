//! Reading, writing and history through the engine against the seeded remote.

use shipdeck::audit::Journal;
use shipdeck::inventory::Layout;
use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::{Action, ChangeRequest, ErrorKind, GitopsEngine};

use super::{World, git, remote_file, remote_main};

fn req(action: Action, app: &str, env: &str, tag: Option<&str>) -> ChangeRequest {
    let mut r = ChangeRequest::new(action, app, env, tag);
    "tester".clone_into(&mut r.actor);
    r
}

fn changed_lines(a: &str, b: &str) -> Vec<(String, String)> {
    assert_eq!(a.split('\n').count(), b.split('\n').count());
    a.split('\n')
        .zip(b.split('\n'))
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_owned(), y.to_owned()))
        .collect()
}

#[test]
fn snapshot_reads_every_app_and_env_with_who_changed_it() {
    let w = World::new();
    let snap = w.engine("a").snapshot().unwrap();
    let get = |app: &str, env: &str| {
        snap.iter()
            .find(|e| e.app == app && e.env == env)
            .unwrap()
            .clone()
    };
    assert_eq!(snap.len(), 6);
    assert_eq!(get("miker-web", "prod").tag.as_deref(), Some("71be0e3"));
    assert_eq!(get("miker-web", "stg").tag.as_deref(), Some("9f1c2ab"));
    assert_eq!(get("miker-web", "dev").tag.as_deref(), Some("9f1c2ab"));
    assert_eq!(get("miker-api", "stg").tag.as_deref(), Some("6f0a3c9"));
    assert_eq!(get("miker-api", "prod").tag.as_deref(), Some("2b8e4d1"));
    // The later replicas edit of the prod overlay is not a tag change.
    let prod = get("miker-web", "prod").changed.unwrap();
    assert_eq!(prod.author, "Carol Díaz");
    assert_eq!(prod.time, "2026-11-19T13:45:00Z");
    assert!(prod.subject.contains("71be0e3"), "{}", prod.subject);
    assert_eq!(prod.short.len(), 7);
    let api_prod = get("miker-api", "prod").changed.unwrap();
    assert_eq!(api_prod.author, "Alice Chen");
    assert!(api_prod.subject.starts_with("Bootstrap"));
}

#[test]
fn history_lists_each_change_newest_first() {
    let w = World::new();
    let h = w.engine("a").history("miker-web", "prod").unwrap();
    let tags: Vec<(&str, Option<&str>)> = h
        .iter()
        .map(|c| (c.tag.as_str(), c.previous.as_deref()))
        .collect();
    assert_eq!(
        tags,
        vec![
            ("71be0e3", Some("5d2e8a1")),
            ("5d2e8a1", Some("3c9b7f0")),
            ("3c9b7f0", None)
        ]
    );
    let known = w.engine("a").known_tags("miker-web").unwrap();
    let names: Vec<&str> = known.iter().map(|k| k.tag.as_str()).collect();
    assert_eq!(names, vec!["9f1c2ab", "71be0e3", "5d2e8a1", "3c9b7f0"]);
    assert_eq!(known[0].current_in, vec!["dev", "stg"]);
    assert_eq!(known[1].current_in, vec!["prod"]);
}

#[test]
fn release_changes_one_line_commits_with_trailers_and_audits() {
    let w = World::new();
    let path = "apps/miker-web/overlays/stg/kustomization.yaml";
    let before = remote_file(w.bare(), path);
    let out = w
        .engine("a")
        .apply(
            &req(Action::Release, "miker-web", "stg", Some("abc1234")),
            &TaskCtl::detached(),
        )
        .unwrap();
    assert!(out.pushed);
    assert_eq!(out.attempts, 1);
    assert_eq!(out.from.as_deref(), Some("9f1c2ab"));
    assert_eq!(out.commit.as_deref(), Some(remote_main(w.bare()).as_str()));
    let after = remote_file(w.bare(), path);
    assert_eq!(
        changed_lines(&before, &after),
        vec![(
            "    newTag: 9f1c2ab # git short SHA of the build".to_owned(),
            "    newTag: abc1234 # git short SHA of the build".to_owned()
        )]
    );
    let msg = git(w.bare(), &["log", "-1", "--format=%s%n%b%n%an <%ae>"]);
    assert!(
        msg.starts_with("release(miker-web): stg 9f1c2ab → abc1234\n"),
        "{msg}"
    );
    for t in [
        "Shipdeck-Action: release",
        "Shipdeck-App: miker-web",
        "Shipdeck-Env: stg",
        "Shipdeck-From: 9f1c2ab",
        "Shipdeck-To: abc1234",
        "Shipdeck-Actor: tester",
        "shipdeck-test <shipdeck-test@example.com>",
    ] {
        assert!(msg.contains(t), "missing {t} in {msg}");
    }
    // Only one file changed in the commit.
    let files = git(w.bare(), &["diff", "--name-only", "main~1", "main"]);
    assert_eq!(files.trim(), path);
    // The engine only writes git: the journal line is the op's (tests/it/ops.rs).
    let journal = Journal::new(w.paths("a").audit_journal())
        .read_all()
        .unwrap();
    assert!(journal.is_empty(), "{journal:?}");
    assert!(out.commit.is_some());
}

#[test]
fn same_tag_makes_no_commit() {
    let w = World::new();
    let head = remote_main(w.bare());
    let out = w
        .engine("a")
        .apply(
            &req(Action::Release, "miker-web", "stg", Some("9f1c2ab")),
            &TaskCtl::detached(),
        )
        .unwrap();
    assert!(!out.pushed);
    assert_eq!(out.commit, None);
    assert!(
        out.message.contains("already at 9f1c2ab"),
        "{}",
        out.message
    );
    assert_eq!(remote_main(w.bare()), head);
}

#[test]
fn promote_then_rollback_twice_is_one_rollback() {
    let w = World::new();
    let e = w.engine("a");
    let ctl = TaskCtl::detached();
    let p = e
        .apply(&req(Action::Promote, "miker-web", "prod", None), &ctl)
        .unwrap();
    assert_eq!(
        (p.from.as_deref(), p.to.as_str()),
        (Some("71be0e3"), "9f1c2ab")
    );
    let subject = git(w.bare(), &["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "promote(miker-web): prod 71be0e3 → 9f1c2ab");
    let r1 = e
        .apply(&req(Action::Rollback, "miker-web", "prod", None), &ctl)
        .unwrap();
    assert_eq!(r1.to, "71be0e3");
    // A second rollback (a retried script) targets the same tag that ran before the bad one:
    // it changes nothing, and does not walk further back.
    let head = remote_main(w.bare());
    let r2 = e
        .apply(&req(Action::Rollback, "miker-web", "prod", None), &ctl)
        .unwrap();
    assert_eq!((r2.to.as_str(), r2.commit.as_deref()), ("71be0e3", None));
    assert_eq!(remote_main(w.bare()), head);
    let h = e.history("miker-web", "prod").unwrap();
    assert_eq!(h[0].action.as_deref(), Some("rollback"));
    assert_eq!(h[0].tag, "71be0e3");
    // Further back is an explicit choice.
    let r2 = e
        .apply(
            &req(Action::Rollback, "miker-web", "prod", Some("5d2e8a1")),
            &ctl,
        )
        .unwrap();
    assert_eq!(r2.to, "5d2e8a1");
    // Rolling back to a tag the env never ran is refused.
    let err = e
        .apply(
            &req(Action::Rollback, "miker-web", "prod", Some("deadbee")),
            &ctl,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("never ran deadbee"), "{err}");
    // An explicit tag from its history is fine.
    let r3 = e
        .apply(
            &req(Action::Rollback, "miker-web", "prod", Some("3c9b7f0")),
            &ctl,
        )
        .unwrap();
    assert_eq!(r3.to, "3c9b7f0");
}

#[test]
fn helm_and_type_changing_tags_are_quoted() {
    let w = World::new();
    let e = w.engine("a");
    let ctl = TaskCtl::detached();
    e.apply(
        &req(Action::Release, "miker-api", "dev", Some("1234567")),
        &ctl,
    )
    .unwrap();
    let v = remote_file(w.bare(), "apps/miker-api/values-dev.yaml");
    assert!(v.contains("  tag: \"1234567\"\n"), "{v}");
    e.apply(
        &req(Action::Release, "miker-web", "dev", Some("71e0123")),
        &ctl,
    )
    .unwrap();
    let k = remote_file(w.bare(), "apps/miker-web/overlays/dev/kustomization.yaml");
    assert!(
        k.contains("    newTag: \"71e0123\" # git short SHA of the build\n"),
        "{k}"
    );
    let snap = e.snapshot().unwrap();
    let dev = snap
        .iter()
        .find(|s| s.app == "miker-web" && s.env == "dev")
        .unwrap();
    assert_eq!(dev.tag.as_deref(), Some("71e0123"));
}

#[test]
fn bad_input_is_reported_clearly() {
    let w = World::new();
    let e = w.engine("a");
    let ctl = TaskCtl::detached();
    let err = e
        .apply(
            &req(Action::Release, "miker-web", "stg", Some("bad tag")),
            &ctl,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let err = e
        .apply(&req(Action::Release, "nope", "stg", Some("abc")), &ctl)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let err = e
        .apply(&req(Action::Promote, "miker-web", "dev", None), &ctl)
        .unwrap_err();
    assert!(err.to_string().contains("no promote_from"), "{err}");

    let mut inv = w.inventory();
    if let Layout::Kustomize { image_name, .. } = &mut inv.apps["miker-web"].layout {
        *image_name = Some("harbor.sandbox.local/miker/other".to_owned());
    }
    let e2 = GitopsEngine::open_at(&inv, &w.paths("b"), None).unwrap();
    let err = e2
        .apply(
            &req(Action::Release, "miker-web", "stg", Some("abc1234")),
            &ctl,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert_eq!(
        err.to_string(),
        "apps/miker-web/overlays/stg/kustomization.yaml: no `images:` entry with name `harbor.sandbox.local/miker/other`"
    );
    let snap = e2.snapshot().unwrap();
    let stg = snap
        .iter()
        .find(|s| s.app == "miker-web" && s.env == "stg")
        .unwrap();
    assert_eq!(stg.tag, None);
    assert!(
        stg.problem
            .as_deref()
            .unwrap()
            .contains("kustomization.yaml")
    );
}

#[test]
fn a_stale_expected_tag_is_a_conflict_not_an_overwrite() {
    let w = World::new();
    let e = w.engine("a");
    let mut r = req(Action::Release, "miker-web", "stg", Some("abc1234"));
    r.expected_from = Some("71be0e3".to_owned());
    let head = remote_main(w.bare());
    let err = e.apply(&r, &TaskCtl::detached()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        err.to_string(),
        "stg was changed by Carol Díaz at 2026-11-28T10:18:00Z to 9f1c2ab; review and retry"
    );
    assert_eq!(remote_main(w.bare()), head);
}

#[test]
fn kustomize_build_shows_the_released_image() {
    let w = World::new();
    w.engine("a")
        .apply(
            &req(Action::Release, "miker-web", "stg", Some("abc1234")),
            &TaskCtl::detached(),
        )
        .unwrap();
    let checkout = w.dir.path().join("checkout");
    git(
        w.dir.path(),
        &[
            "clone",
            "-q",
            w.seeded.url.as_str(),
            checkout.to_str().unwrap(),
        ],
    );
    let out = std::process::Command::new("kubectl")
        .args(["kustomize", "apps/miker-web/overlays/stg"])
        .current_dir(&checkout)
        .output()
        .unwrap_or_else(|e| panic!("`kubectl` must be installed for this test: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("image: harbor.sandbox.local/miker/miker-web:abc1234"),
        "{text}"
    );
    assert!(text.contains("namespace: miker-stg"), "{text}");
}

#[test]
fn a_local_working_copy_is_used_without_touching_its_files() {
    let w = World::new();
    let wc = w.dir.path().join("wc");
    git(
        w.dir.path(),
        &["clone", "-q", w.seeded.url.as_str(), wc.to_str().unwrap()],
    );
    let e = GitopsEngine::open_at(&w.inventory(), &w.paths("a"), Some(wc.clone())).unwrap();
    assert_eq!(e.clone_dir(), wc.as_path());
    e.apply(
        &req(Action::Release, "miker-web", "dev", Some("abc1234")),
        &TaskCtl::detached(),
    )
    .unwrap();
    assert!(
        remote_file(w.bare(), "apps/miker-web/overlays/dev/kustomization.yaml")
            .contains("newTag: abc1234")
    );
    assert_eq!(git(&wc, &["status", "--porcelain"]).trim(), "");
    // No clone was made in the data dir.
    assert!(!w.paths("a").data_dir.join("gitops").exists());
}

#[test]
fn cached_snapshot_needs_no_remote() {
    let w = World::new();
    let e = w.engine("a");
    assert!(e.snapshot_cached().is_err(), "nothing fetched yet");
    let live = e.snapshot().unwrap();
    // The remote disappears: the last fetched state is still readable.
    std::fs::rename(w.bare(), w.dir.path().join("moved.git")).unwrap();
    assert_eq!(e.snapshot_cached().unwrap(), live);
    let err = e.snapshot().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Remote, "{err}");
}

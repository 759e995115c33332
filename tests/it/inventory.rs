//! Inventory loading: the documented example, the demo's generated one, and every malformed
//! fixture with the exact position, message and fix it must produce.

use std::path::{Path, PathBuf};

use shipdeck::inventory::{Inventory, InventoryError, Layout};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory")
}

#[test]
fn example_inventory_loads_with_every_section() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory.example.yaml");
    let inv = Inventory::load(&path).expect("example loads");
    assert_eq!(inv.env_names().collect::<Vec<_>>(), ["dev", "stg", "prod"]);
    assert_eq!(inv.env("prod").unwrap().promote_from(), Some("stg"));
    assert!(inv.env("prod").unwrap().protected);
    assert_eq!(inv.env("prod").unwrap().required_checks.len(), 7);
    assert!(inv.registry.is_some() && inv.github.is_some() && inv.runners.is_some());
    assert!(inv.secrets.is_some() && inv.feishu.is_some() && inv.tmp.is_some());
    let web = inv.app("miker-web").unwrap();
    assert_eq!(
        web.argocd_application_name("miker-web", "stg"),
        "miker-web-stg"
    );
    assert_eq!(
        web.layout.path_for("miker-web", "stg"),
        "apps/miker-web/overlays/stg/kustomization.yaml"
    );
    let api = inv.app("miker-api").unwrap();
    assert!(matches!(&api.layout, Layout::Helm { key, .. } if key == "image.tag"));
    assert_eq!(api.rollout_name("miker-api"), "miker-api");
}

#[test]
fn minimal_inventory_loads_and_resolves_relative_paths() {
    let inv = Inventory::load(&fixtures().join("good-minimal.yaml")).unwrap();
    assert_eq!(inv.apps.len(), 1);
    assert_eq!(inv.gitops.branch, "main");
    assert_eq!(inv.resolve("tmp"), fixtures().join("tmp"));
    assert!(matches!(
        inv.app("nope"),
        Err(InventoryError::UnknownName { kind: "app", .. })
    ));
}

struct Expected {
    at: (u64, u64),
    message: String,
    fix: String,
}

fn expected(path: &Path) -> Expected {
    let text = std::fs::read_to_string(path.with_extension("expected"))
        .unwrap_or_else(|e| panic!("{}: missing .expected file: {e}", path.display()));
    let field = |name: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{}: no `{name}:` line", path.display()))
            .to_owned()
    };
    let at = field("at");
    let (line, col) = at.split_once(':').expect("at: LINE:COL");
    Expected {
        at: (line.parse().unwrap(), col.parse().unwrap()),
        message: field("message"),
        fix: field("fix"),
    }
}

#[test]
fn every_malformed_inventory_names_position_problem_and_fix() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures().join("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "need at least 15 malformed inventories, have {}",
        cases.len()
    );
    for case in cases {
        let want = expected(&case);
        let err = Inventory::load(&case).expect_err(&format!("{} must be refused", case.display()));
        let InventoryError::Invalid {
            path,
            line,
            col,
            message,
            fix,
        } = &err
        else {
            panic!("{}: expected a located error, got {err}", case.display());
        };
        assert_eq!(path, &case);
        assert_eq!((*line, *col), want.at, "{}: position", case.display());
        assert_eq!(message, &want.message, "{}: message", case.display());
        assert_eq!(fix, &want.fix, "{}: fix", case.display());
        // The rendered form leads with file:line:col, as editors and terminals link it.
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}:{col}: ", case.display())),
            "{shown}"
        );
    }
}

#[test]
fn inventory_check_command_exits_2_with_located_message() {
    let bad = fixtures().join("bad/02-unknown-env-key.yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["inventory", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("02-unknown-env-key.yaml:12:5: unknown key `nmespace`"),
        "{err}"
    );
    assert!(err.contains("did you mean `namespace`?"), "{err}");

    let good = fixtures().join("good-minimal.yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["--output", "json", "inventory", "check"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["environments"], serde_json::json!(["stg", "prod"]));
}

#[test]
fn demo_inventory_is_valid_for_the_same_loader() {
    let dir = tempfile::tempdir().unwrap();
    let ws =
        shipdeck::demo::prepare(Some(dir.path()), &shipdeck::demo::Endpoints::default()).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let prod = inv.env("prod").unwrap();
    assert!(prod.protected);
    assert_eq!(
        prod.required_checks,
        [
            "lint",
            "type-check",
            "test",
            "build",
            "trivy",
            "codeql",
            "gitleaks"
        ]
    );
    assert_eq!(inv.env("stg").unwrap().required_checks, ["build", "test"]);
    assert!(inv.env("dev").unwrap().auto_release);
    assert!(inv.env("dev").unwrap().required_checks.is_empty());
}

#[test]
fn bare_image_names_are_completed_from_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory.example.yaml");
    let inv = Inventory::load(&path).unwrap();
    assert_eq!(
        inv.app("miker-api").unwrap().image,
        "harbor.example.com/miker/miker-api",
        "`image: miker-api` + registry harbor.example.com/miker"
    );
    assert_eq!(
        inv.app("miker-web").unwrap().image,
        "harbor.example.com/miker/miker-web",
        "a full image stays as written"
    );

    let text = |registry: &str| {
        format!(
            "{registry}gitops: {{url: gitops.git}}\n\
             apps:\n  web: {{image: miker-web, layout: {{kind: kustomize, path: k.yaml}}}}\n  \
             ext: {{image: docker.io/library/nginx, layout: {{kind: kustomize, path: n.yaml}}}}\n\
             environments:\n  dev: {{namespace: d}}\n"
        )
    };
    let at = Path::new("/inv/inventory.yaml");
    let ghcr = Inventory::from_str_at(
        &text("registry: {endpoint: ghcr.io/, project: miker-org}\n"),
        at,
    )
    .unwrap();
    assert_eq!(ghcr.apps["web"].image, "ghcr.io/miker-org/miker-web");
    assert_eq!(ghcr.apps["ext"].image, "docker.io/library/nginx");
    let none = Inventory::from_str_at(&text(""), at).unwrap();
    assert_eq!(
        none.apps["web"].image, "miker-web",
        "no registry: as written"
    );
}

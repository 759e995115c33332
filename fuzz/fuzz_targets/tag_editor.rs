//! Any text as a kustomization or values file, any tag: the edit is refused or changes exactly
//! the one value (the editor verifies that itself; here it must also read back), never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shipdeck::services::gitops::{TagSpot, read_tag, set_tag};

fuzz_target!(|input: (&str, bool, &str)| {
    let (text, helm, tag) = input;
    if shipdeck::services::gitops::validate_tag(tag).is_err() {
        return;
    }
    let spot = if helm {
        TagSpot::Helm { key: "image.tag" }
    } else {
        TagSpot::Kustomize {
            image_name: "harbor.local/miker/web",
        }
    };
    if let Ok(out) = set_tag(text, spot, tag, "f.yaml") {
        assert_eq!(read_tag(&out, spot, "f.yaml").ok().as_deref(), Some(tag));
    }
});

//! Any text as an inventory: an error or an inventory, never a panic; an error never prints a
//! Debug struct.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let path = std::path::Path::new("fuzz/inventory.yaml");
    if let Err(e) = shipdeck::inventory::Inventory::from_str_at(text, path) {
        let shown = e.to_string();
        assert!(!shown.contains("budget breached"), "{shown}");
    }
});

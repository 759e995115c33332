//! Any text as a SOPS file in each format: parsed or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shipdeck::services::secrets::formats::Format;
use shipdeck::services::secrets::sopsfile::SopsFile;

fuzz_target!(|text: &str| {
    for format in [Format::Yaml, Format::Json, Format::Dotenv] {
        let _ = SopsFile::parse(text, format);
    }
});

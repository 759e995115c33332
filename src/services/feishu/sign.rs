//! Custom bot signatures, computed the way Feishu's official samples do.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = ""))`, timestamp in seconds.
///
/// The official Java/Go/Python samples use the string-to-sign as the HMAC *key* over an empty
/// message; some third-party crates swap key and message, which Feishu rejects with 19021.
pub fn sign(timestamp: i64, secret: &str) -> String {
    let key = format!("{timestamp}\n{secret}");
    // HMAC takes keys of any length, so this cannot fail; an empty signature would be
    // rejected by Feishu (19021) rather than silently accepted.
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector() {
        // gitops-secrets-chat.md §3.1: ts=1599360473, secret=demo.
        assert_eq!(
            sign(1_599_360_473, "demo"),
            "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
        );
        assert_ne!(
            sign(1_599_360_473, "demo"),
            "DkEDUyVoOOJ539qBvUgMyzkzIdRWlf4e/V3Rq+ONJnQ="
        );
    }
}

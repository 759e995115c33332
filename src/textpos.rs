//! Where a byte offset is, as people count it: 1-based line and column (in bytes), for
//! messages that name `file:line:col`.

/// The line and column of `offset` in `bytes`.
pub fn line_col(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.split(|&b| b == b'\n').count();
    (line as u64, (before.len() - line_start + 1) as u64)
}

/// Where the first `needle` is in `text`, if anywhere.
pub fn find(text: &str, needle: &str) -> Option<(u64, u64)> {
    text.find(needle).map(|at| line_col(text.as_bytes(), at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_from_one() {
        assert_eq!(line_col(b"", 0), (1, 1));
        assert_eq!(line_col(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_col(b"ab\n", 3), (2, 1));
        assert_eq!(find("a: 1\nb: 2\n", "b:"), Some((2, 1)));
        assert_eq!(find("a", "z"), None);
    }
}

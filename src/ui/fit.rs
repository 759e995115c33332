//! Text that fits its cell: cut with `…`, paths shortened in the middle, and items that move
//! to the next line whole instead of breaking inside (`✔ lint⏎30s`).

use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `text` in at most `width` columns, ending in `…` when some of it had to go.
pub fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// A path in at most `width` columns, shortened in the middle (`secrets/…/prod/db.enc.yaml`):
/// its start says where and its end which file, so both stay, whole components where they fit.
pub fn elide_middle(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let parts: Vec<&str> = text.split('/').collect();
    if let [first, .., last] = parts.as_slice() {
        // Trailing components first (the file and its folders say which file), then the
        // leading one if it still fits.
        let mut tail = (*last).to_owned();
        for part in parts[1..parts.len() - 1].iter().rev() {
            let longer = format!("{part}/{tail}");
            if longer.width() + 2 > width {
                break;
            }
            tail = longer;
        }
        let with_head = format!("{first}/…/{tail}");
        if with_head.width() <= width {
            return with_head;
        }
        let without = format!("…/{tail}");
        if without.width() <= width {
            return without;
        }
    }
    if width < 8 {
        return cut(text, width);
    }
    // One long name: three fifths of the room go to its end (extensions, versions).
    let room = width - 1;
    let tail_room = room * 3 / 5;
    let head = cut_to(text.chars(), room - tail_room);
    let mut tail: Vec<char> = cut_to(text.chars().rev(), tail_room).chars().collect();
    tail.reverse();
    format!("{head}…{}", tail.into_iter().collect::<String>())
}

/// Column widths for a table `total` columns wide with a one-column gap between columns:
/// each column as wide as it `want`s when they all fit; otherwise the widest is narrowed, one
/// column at a time, never below its `min`.
pub fn columns(total: usize, want: &[usize], min: &[usize]) -> Vec<usize> {
    let room = total.saturating_sub(want.len().saturating_sub(1));
    let mut widths = want.to_vec();
    while widths.iter().sum::<usize>() > room {
        let Some(i) = (0..widths.len())
            .filter(|&i| widths[i] > min.get(i).copied().unwrap_or(0))
            .max_by_key(|&i| widths[i])
        else {
            break;
        };
        widths[i] -= 1;
    }
    widths
}

/// The display width of the widest of `cells`.
pub fn widest<'a>(cells: impl IntoIterator<Item = &'a str>) -> usize {
    cells
        .into_iter()
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

fn cut_to(chars: impl Iterator<Item = char>, room: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in chars {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    out
}

/// Lays `items` out in lines of at most `width` columns, `sep` between items on a line. An
/// item that does not fit the rest of a line starts the next one whole; one wider than a
/// whole line is cut with `…`.
pub fn units(items: Vec<Vec<Span<'static>>>, sep: &str, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for item in items {
        let w: usize = item.iter().map(|s| s.content.width()).sum();
        let gap = if line.is_empty() { 0 } else { sep.width() };
        if !line.is_empty() && used + gap + w > width {
            lines.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        } else if gap > 0 {
            line.push(Span::raw(sep.to_owned()));
            used += gap;
        }
        if w > width {
            line.extend(cut_spans(item, width));
            used = width;
        } else {
            line.extend(item);
            used += w;
        }
    }
    if !line.is_empty() {
        lines.push(Line::from(line));
    }
    lines
}

/// Spans cut to `width` columns in all, the last one ending in `…`.
fn cut_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut left = width;
    for span in spans {
        let w = span.content.width();
        if w < left {
            left -= w;
            out.push(span);
        } else {
            out.push(Span::styled(cut(&span.content, left), span.style));
            break;
        }
    }
    out
}

/// `text` broken into lines of at most `width` columns at spaces; a word longer than a line
/// is broken inside (a URL, a path), never lost.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let gap = usize::from(!line.is_empty());
        if line.width() + gap + word.width() <= width {
            if gap == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while rest.width() > width {
            let head = cut_to(rest.chars(), width);
            if head.is_empty() {
                break;
            }
            rest = &rest[head.len()..];
            lines.push(head);
        }
        line.push_str(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_marks_what_went() {
        assert_eq!(cut("promote", 10), "promote");
        assert_eq!(cut("promote-full", 8), "promote…");
        assert_eq!(cut("环境环境", 5), "环境…");
        assert_eq!(cut("abc", 0), "");
    }

    #[test]
    fn words_wrap_whole_and_long_ones_break() {
        assert_eq!(
            wrap_words("release stg failed: no answer", 12),
            ["release stg", "failed: no", "answer"]
        );
        assert_eq!(
            wrap_words("https://example.com/a/b", 10),
            ["https://ex", "ample.com/", "a/b"]
        );
        assert_eq!(wrap_words("", 10), [""]);
    }

    #[test]
    fn columns_narrow_the_widest_first() {
        assert_eq!(columns(40, &[10, 6, 10], &[4, 6, 4]), [10, 6, 10]);
        assert_eq!(columns(20, &[20, 6, 10], &[4, 6, 4]), [6, 6, 6]);
        assert_eq!(
            columns(5, &[20, 6], &[4, 6]),
            [4, 6],
            "never below the minimum"
        );
    }

    #[test]
    fn paths_keep_both_ends() {
        assert_eq!(
            elide_middle("secrets/miker-web/prod/secret.enc.yaml", 30),
            "secrets/…/prod/secret.enc.yaml"
        );
        assert_eq!(
            elide_middle("secrets/miker-web/prod/secret.enc.yaml", 24),
            "…/prod/secret.enc.yaml"
        );
        let p = "secrets/miker-web/production/database.enc.yaml";
        let short = elide_middle(p, 30);
        assert!(short.width() <= 30, "{short}");
        assert!(short.ends_with("production/database.enc.yaml"), "{short}");
        assert!(short.contains('…'));
        assert_eq!(elide_middle("a/b.yaml", 30), "a/b.yaml");
    }

    #[test]
    fn items_move_to_the_next_line_whole() {
        let item = |t: &str| vec![Span::raw(t.to_owned())];
        let lines = units(
            vec![item("✔ lint 30s"), item("✔ test 2m10s"), item("✖ scan")],
            "  ",
            24,
        );
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["✔ lint 30s  ✔ test 2m10s", "✖ scan"]);
        let lines = units(vec![item("a very long item that cannot fit")], "  ", 10);
        assert_eq!(lines[0].to_string(), "a very lo…");
    }
}

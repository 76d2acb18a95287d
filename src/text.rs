//! Text helpers shared by everything that keeps or shows words from outside
//! (status pages, error bodies) or shows words to people (the tray, the
//! notifications, error messages handed to gateway clients): cut to a
//! length, and with control characters escaped so that a page cannot move
//! the terminal's cursor, change its colours or forge log lines with a
//! newline.
//!
//! Left out: HTML escaping (the dashboard sets `textContent`) and desktop
//! notification markup (`notify::desktop`).

use std::borrow::Cow;

/// `text` in at most `max` characters (not bytes, so never inside a UTF-8
/// sequence), the last being "…" when anything was cut; the kept part loses
/// its trailing whitespace so the ellipsis never follows a space.
pub(crate) fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// `s` with every control character (C0, DEL, C1: ESC, CR, LF, tab, ...)
/// written as a visible escape (`\u{1b}`), so it prints on one line and
/// cannot drive the terminal. Borrowed when there is nothing to escape.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_by_characters_and_marks_the_cut() {
        assert_eq!(ellipsize("short", 5), "short");
        assert_eq!(ellipsize("exactly six", 6), "exact…");
        assert_eq!(ellipsize("ab cd", 4), "ab…");
        assert_eq!(ellipsize("ééééé", 3), "éé…");
        assert_eq!(ellipsize("abc", 0), "…");
        assert_eq!(ellipsize("héllo", 10), "héllo");
        assert_eq!(ellipsize("héllo", 3), "hé…");
        assert_eq!(ellipsize("日本語テキスト", 4), "日本語…");
    }

    #[test]
    fn status_text_escape_sequences_are_escaped() {
        let hostile = "Elevated errors\u{1b}[2J\u{1b}]0;pwned\u{7}\n2026-01-01 INFO forged\r\u{9b}31m";
        let safe = escape_control(hostile);
        assert!(!safe.chars().any(char::is_control), "{safe}");
        assert!(safe.contains("Elevated errors\\u{1b}[2J"), "{safe}");
        assert!(safe.contains("\\nforged") || safe.contains("\\n2026"), "{safe}");
        assert!(matches!(
            escape_control("All Systems Operational"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_control("tab\there"), "tab\\there");
    }
}

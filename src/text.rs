//! Text from outside (status pages, error bodies) made safe to keep and to
//! print: cut to a length, and with control characters escaped so that a
//! page cannot move the terminal's cursor, change its colours or forge log
//! lines with a newline.
//!
//! Left out: HTML escaping (the dashboard sets `textContent`) and desktop
//! notification markup (`notify::desktop`).

use std::borrow::Cow;

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..end])
        }
    }
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
    fn truncates_on_character_boundaries() {
        assert_eq!(truncate_chars("héllo", 10), "héllo");
        assert_eq!(truncate_chars("héllo", 5), "héllo");
        assert_eq!(truncate_chars("héllo", 3), "hé…");
        assert_eq!(truncate_chars("日本語テキスト", 4), "日本語…");
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

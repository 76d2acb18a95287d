//! Text helpers shared by everything that shows words to people: the tray,
//! the notifications, error messages handed to gateway clients.

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

#[cfg(test)]
mod tests {
    use super::ellipsize;

    #[test]
    fn cuts_by_characters_and_marks_the_cut() {
        assert_eq!(ellipsize("short", 5), "short");
        assert_eq!(ellipsize("exactly six", 6), "exact…");
        assert_eq!(ellipsize("ab cd", 4), "ab…");
        assert_eq!(ellipsize("ééééé", 3), "éé…");
        assert_eq!(ellipsize("abc", 0), "…");
    }
}

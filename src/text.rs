//! Bounds on text that fastx402 did not write: revert strings and custom-error
//! data from contracts, error messages and odd answers from JSON-RPC nodes.
//! Such text is attacker-controlled (a payer's wallet chooses its own revert
//! string) and may be any length, any bytes. It reaches answers
//! (`invalidMessage`, `errorMessage`), exception messages and logs only through
//! [`bounded`] / [`bounded_hex`], which keep at most [`CHAIN_TEXT_MAX_BYTES`]
//! bytes of it:
//!
//! * cut at a UTF-8 character boundary (never inside a character), then
//!   [`ELLIPSIS`] and the full size, e.g. `AAAA… [10240 bytes]`;
//! * control characters and other unprintable ones (C0, DEL, C1, bidi
//!   overrides, line separators, unassigned…) written as Rust escapes
//!   (`\n`, `\u{1b}`, `\u{202e}`), counted in the budget as written;
//! * bytes (not text) as `0x` + hex of their first bytes.
//!
//! Whole messages are bounded again where they leave the core
//! ([`MESSAGE_MAX_BYTES`]): a message is the facilitator's own words around
//! one or two bounded texts.

use std::fmt::{self, Write as _};

/// The most bytes of one chain- or node-provided text kept in a message (before
/// the ellipsis marker and size suffix).
pub const CHAIN_TEXT_MAX_BYTES: usize = 256;

/// The most bytes of a whole message (`invalidMessage`, `errorMessage`, an
/// exception's message) built around chain text (before the ellipsis marker
/// and size suffix).
pub const MESSAGE_MAX_BYTES: usize = 1024;

/// What marks a cut: the text went on.
pub const ELLIPSIS: &str = "…";

/// `text`, displayed within [`CHAIN_TEXT_MAX_BYTES`] (see the module docs).
pub fn bounded(text: &str) -> Bounded<'_> {
    bounded_to(text, CHAIN_TEXT_MAX_BYTES)
}

/// `text`, displayed within `max` bytes (see the module docs).
pub fn bounded_to(text: &str, max: usize) -> Bounded<'_> {
    Bounded { text, max }
}

/// `bytes` as `0x`-hex, displayed within [`CHAIN_TEXT_MAX_BYTES`].
pub fn bounded_hex(bytes: &[u8]) -> BoundedHex<'_> {
    BoundedHex {
        bytes,
        max: CHAIN_TEXT_MAX_BYTES,
    }
}

/// `text` within `max` bytes as an owned `String`.
pub fn clamp(text: &str, max: usize) -> String {
    bounded_to(text, max).to_string()
}

/// Whether `text` already is what [`bounded_to`] would display.
pub fn is_bounded(text: &str, max: usize) -> bool {
    text.len() <= max && !text.chars().any(needs_escape)
}

/// See [`bounded`].
#[derive(Clone, Copy, Debug)]
pub struct Bounded<'a> {
    text: &'a str,
    max: usize,
}

/// See [`bounded_hex`].
#[derive(Clone, Copy, Debug)]
pub struct BoundedHex<'a> {
    bytes: &'a [u8],
    max: usize,
}

/// Unprintable: Rust's `char::escape_debug` escapes it (control, format,
/// separators other than the space, unassigned, private use, combining marks);
/// quotes and backslashes are printable and written as they are.
fn needs_escape(c: char) -> bool {
    !matches!(c, '"' | '\'' | '\\') && c.escape_debug().len() > 1
}

impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut used = 0;
        let mut escaped = String::new();
        for c in self.text.chars() {
            escaped.clear();
            if needs_escape(c) {
                // `\u{…}` or `\n`: ASCII, at most 10 bytes.
                let _ = write!(escaped, "{}", c.escape_debug());
            } else {
                escaped.push(c);
            }
            if used + escaped.len() > self.max {
                return write!(f, "{ELLIPSIS} [{} bytes]", self.text.len());
            }
            used += escaped.len();
            f.write_str(&escaped)?;
        }
        Ok(())
    }
}

impl fmt::Display for BoundedHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "0x" + 2 digits a byte.
        let fits = self.max.saturating_sub(2) / 2;
        f.write_str("0x")?;
        for b in self.bytes.iter().take(fits) {
            write!(f, "{b:02x}")?;
        }
        if self.bytes.len() > fits {
            write!(f, "{ELLIPSIS} [{} bytes]", self.bytes.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The displayed text within `max` + the marker and its size suffix.
    fn within(shown: &str, max: usize, len: usize) {
        let suffix = format!("{ELLIPSIS} [{len} bytes]");
        assert!(shown.len() <= max + suffix.len(), "{} bytes", shown.len());
    }

    #[test]
    fn short_printable_text_is_unchanged() {
        for s in [
            "",
            "x",
            "FiatTokenV2: invalid signature",
            "héllo wörld — ✓ 😀 \"q\" \\",
        ] {
            assert_eq!(bounded(s).to_string(), s);
            assert!(is_bounded(s, CHAIN_TEXT_MAX_BYTES));
        }
        let exact = "a".repeat(CHAIN_TEXT_MAX_BYTES);
        assert_eq!(bounded(&exact).to_string(), exact);
    }

    #[test]
    fn long_ascii_is_cut_with_marker_and_size() {
        let long = "A".repeat(10 * 1024);
        let shown = bounded(&long).to_string();
        assert_eq!(
            shown,
            format!("{}… [10240 bytes]", "A".repeat(CHAIN_TEXT_MAX_BYTES))
        );
        assert!(!is_bounded(&long, CHAIN_TEXT_MAX_BYTES));
    }

    #[test]
    fn cut_never_falls_inside_a_character() {
        // Every alignment of 1..4-byte characters against the limit.
        for prefix in 0..4 {
            for ch in ["é", "€", "😀"] {
                let s = format!("{}{}", "x".repeat(prefix), ch.repeat(5000));
                let shown = bounded(&s).to_string();
                within(&shown, CHAIN_TEXT_MAX_BYTES, s.len());
                let kept = shown.split(ELLIPSIS).next().unwrap();
                assert!(kept.len() <= CHAIN_TEXT_MAX_BYTES);
                assert!(
                    kept.len() + ch.len() > CHAIN_TEXT_MAX_BYTES,
                    "cut too early"
                );
                assert!(s.starts_with(kept));
            }
        }
    }

    #[test]
    fn control_and_unprintable_characters_are_escaped() {
        let s = "a\x1b[31m\r\n\0\x7f\u{85}\u{202e}\u{2028}\u{200b}b";
        let shown = bounded(s).to_string();
        assert_eq!(
            shown,
            "a\\u{1b}[31m\\r\\n\\0\\u{7f}\\u{85}\\u{202e}\\u{2028}\\u{200b}b"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
        assert!(!is_bounded(s, 1000));
        // Escapes count as written: 300 ESC characters are 6 bytes each shown.
        let many = "\x1b".repeat(300);
        let shown = bounded(&many).to_string();
        within(&shown, CHAIN_TEXT_MAX_BYTES, many.len());
        assert!(shown.starts_with(&"\\u{1b}".repeat(CHAIN_TEXT_MAX_BYTES / 6)));
    }

    #[test]
    fn bounded_to_other_limits() {
        assert_eq!(bounded_to("abcdef", 3).to_string(), "abc… [6 bytes]");
        assert_eq!(bounded_to("abcdef", 0).to_string(), "… [6 bytes]");
        assert_eq!(clamp("abc", 3), "abc");
        let long = "é".repeat(2000);
        let shown = clamp(&long, MESSAGE_MAX_BYTES);
        within(&shown, MESSAGE_MAX_BYTES, long.len());
    }

    #[test]
    fn bytes_are_hex_with_a_bound() {
        assert_eq!(bounded_hex(&[]).to_string(), "0x");
        assert_eq!(bounded_hex(&[0xde, 0xad]).to_string(), "0xdead");
        let long = vec![0xab; 10 * 1024];
        let shown = bounded_hex(&long).to_string();
        assert_eq!(shown, format!("0x{}… [10240 bytes]", "ab".repeat(127)));
        within(&shown, CHAIN_TEXT_MAX_BYTES, long.len());
    }
}

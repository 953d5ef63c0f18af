//! A small line editor (chat input, filter, command line, form fields): a string and a
//! cursor on a character boundary.

/// One editing step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Insert a character at the cursor.
    Insert(char),
    /// Insert a line break (multi-line inputs only).
    Newline,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Delete the word before the cursor (Ctrl-W).
    DeleteWord,
    /// Delete everything before the cursor (Ctrl-U).
    DeleteToStart,
    /// Cursor one character left.
    Left,
    /// Cursor one character right.
    Right,
    /// Cursor to the start of the line.
    Home,
    /// Cursor to the end of the line.
    End,
    /// Insert pasted text.
    Paste(String),
}

/// Editable text with a cursor (a byte offset on a char boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Editor {
    text: String,
    cursor: usize,
    multiline: bool,
    limit: usize,
}

impl Editor {
    /// A single-line editor holding at most `limit` bytes.
    pub fn line(limit: usize) -> Editor {
        Editor {
            limit,
            ..Editor::default()
        }
    }

    /// A multi-line editor holding at most `limit` bytes.
    pub fn multiline(limit: usize) -> Editor {
        Editor {
            multiline: true,
            limit,
            ..Editor::default()
        }
    }

    /// A single-line editor with text already in it (cursor at the end).
    pub fn with_text(text: &str, limit: usize) -> Editor {
        let mut editor = Editor::line(limit);
        editor.apply(&Edit::Paste(text.to_owned()));
        editor
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a byte offset into [`text`](Self::text).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// True when there is no text.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Takes the text out, leaving the editor empty.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Empties the editor.
    pub fn clear(&mut self) {
        self.take();
    }

    /// Applies one edit; returns false when it changed nothing (e.g. past the limit).
    pub fn apply(&mut self, edit: &Edit) -> bool {
        match edit {
            Edit::Insert(c) => self.insert(*c),
            Edit::Newline if self.multiline => self.insert('\n'),
            Edit::Newline => false,
            Edit::Paste(text) => {
                let mut changed = false;
                for c in text.chars() {
                    let c = if c == '\r' { continue } else { c };
                    let c = if c == '\n' && !self.multiline { ' ' } else { c };
                    changed |= self.insert(c);
                }
                changed
            }
            Edit::Backspace => match self.text[..self.cursor].chars().next_back() {
                Some(c) => {
                    self.cursor -= c.len_utf8();
                    self.text.remove(self.cursor);
                    true
                }
                None => false,
            },
            Edit::Delete => {
                if self.cursor < self.text.len() {
                    self.text.remove(self.cursor);
                    true
                } else {
                    false
                }
            }
            Edit::DeleteWord => {
                let before = &self.text[..self.cursor];
                let trimmed = before.trim_end();
                let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
                    i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
                });
                if start == self.cursor {
                    return false;
                }
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
                true
            }
            Edit::DeleteToStart => {
                let start = self.line_start();
                if start == self.cursor {
                    return false;
                }
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
                true
            }
            Edit::Left => match self.text[..self.cursor].chars().next_back() {
                Some(c) => {
                    self.cursor -= c.len_utf8();
                    true
                }
                None => false,
            },
            Edit::Right => match self.text[self.cursor..].chars().next() {
                Some(c) => {
                    self.cursor += c.len_utf8();
                    true
                }
                None => false,
            },
            Edit::Home => {
                let start = self.line_start();
                std::mem::replace(&mut self.cursor, start) != start
            }
            Edit::End => {
                let end = self.text[self.cursor..]
                    .find('\n')
                    .map_or(self.text.len(), |i| self.cursor + i);
                std::mem::replace(&mut self.cursor, end) != end
            }
        }
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn insert(&mut self, c: char) -> bool {
        if c.is_control() && c != '\n' && c != '\t' {
            return false;
        }
        if self.text.len() + c.len_utf8() > self.limit {
            return false;
        }
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Editor {
        let mut editor = Editor::multiline(64);
        for c in text.chars() {
            editor.apply(&Edit::Insert(c));
        }
        editor
    }

    #[test]
    fn typing_moving_and_deleting_keep_char_boundaries() {
        let mut editor = typed("héllo wörld");
        assert!(editor.apply(&Edit::Left));
        assert!(editor.apply(&Edit::Backspace));
        assert_eq!(editor.text(), "héllo wörd");
        assert!(editor.apply(&Edit::Home));
        assert!(editor.apply(&Edit::Delete));
        assert_eq!(editor.text(), "éllo wörd");
        assert!(editor.apply(&Edit::End));
        assert!(editor.apply(&Edit::DeleteWord));
        assert_eq!(editor.text(), "éllo ");
        assert!(!editor.apply(&Edit::Right));
    }

    #[test]
    fn newlines_only_in_multiline_and_the_limit_holds() {
        let mut line = Editor::line(4);
        assert!(!line.apply(&Edit::Newline));
        line.apply(&Edit::Paste("ab\ncdef".into()));
        assert_eq!(line.text(), "ab c");
        let mut multi = typed("one");
        multi.apply(&Edit::Newline);
        multi.apply(&Edit::Insert('2'));
        assert_eq!(multi.text(), "one\n2");
        assert!(multi.apply(&Edit::DeleteToStart));
        assert_eq!(multi.text(), "one\n");
        assert!(
            !multi.apply(&Edit::Insert('\u{7}')),
            "control characters are refused"
        );
    }
}

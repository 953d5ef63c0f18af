//! Colours by role, in the richest palette the terminal has: 24-bit where `COLORTERM`
//! says so, the 256-colour cube where `TERM` says so, else the 16 ANSI colours; none
//! at all with `NO_COLOR`, `--no-color` or `TERM=dumb` (then only bold, dim and
//! reverse remain).

use ratatui::style::{Color, Modifier, Style};

/// Which colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Palette {
    /// No colour: bold, dim and reverse only.
    None,
    /// The 16 ANSI colours (every colour terminal has them).
    #[default]
    Ansi16,
    /// The xterm 256-colour palette.
    Ansi256,
    /// 24-bit RGB.
    TrueColor,
}

impl Palette {
    /// The palette for a terminal, from `--no-color` and the environment (`lookup`
    /// reads a variable; the program passes `std::env::var`, tests a table).
    pub fn detect(no_color: bool, lookup: impl Fn(&str) -> Option<String>) -> Palette {
        let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
        if no_color || set("NO_COLOR").is_some() {
            return Palette::None;
        }
        let term = set("TERM").unwrap_or_default().to_lowercase();
        if term == "dumb" {
            return Palette::None;
        }
        let colorterm = set("COLORTERM").unwrap_or_default().to_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            Palette::TrueColor
        } else if term.contains("256color") {
            Palette::Ansi256
        } else {
            Palette::Ansi16
        }
    }
}

/// One colour per role, in each palette: accent, dim, error, ok, warn, me, them.
#[derive(Debug, Clone, Copy)]
struct Roles {
    accent: Color,
    dim: Color,
    error: Color,
    ok: Color,
    warn: Color,
    me: Color,
    them: Color,
}

const ANSI16: Roles = Roles {
    accent: Color::Cyan,
    dim: Color::DarkGray,
    error: Color::Red,
    ok: Color::Green,
    warn: Color::Yellow,
    me: Color::Cyan,
    them: Color::Magenta,
};

const ANSI256: Roles = Roles {
    accent: Color::Indexed(81),
    dim: Color::Indexed(245),
    error: Color::Indexed(203),
    ok: Color::Indexed(114),
    warn: Color::Indexed(221),
    me: Color::Indexed(75),
    them: Color::Indexed(176),
};

const TRUECOLOR: Roles = Roles {
    accent: Color::Rgb(0x5f, 0xd7, 0xff),
    dim: Color::Rgb(0x8a, 0x8a, 0x8a),
    error: Color::Rgb(0xff, 0x5f, 0x5f),
    ok: Color::Rgb(0x87, 0xd7, 0x87),
    warn: Color::Rgb(0xff, 0xd7, 0x5f),
    me: Color::Rgb(0x5f, 0xaf, 0xff),
    them: Color::Rgb(0xd7, 0x87, 0xd7),
};

/// Styles by role for one palette.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    roles: Option<Roles>,
}

impl Theme {
    /// The theme for a palette.
    pub fn new(palette: Palette) -> Theme {
        Theme {
            roles: match palette {
                Palette::None => None,
                Palette::Ansi16 => Some(ANSI16),
                Palette::Ansi256 => Some(ANSI256),
                Palette::TrueColor => Some(TRUECOLOR),
            },
        }
    }

    fn fg(self, role: impl Fn(&Roles) -> Color) -> Style {
        match &self.roles {
            Some(roles) => Style::new().fg(role(roles)),
            None => Style::new(),
        }
    }

    /// Headings and focus.
    pub fn accent(self) -> Style {
        self.fg(|r| r.accent).add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn dim(self) -> Style {
        match &self.roles {
            Some(roles) => Style::new().fg(roles.dim),
            None => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// Failures.
    pub fn error(self) -> Style {
        self.fg(|r| r.error).add_modifier(Modifier::BOLD)
    }

    /// Success.
    pub fn ok(self) -> Style {
        self.fg(|r| r.ok)
    }

    /// In-progress.
    pub fn warn(self) -> Style {
        self.fg(|r| r.warn)
    }

    /// Our own messages.
    pub fn me(self) -> Style {
        self.fg(|r| r.me)
    }

    /// Other people's names.
    pub fn them(self) -> Style {
        self.fg(|r| r.them).add_modifier(Modifier::BOLD)
    }

    /// The selected row.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// A pane's border, focused or not.
    pub fn border(self, focused: bool) -> Style {
        if focused { self.accent() } else { self.dim() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(no_color: bool, vars: &[(&str, &str)]) -> Palette {
        Palette::detect(no_color, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_palette_follows_colorterm_term_and_no_color() {
        let xterm = ("TERM", "xterm-256color");
        assert_eq!(
            detect(false, &[xterm, ("COLORTERM", "truecolor")]),
            Palette::TrueColor
        );
        assert_eq!(
            detect(false, &[("TERM", "xterm"), ("COLORTERM", "24bit")]),
            Palette::TrueColor
        );
        assert_eq!(detect(false, &[xterm]), Palette::Ansi256);
        assert_eq!(
            detect(false, &[xterm, ("COLORTERM", "yes")]),
            Palette::Ansi256,
            "only truecolor/24bit mean 24-bit"
        );
        assert_eq!(detect(false, &[("TERM", "xterm")]), Palette::Ansi16);
        assert_eq!(detect(false, &[("TERM", "linux")]), Palette::Ansi16);
        assert_eq!(detect(false, &[]), Palette::Ansi16);
        assert_eq!(detect(false, &[("TERM", "dumb")]), Palette::None);
        assert_eq!(
            detect(
                false,
                &[xterm, ("COLORTERM", "truecolor"), ("NO_COLOR", "1")]
            ),
            Palette::None
        );
        assert_eq!(
            detect(false, &[xterm, ("NO_COLOR", "")]),
            Palette::Ansi256,
            "an empty NO_COLOR does not count (no-color.org)"
        );
        assert_eq!(
            detect(true, &[xterm, ("COLORTERM", "truecolor")]),
            Palette::None
        );
    }

    #[test]
    fn each_palette_uses_only_its_own_kind_of_colour() {
        let kinds = |palette: Palette| {
            let theme = Theme::new(palette);
            [
                theme.accent(),
                theme.dim(),
                theme.error(),
                theme.ok(),
                theme.warn(),
                theme.me(),
                theme.them(),
            ]
            .map(|style| style.fg)
        };
        assert!(kinds(Palette::None).iter().all(Option::is_none));
        assert!(
            kinds(Palette::Ansi16)
                .iter()
                .all(|c| !matches!(c, None | Some(Color::Rgb(..) | Color::Indexed(_))))
        );
        assert!(
            kinds(Palette::Ansi256)
                .iter()
                .all(|c| matches!(c, Some(Color::Indexed(_))))
        );
        assert!(
            kinds(Palette::TrueColor)
                .iter()
                .all(|c| matches!(c, Some(Color::Rgb(..))))
        );
    }
}

//! The TOML settings file of `--config FILE`, for `imsload <scenario>` (scenario_file.rs)
//! and `imsload benchmark` (benchmark/config.rs): read, parsed into the caller's struct
//! (which refuses unknown keys), and an error that names the file and the line.

use std::path::Path;
use std::time::Duration;

/// A settings file that cannot be used (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("--config {path}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct FileError {
    /// The file as given.
    pub path: String,
    /// The line the problem is on, from 1, when the parser knows it.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl FileError {
    /// A problem with the file as a whole (not on one line).
    pub fn whole(path: &Path, message: String) -> FileError {
        FileError {
            path: path.display().to_string(),
            line: None,
            message,
        }
    }
}

/// Reads `path` and parses it into `T`.
pub fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError::whole(path, e.to_string()))?;
    toml::from_str(&text).map_err(|error: toml::de::Error| FileError {
        path: path.display().to_string(),
        line: error.span().map(|span| line_of(&text, span.start)),
        message: error.message().trim_end().to_owned(),
    })
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.bytes().filter(|&b| b == b'\n').count() + 1
}

/// A time in the file: a string such as `"500ms"`, `"10s"`, `"5m"`, or a number of
/// seconds (`serde(deserialize_with)` for an `Option<Duration>` field).
pub fn duration<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    struct Time;
    impl serde::de::Visitor<'_> for Time {
        type Value = Duration;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a time such as \"500ms\", \"10s\", \"5m\", \"1h\" or a number of seconds")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
            crate::cli::parse_duration(text).map_err(E::custom)
        }
        fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<Duration, E> {
            self.visit_str(&seconds.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<Duration, E> {
            self.visit_str(&seconds.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, seconds: f64) -> Result<Duration, E> {
            self.visit_str(&seconds.to_string())
        }
    }
    deserializer.deserialize_any(Time).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        rate: Option<f64>,
        #[serde(default, deserialize_with = "duration")]
        wait: Option<Duration>,
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(&path, "rate = 5\nwait = \"2s\"\n").unwrap();
        let sample: Sample = read(&path).unwrap();
        assert_eq!(sample.rate, Some(5.0));
        assert_eq!(sample.wait, Some(Duration::from_secs(2)));
        std::fs::write(&path, "wait = 1.5\n").unwrap();
        let sample: Sample = read(&path).unwrap();
        assert_eq!(sample.wait, Some(Duration::from_millis(1500)));
        for (text, needle) in [
            (
                "rate = 5\n\nrates = 6\n",
                "run.toml:3: unknown field `rates`",
            ),
            (
                "rate = \"fast\"\n",
                "run.toml:1: invalid type: string \"fast\"",
            ),
            ("\nwait = \"5 parsecs\"\n", "run.toml:2: unknown time unit"),
            ("rate = \n", "run.toml:1: "),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = read::<Sample>(&path).unwrap_err().to_string();
            assert!(error.contains(needle), "{text:?}: {error}");
            assert!(error.starts_with("--config "), "{error}");
        }
        let error = read::<Sample>(&dir.path().join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("none.toml: "), "{error}");
    }
}

//! The configured accounts, which one runs, and saving one back into the config file.
//! An account given on the command line (`--aor`) comes first and lives in no file
//! until it is saved.

use std::path::PathBuf;

use anyhow::Context;
use ims_core::auth::Secret;
use ims_core::config::{AccountSettings, Config};

use crate::action::Action;
use crate::settings::{AccountEdit, AccountSummary};

/// The accounts and where they are kept.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// The config: engine settings and every account (a command-line one first).
    pub config: Config,
    /// The account in use.
    pub active: usize,
    /// The config file (`None`: started from the command line alone; saving writes
    /// the default file).
    pub path: Option<PathBuf>,
    /// `config.accounts[0]` came from the command line, not from the file.
    pub command_line: bool,
    /// The message store, for the Account screen.
    pub store_path: PathBuf,
    /// The log file, for the Account screen.
    pub log_file: Option<PathBuf>,
}

impl Accounts {
    /// The account in use.
    pub fn active(&self) -> Option<&AccountSettings> {
        self.config.accounts.get(self.active)
    }

    /// What the Account screen shows.
    pub fn view(&self) -> Action {
        Action::Accounts {
            accounts: self
                .config
                .accounts
                .iter()
                .map(AccountSummary::of)
                .collect(),
            active: self.active,
            paths: crate::settings::paths(
                self.path.as_deref(),
                &self.store_path,
                self.log_file.as_deref(),
            ),
        }
    }

    /// Saves account `index` of the list (`None`: a new one) into the config file and
    /// reads the file back; returns the account's index in the new list.
    pub fn save(&mut self, index: Option<usize>, edit: &AccountEdit) -> anyhow::Result<usize> {
        let path = match &self.path {
            Some(path) => path.clone(),
            None => crate::settings::default_config_path()
                .context("no config file, and no HOME to put one in")?,
        };
        let offset = usize::from(self.command_line);
        let from_command_line = self.command_line && index == Some(0);
        let mut edit = edit.clone();
        if from_command_line
            && edit.password.is_none()
            && let Some(account) = self.config.accounts.first()
        {
            // Not in the file yet: "keep" means the password it runs with.
            edit.password = Some(Secret::new(account.password.as_str()));
        }
        let file_index = match index {
            Some(index) if index >= offset => Some(index - offset),
            _ => None,
        };
        let (file, saved) = crate::settings::save_account(&path, file_index, &edit)?;
        tracing::info!(path = %path.display(), account = %edit.aor, "account saved");
        self.path = Some(path);
        let list_index = if from_command_line {
            // It lives in the file now: the file's accounts are the list.
            self.command_line = false;
            if self.active == 0 {
                self.active = saved;
            } else {
                self.active -= 1;
            }
            self.config = file;
            saved
        } else {
            let mut config = file;
            if self.command_line
                && let Some(account) = self.config.accounts.first()
            {
                config.accounts.insert(0, account.clone());
            }
            self.config = config;
            saved + offset
        };
        self.active = self
            .active
            .min(self.config.accounts.len().saturating_sub(1));
        Ok(list_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(dir: &std::path::Path, file: &str, command_line: Option<&str>) -> Accounts {
        let path = dir.join("imsphone.toml");
        std::fs::write(&path, file).expect("write");
        let mut config = Config::from_toml(file).expect("config");
        if let Some(aor) = command_line {
            let text = format!("[[accounts]]\naor = {aor:?}\npassword = \"cli-pw\"\n");
            let extra = Config::from_toml(&text).expect("cli").accounts;
            config.accounts.splice(0..0, extra);
        }
        Accounts {
            config,
            active: 0,
            path: Some(path),
            command_line: command_line.is_some(),
            store_path: dir.join("store"),
            log_file: None,
        }
    }

    fn edit(aor: &str) -> AccountEdit {
        AccountEdit {
            aor: aor.into(),
            proxy: "127.0.0.1:5060".into(),
            ..AccountEdit::default()
        }
    }

    const FILE: &str =
        "# my phone\n[[accounts]]\naor = \"sip:a@x\"\npassword = \"pa\"\nproxy = \"127.0.0.1\"\n";

    #[test]
    fn a_command_line_account_saved_joins_the_file_with_its_password() {
        let dir = tempfile::tempdir().expect("dir");
        let mut accounts = accounts(dir.path(), FILE, Some("sip:cli@x"));
        assert_eq!(accounts.active().map(|a| a.aor.as_str()), Some("sip:cli@x"));
        let index = accounts.save(Some(0), &edit("sip:cli@x")).expect("saved");
        assert!(!accounts.command_line);
        assert_eq!(index, 1, "added after the file's account");
        assert_eq!(accounts.active, 1, "still the one in use");
        let active = accounts.active().expect("active");
        assert_eq!(
            (active.aor.as_str(), active.password.as_str()),
            ("sip:cli@x", "cli-pw")
        );
        let text = std::fs::read_to_string(dir.path().join("imsphone.toml")).expect("read");
        assert!(text.starts_with("# my phone\n"), "{text}");
    }

    #[test]
    fn a_file_account_saved_keeps_the_command_line_one_first() {
        let dir = tempfile::tempdir().expect("dir");
        let mut accounts = accounts(dir.path(), FILE, Some("sip:cli@x"));
        let index = accounts.save(Some(1), &edit("sip:a2@x")).expect("saved");
        assert_eq!(index, 1);
        let aors: Vec<&str> = accounts
            .config
            .accounts
            .iter()
            .map(|a| a.aor.as_str())
            .collect();
        assert_eq!(aors, ["sip:cli@x", "sip:a2@x"]);
        assert_eq!(accounts.config.accounts[1].password, "pa", "kept");
        let index = accounts.save(None, &edit("sip:new@x")).expect("added");
        assert_eq!(index, 2);
        assert_eq!(accounts.config.accounts.len(), 3);
        let Action::Accounts {
            accounts: shown,
            active,
            ..
        } = accounts.view()
        else {
            panic!("accounts view");
        };
        assert_eq!((shown.len(), active), (3, 0));
    }
}

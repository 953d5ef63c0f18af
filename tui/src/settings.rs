//! Where imsphone keeps things, and reading its config file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ims_core::auth::Secret;
use ims_core::config::{AccountSettings, Config};

/// `$XDG_CONFIG_HOME/ims-rs/imsphone.toml`, else `~/.config/ims-rs/imsphone.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("ims-rs").join("imsphone.toml"))
}

/// An example config for the first-run message.
pub const EXAMPLE: &str = r#"[[accounts]]
aor = "sip:alice@ims.test"
password = "ims-demo"
proxy = "127.0.0.1:5060"   # leave out to find the P-CSCF in DNS
# transport = "tcp"
# [accounts.ims]           # IMS AKA: k = "...", opc = "..."
"#;

/// Writes a config file holding one account, readable by its owner only (mode 0600),
/// creating its folder; refuses to overwrite an existing file.
pub fn write_account(
    path: &Path,
    aor: &str,
    password: &str,
    proxy: &str,
    transport: &str,
) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut account = toml::Table::new();
    account.insert("aor".into(), aor.into());
    account.insert("password".into(), password.into());
    if !proxy.is_empty() {
        account.insert("proxy".into(), proxy.into());
    }
    account.insert("transport".into(), transport.into());
    let mut root = toml::Table::new();
    root.insert(
        "accounts".into(),
        toml::Value::Array(vec![toml::Value::Table(account)]),
    );
    let text = format!(
        "# imsphone's config (written by its first-run form; see `imsphone --help`)
{}",
        toml::to_string(&root)?
    );
    // Checked before writing, so a file imsphone would refuse is never left behind.
    Config::from_toml(&text).context("the account entered")?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the config file {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the config file {}", path.display()))
}

/// An account as the Account screen shows it: what is set, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountSummary {
    /// Address of record.
    pub aor: String,
    /// Private identity / auth user name (`None`: from the AOR).
    pub auth_username: Option<String>,
    /// Outbound proxy / P-CSCF (`None`: found in DNS).
    pub proxy: Option<String>,
    /// DNS server for finding the P-CSCF (`None`: the system's).
    pub dns_server: Option<String>,
    /// `udp` or `tcp` (`None`: the default).
    pub transport: Option<String>,
    /// An `[accounts.ims]` table is present.
    pub ims: bool,
    /// A password is set.
    pub has_password: bool,
    /// An AKA K is set.
    pub has_k: bool,
    /// An OP or OPc is set.
    pub has_opc: bool,
}

impl AccountSummary {
    /// The summary of a configured account.
    pub fn of(account: &AccountSettings) -> AccountSummary {
        let ims = account.ims.as_ref();
        AccountSummary {
            aor: account.aor.clone(),
            auth_username: account.auth_username.clone(),
            proxy: account.proxy.clone(),
            dns_server: account.dns_server.map(|a| a.to_string()),
            transport: account.transport.map(|t| t.to_string()),
            ims: ims.is_some(),
            has_password: !account.password.is_empty(),
            has_k: ims.is_some_and(|i| i.k.is_some()),
            has_opc: ims.is_some_and(|i| i.opc.is_some() || i.op.is_some()),
        }
    }

    /// Label and value lines for the screen, secrets shown only as set or not.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let or = |value: &Option<String>, default: &str| {
            value.clone().unwrap_or_else(|| default.to_owned())
        };
        let set = |yes: bool| if yes { "set (hidden)" } else { "(none)" }.to_owned();
        let mut lines = vec![
            ("address of record", self.aor.clone()),
            (
                "IMPI / auth user",
                or(&self.auth_username, "(from the address)"),
            ),
            ("password", set(self.has_password)),
            ("proxy / P-CSCF", or(&self.proxy, "found in DNS (RFC 3263)")),
            ("DNS server", or(&self.dns_server, "(the system's)")),
            ("transport", or(&self.transport, "(default)")),
            ("IMS", if self.ims { "on" } else { "off" }.to_owned()),
        ];
        if self.ims {
            lines.push(("K", set(self.has_k)));
            lines.push(("OPc", set(self.has_opc)));
        }
        lines
    }
}

/// An account as the settings form gives it. Secrets left empty in the form (`None`)
/// keep what the file has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountEdit {
    /// Address of record (`sip:` added by the form).
    pub aor: String,
    /// IMPI / auth user name; empty: from the AOR.
    pub auth_username: String,
    /// New password; `None` keeps the current one.
    pub password: Option<Secret>,
    /// Outbound proxy; empty: DNS.
    pub proxy: String,
    /// DNS server `ip:port`; empty: the system's.
    pub dns_server: String,
    /// `udp`, `tcp`, or empty for the default.
    pub transport: String,
    /// IMS on (an `[accounts.ims]` table) or off (none).
    pub ims: bool,
    /// New K (32 hex digits); `None` keeps the current one.
    pub k: Option<Secret>,
    /// New OPc (32 hex digits); `None` keeps the current one.
    pub opc: Option<Secret>,
}

fn secret_text(secret: &Secret) -> anyhow::Result<String> {
    String::from_utf8(secret.expose().to_vec()).context("a secret that is not UTF-8")
}

fn set_or_remove(table: &mut toml_edit::Table, key: &str, value: &str) {
    if value.is_empty() {
        table.remove(key);
    } else {
        table.insert(key, toml_edit::value(value));
    }
}

/// The config text with account `index` changed (or, with `None`, a new account added)
/// as `edit` says; comments, other keys and other accounts stay as they were. Returns
/// the text and the account's index.
pub fn edit_account(
    text: &str,
    index: Option<usize>,
    edit: &AccountEdit,
) -> anyhow::Result<(String, usize)> {
    let mut document: toml_edit::DocumentMut =
        text.parse().context("the config file is not valid TOML")?;
    if !document.contains_key("accounts") {
        document.insert(
            "accounts",
            toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()),
        );
    }
    let accounts = document
        .get_mut("accounts")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .context("`accounts` in the config file is not a list of [[accounts]] tables")?;
    let index = match index {
        Some(index) if index < accounts.len() => index,
        Some(index) => bail!("the config file has no account number {}", index + 1),
        None => {
            let mut table = toml_edit::Table::new();
            table.insert("password", toml_edit::value(""));
            accounts.push(table);
            accounts.len() - 1
        }
    };
    let table = accounts
        .get_mut(index)
        .context("the account vanished from the config")?;
    table.insert("aor", toml_edit::value(edit.aor.as_str()));
    if let Some(password) = &edit.password {
        table.insert("password", toml_edit::value(secret_text(password)?));
    }
    set_or_remove(table, "auth_username", &edit.auth_username);
    set_or_remove(table, "proxy", &edit.proxy);
    set_or_remove(table, "dns_server", &edit.dns_server);
    set_or_remove(table, "transport", &edit.transport);
    if edit.ims {
        let ims = table
            .entry("ims")
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .context("`ims` of the account is not a table")?;
        if let Some(k) = &edit.k {
            ims.insert("k", toml_edit::value(secret_text(k)?));
        }
        if let Some(opc) = &edit.opc {
            // One of OP and OPc: the OPc typed replaces either.
            ims.remove("op");
            ims.insert("opc", toml_edit::value(secret_text(opc)?));
        }
    } else {
        table.remove("ims");
    }
    Ok((document.to_string(), index))
}

/// Saves account `index` (or a new one) into the config file at `path` (created if
/// missing): checked first, then written to a file of mode 0600 beside it and moved
/// over the old one, so the file is never half-written nor readable by others.
pub fn save_account(
    path: &Path,
    index: Option<usize>,
    edit: &AccountEdit,
) -> anyhow::Result<(Config, usize)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", path.display()));
        }
    };
    let (text, index) = edit_account(&text, index, edit)?;
    let config = Config::from_toml(&text).context("the account as entered")?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok((config, index))
}

/// Reads and checks a config file; errors name the file (and the line, for TOML).
pub fn load(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    Config::from_toml(&text).with_context(|| format!("in the config file {}", path.display()))
}

/// The index of the account to use: the one whose AOR is `wanted` (with or without
/// `sip:`), or the first.
pub fn pick_index(config: &Config, wanted: Option<&str>) -> anyhow::Result<usize> {
    if config.accounts.is_empty() {
        bail!("the config file has no [[accounts]] table");
    }
    match wanted {
        None => Ok(0),
        Some(wanted) => config
            .accounts
            .iter()
            .position(|a| a.aor == wanted || crate::text::short_aor(&a.aor) == wanted)
            .with_context(|| {
                let known: Vec<&str> = config.accounts.iter().map(|a| a.aor.as_str()).collect();
                format!(
                    "no account {wanted} in the config (it has {})",
                    known.join(", ")
                )
            }),
    }
}

/// The account to use (see [`pick_index`]), taken out of the config.
pub fn pick_account(config: &mut Config, wanted: Option<&str>) -> anyhow::Result<AccountSettings> {
    let index = pick_index(config, wanted)?;
    Ok(config.accounts.remove(index))
}

/// Where things are, for the Account screen.
pub fn paths(config: Option<&Path>, store: &Path, log: Option<&Path>) -> Vec<(String, String)> {
    vec![
        (
            "config file".into(),
            config.map_or_else(
                || "(none: command line; saving writes the default file)".into(),
                |p| p.display().to_string(),
            ),
        ),
        ("message store".into(), store.display().to_string()),
        (
            "log file".into(),
            log.map_or_else(|| "(none)".into(), |p| p.display().to_string()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_garbage_config_names_the_file_and_the_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[[accounts]]\naor = \"sip:a@b\"\npassword = = 3\n").expect("write");
        let error = format!("{:#}", load(&path).expect_err("garbage"));
        assert!(error.contains("bad.toml"), "{error}");
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn the_first_account_is_written_0600_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ims-rs").join("imsphone.toml");
        write_account(
            &path,
            "sip:alice@ims.test",
            "p\"w=1",
            "127.0.0.1:5060",
            "tcp",
        )
        .expect("written");
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut config = load(&path).expect("reads back");
        let account = pick_account(&mut config, None).expect("one account");
        assert_eq!(account.aor, "sip:alice@ims.test");
        assert_eq!(account.password, "p\"w=1");
        assert_eq!(account.proxy.as_deref(), Some("127.0.0.1:5060"));
        let again = write_account(&path, "sip:bob@ims.test", "x", "", "udp");
        assert!(again.is_err(), "an existing config is never overwritten");
        let bad = write_account(&dir.path().join("b.toml"), "sip:a@b", "x", "", "sctp");
        assert!(
            bad.is_err(),
            "a transport the config refuses is not written"
        );
        assert!(!dir.path().join("b.toml").exists());
    }

    #[test]
    fn accounts_are_picked_by_address_and_secrets_never_shown() {
        let mut config = Config::from_toml(
            "[[accounts]]\naor = \"sip:a@x\"\npassword = \"p1\"\nproxy = \"127.0.0.1\"\n\
             [[accounts]]\naor = \"sip:b@x\"\npassword = \"hunter2\"\nproxy = \"127.0.0.1\"\n\
             [accounts.ims]\nk = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nopc = \"cd63cb71954a9f4e48a5994e37a02baf\"\n",
        )
        .expect("config");
        let account = pick_account(&mut config.clone(), Some("b@x")).expect("found");
        assert_eq!(account.aor, "sip:b@x");
        let error = pick_account(&mut config, Some("c@x")).expect_err("missing");
        assert!(error.to_string().contains("sip:a@x, sip:b@x"));
        let summary = AccountSummary::of(&account);
        let text = format!("{summary:?} {:?}", summary.lines());
        assert!(
            !text.contains("hunter2") && !text.contains("465b5ce8"),
            "{text}"
        );
        assert!(text.contains("set (hidden)"));
    }

    const TWO: &str = "# my phone\nlisten = \"127.0.0.1:0\"   # keep this\n\n\
        [[accounts]]\naor = \"sip:a@x\"\npassword = \"pa\"\nproxy = \"127.0.0.1\" # the lab\n\n\
        [[accounts]]\naor = \"sip:b@x\"\npassword = \"pb\"\nproxy = \"127.0.0.1\"\n\
        [accounts.ims]\nk = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nop = \"cdc202d5123e20f62b6d676ac72cb318\"\n";

    #[test]
    fn an_edit_keeps_comments_other_accounts_and_unchanged_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("imsphone.toml");
        std::fs::write(&path, TWO).expect("write");
        let edit = AccountEdit {
            aor: "sip:b2@x".into(),
            auth_username: "b2-private@x".into(),
            proxy: String::new(),
            dns_server: "127.0.0.1:5353".into(),
            transport: "tcp".into(),
            ims: true,
            opc: Some(Secret::new("cd63cb71954a9f4e48a5994e37a02baf")),
            ..AccountEdit::default()
        };
        let (config, index) = save_account(&path, Some(1), &edit).expect("saved");
        assert_eq!(index, 1);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# my phone\n"), "{text}");
        assert!(
            text.contains("# keep this") && text.contains("# the lab"),
            "{text}"
        );
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!dir.path().join("imsphone.toml.new").exists());
        let [a, b] = config.accounts.as_slice() else {
            panic!("two accounts: {text}");
        };
        assert_eq!((a.aor.as_str(), a.password.as_str()), ("sip:a@x", "pa"));
        assert_eq!(b.aor, "sip:b2@x");
        assert_eq!(b.password, "pb", "an empty password keeps the saved one");
        assert_eq!(b.auth_username.as_deref(), Some("b2-private@x"));
        assert_eq!(b.proxy, None, "emptied: found in DNS");
        assert_eq!(
            b.dns_server,
            Some("127.0.0.1:5353".parse().expect("address"))
        );
        assert_eq!(b.transport, Some(ims_core::transport::Transport::Tcp));
        let ims = b.ims.as_ref().expect("ims on");
        assert_eq!(
            ims.k.as_deref(),
            Some("465b5ce8b199b49faa5f0a2ee238a6bc"),
            "kept"
        );
        assert_eq!(ims.op, None, "the OPc typed replaces the OP");
        assert_eq!(ims.opc.as_deref(), Some("cd63cb71954a9f4e48a5994e37a02baf"));
        assert_eq!(load(&path).expect("reads back").accounts.len(), 2);
    }

    #[test]
    fn accounts_are_added_ims_turned_off_and_bad_ones_never_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new").join("imsphone.toml");
        let plain = AccountEdit {
            aor: "sip:c@x".into(),
            password: Some(Secret::new("pc")),
            proxy: "127.0.0.1:5060".into(),
            ..AccountEdit::default()
        };
        let (config, index) = save_account(&path, None, &plain).expect("a new file");
        assert_eq!((config.accounts.len(), index), (1, 0));
        std::fs::write(&path, TWO).expect("write");
        let (config, index) = save_account(&path, None, &plain).expect("added");
        assert_eq!((config.accounts.len(), index), (3, 2));
        let off = AccountEdit {
            aor: "sip:b@x".into(),
            proxy: "127.0.0.1".into(),
            ..AccountEdit::default()
        };
        let (config, _) = save_account(&path, Some(1), &off).expect("ims off");
        assert!(config.accounts[1].ims.is_none());
        let before = std::fs::read_to_string(&path).expect("read");
        let bad = AccountEdit {
            aor: "sip:b@x".into(),
            ims: true,
            k: Some(Secret::new("not hex at all")),
            ..AccountEdit::default()
        };
        assert!(save_account(&path, Some(1), &bad).is_err());
        assert!(
            save_account(&path, Some(7), &off).is_err(),
            "no such account"
        );
        let after = std::fs::read_to_string(&path).expect("read");
        assert_eq!(before, after, "a refused account leaves the file as it was");
    }
}

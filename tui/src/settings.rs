//! Where imsphone keeps things, and reading its config file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
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

/// Reads and checks a config file; errors name the file (and the line, for TOML).
pub fn load(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    Config::from_toml(&text).with_context(|| format!("in the config file {}", path.display()))
}

/// The account to use: the one whose AOR is `wanted` (with or without `sip:`), or the
/// first.
pub fn pick_account(config: &mut Config, wanted: Option<&str>) -> anyhow::Result<AccountSettings> {
    if config.accounts.is_empty() {
        bail!("the config file has no [[accounts]] table");
    }
    let index = match wanted {
        None => 0,
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
            })?,
    };
    Ok(config.accounts.remove(index))
}

/// What the Account screen shows: every setting, secrets masked.
pub fn describe(
    account: &AccountSettings,
    config: Option<&Path>,
    store: &Path,
    log: Option<&Path>,
) -> Vec<(String, String)> {
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "(default)".into());
    let mut lines = vec![
        ("address of record".into(), account.aor.clone()),
        ("display name".into(), shown(&account.display_name)),
        (
            "auth user".into(),
            account
                .auth_username
                .clone()
                .unwrap_or_else(|| "(from the address)".into()),
        ),
        (
            "password".into(),
            if account.password.is_empty() {
                "(none)".into()
            } else {
                "********".into()
            },
        ),
        (
            "proxy / P-CSCF".into(),
            account
                .proxy
                .clone()
                .unwrap_or_else(|| "found in DNS (RFC 3263)".into()),
        ),
        (
            "transport".into(),
            account
                .transport
                .map_or_else(|| "(default)".into(), |t| t.to_string()),
        ),
        (
            "expires".into(),
            account
                .expires
                .map_or_else(|| "(default 600 s)".into(), |e| format!("{e} s")),
        ),
    ];
    if let Some(ims) = &account.ims {
        let has = |v: &Option<String>| if v.is_some() { "set (hidden)" } else { "-" };
        lines.push(("IMS".into(), "yes".into()));
        lines.push(("K".into(), has(&ims.k).into()));
        lines.push((
            "OP / OPc".into(),
            has(&ims.op.clone().or(ims.opc.clone())).into(),
        ));
    }
    lines.push((
        "config file".into(),
        config.map_or_else(
            || "(none: command line)".into(),
            |p| p.display().to_string(),
        ),
    ));
    lines.push(("message store".into(), store.display().to_string()));
    lines.push((
        "log file".into(),
        log.map_or_else(|| "(none)".into(), |p| p.display().to_string()),
    ));
    lines
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
        let lines = describe(&account, None, Path::new("/s"), None);
        let text = format!("{lines:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("465b5ce8"),
            "{text}"
        );
        assert!(text.contains("set (hidden)"));
    }
}

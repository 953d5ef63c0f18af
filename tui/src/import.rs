//! Importing an address book (contacts and groups) from a TOML file into the store.
//! Importing the same file twice changes nothing: entries already there are skipped.
//!
//! ```toml
//! [[contacts]]
//! address = "sip:bob@ims.test"
//! name = "Bob"
//!
//! [[groups]]
//! address = "sip:friends@ims.test"
//! name = "Friends"
//! mode = "network"          # or "fanout"
//! members = ["sip:alice@ims.test", "sip:bob@ims.test"]
//! ```

use std::path::Path;

use anyhow::Context;
use ims_core::store::{Aor, GroupMode, Store, StoreError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Book {
    #[serde(default)]
    contacts: Vec<ContactEntry>,
    #[serde(default)]
    groups: Vec<GroupEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactEntry {
    address: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    notes: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    address: String,
    name: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    members: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imported {
    /// Contacts added.
    pub contacts: usize,
    /// Groups added.
    pub groups: usize,
    /// Entries that were there already.
    pub skipped: usize,
}

/// Imports `path` into `account`'s address book.
pub fn import(store: &mut Store, account: &str, path: &Path) -> anyhow::Result<Imported> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the address book {}", path.display()))?;
    let book: Book =
        toml::from_str(&text).with_context(|| format!("in the address book {}", path.display()))?;
    let account = store.upsert_account(&Aor::parse(account)?, None)?;
    let mut done = Imported::default();
    for contact in &book.contacts {
        let aor =
            Aor::parse(&contact.address).with_context(|| format!("contact {}", contact.address))?;
        match store.add_contact(account, &aor, contact.name.as_deref(), &contact.notes) {
            Ok(_) => done.contacts += 1,
            Err(StoreError::AlreadyExists { .. }) => done.skipped += 1,
            Err(error) => return Err(error.into()),
        }
    }
    for group in &book.groups {
        let uri = Aor::parse(&group.address).with_context(|| format!("group {}", group.address))?;
        let mode = match group.mode.as_deref() {
            None | Some("network") => GroupMode::Network,
            Some("fanout") => GroupMode::Fanout,
            Some(other) => anyhow::bail!(
                "group {}: mode {other:?} is not network or fanout",
                group.address
            ),
        };
        let members = group
            .members
            .iter()
            .map(|m| Aor::parse(m).with_context(|| format!("group {} member {m}", group.address)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if store.find_group(account, &uri)?.is_some() {
            done.skipped += 1;
            continue;
        }
        store.create_group(account, &uri, &group.name, mode, &members)?;
        done.groups += 1;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_adds_once_and_reports_bad_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("book.toml");
        std::fs::write(
            &path,
            "[[contacts]]\naddress = \"sip:bob@ims.test\"\nname = \"Bob\"\n\
             [[groups]]\naddress = \"sip:friends@ims.test\"\nname = \"Friends\"\n\
             members = [\"sip:bob@ims.test\", \"sip:carol@ims.test\"]\n",
        )
        .expect("write");
        let mut store = Store::open_in_memory().expect("store");
        let first = import(&mut store, "sip:alice@ims.test", &path).expect("imported");
        assert_eq!(
            first,
            Imported {
                contacts: 1,
                groups: 1,
                skipped: 0
            }
        );
        let again = import(&mut store, "sip:alice@ims.test", &path).expect("imported");
        assert_eq!(
            again,
            Imported {
                contacts: 0,
                groups: 0,
                skipped: 2
            }
        );
        std::fs::write(
            &path,
            "[[groups]]\naddress = \"sip:x@y\"\nname = \"X\"\nmode = \"mesh\"\n",
        )
        .expect("write");
        let error = import(&mut store, "sip:alice@ims.test", &path).expect_err("bad mode");
        assert!(error.to_string().contains("mesh"), "{error}");
    }
}

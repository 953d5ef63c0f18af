//! The account form of the Account screen: its fields, filled from an account (secrets
//! never: they start empty and an empty secret keeps the saved one), and the checks
//! that turn what was typed into an [`AccountEdit`] or say which field is wrong and why.

use ims_core::auth::Secret;
use ims_core::config::ProxyAddress;
use ims_core::store::Aor;

use crate::editor::Editor;
use crate::settings::{AccountEdit, AccountSummary};

/// Labels whose text the form never shows (drawn as `*`).
pub const SECRET_LABELS: [&str; 3] = ["Password", "K", "OPc"];

/// The form's fields, filled from `account` (`None`: a new account).
pub fn fields(account: Option<&AccountSummary>) -> Vec<(&'static str, Editor)> {
    let line = |text: &str| Editor::with_text(text, 200);
    let text = |value: Option<&String>| line(value.map_or("", String::as_str));
    match account {
        Some(account) => vec![
            ("AOR", line(&account.aor)),
            ("IMPI", text(account.auth_username.as_ref())),
            ("Password", line("")),
            ("Proxy", text(account.proxy.as_ref())),
            ("DNS", text(account.dns_server.as_ref())),
            ("Transport", text(account.transport.as_ref())),
            ("IMS", line(if account.ims { "on" } else { "off" })),
            ("K", line("")),
            ("OPc", line("")),
        ],
        None => vec![
            ("AOR", line("")),
            ("IMPI", line("")),
            ("Password", line("")),
            ("Proxy", line("")),
            ("DNS", line("")),
            ("Transport", line("udp")),
            ("IMS", line("off")),
            ("K", line("")),
            ("OPc", line("")),
        ],
    }
}

/// The hint under a field.
pub fn hint(label: &str) -> &'static str {
    match label {
        "AOR" => "address of record, e.g. alice@ims.test",
        "IMPI" => "private identity / auth user; empty: from the AOR",
        "Password" | "K" | "OPc" => "never shown; empty keeps the saved one",
        "Proxy" => "P-CSCF host[:port] or sip: URI; empty: DNS",
        "DNS" => "DNS server ip:port for the P-CSCF; empty: system",
        "Transport" => "udp or tcp",
        "IMS" => "on (IMS AKA with K and OPc) or off",
        _ => "",
    }
}

fn is_hex_key(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What the form says, checked. On a mistake: the field's label and what is wrong.
/// `saved` is the account being edited (its secrets count as given).
pub fn check(
    value: impl Fn(&str) -> String,
    saved: Option<&AccountSummary>,
) -> Result<AccountEdit, (&'static str, String)> {
    let address = value("AOR");
    let aor = if address.contains(':') {
        address.clone()
    } else {
        format!("sip:{address}")
    };
    if !aor.contains('@') || Aor::parse(&aor).is_err() {
        return Err((
            "AOR",
            format!("{address:?} is no address: user@domain, e.g. alice@ims.test"),
        ));
    }
    let proxy = value("Proxy");
    if !proxy.is_empty() && ProxyAddress::parse(&proxy).is_err() {
        return Err((
            "Proxy",
            format!("{proxy:?} is not host[:port] (port 1-65535) or sip:host[:port]"),
        ));
    }
    let dns = value("DNS");
    let dns_server = if dns.is_empty() {
        String::new()
    } else if let Ok(address) = dns.parse::<std::net::SocketAddr>() {
        address.to_string()
    } else if let Ok(ip) = dns.parse::<std::net::IpAddr>() {
        std::net::SocketAddr::new(ip, 53).to_string()
    } else {
        return Err(("DNS", format!("{dns:?} is not ip:port, e.g. 127.0.0.1:53")));
    };
    let transport = value("Transport").to_lowercase();
    if !matches!(transport.as_str(), "" | "udp" | "tcp") {
        return Err(("Transport", format!("{transport:?}: udp or tcp")));
    }
    let ims = match value("IMS").to_lowercase().as_str() {
        "on" | "yes" | "y" | "true" | "1" => true,
        "off" | "no" | "n" | "false" | "0" | "" => false,
        other => return Err(("IMS", format!("{other:?}: on or off"))),
    };
    let secret = |label: &str| Some(value(label)).filter(|v| !v.is_empty());
    let k = secret("K");
    let opc = secret("OPc");
    for (label, key) in [("K", &k), ("OPc", &opc)] {
        if let Some(key) = key
            && !is_hex_key(key)
        {
            let count = key.chars().count();
            let label = if label == "K" { "K" } else { "OPc" };
            return Err((
                label,
                format!("{label} is 32 hex digits (16 bytes); this has {count} characters"),
            ));
        }
    }
    if ims {
        let has_k = k.is_some() || saved.is_some_and(|s| s.has_k);
        let has_opc = opc.is_some() || saved.is_some_and(|s| s.has_opc);
        if has_opc && !has_k {
            return Err(("K", "OPc needs K as well (32 hex digits)".into()));
        }
    }
    Ok(AccountEdit {
        aor,
        auth_username: value("IMPI"),
        password: secret("Password").map(Secret::new),
        proxy,
        dns_server,
        transport,
        ims,
        k: k.map(Secret::new),
        opc: opc.map(Secret::new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
    const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";

    fn form(values: &[(&str, &str)]) -> impl Fn(&str) -> String {
        let values: Vec<(String, String)> = values
            .iter()
            .map(|(l, v)| ((*l).to_owned(), (*v).to_owned()))
            .collect();
        move |label: &str| {
            values
                .iter()
                .find(|(l, _)| l == label)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        }
    }

    fn error(values: &[(&str, &str)]) -> (&'static str, String) {
        check(form(values), None).expect_err("refused")
    }

    #[test]
    fn a_good_account_becomes_an_edit() {
        let edit = check(
            form(&[
                ("AOR", "alice@ims.test"),
                ("IMPI", "alice@ims.test"),
                ("Password", "pw"),
                ("Proxy", "127.0.0.1:5060"),
                ("DNS", "127.0.0.1"),
                ("Transport", "TCP"),
                ("IMS", "on"),
                ("K", K),
                ("OPc", OPC),
            ]),
            None,
        )
        .expect("valid");
        assert_eq!(edit.aor, "sip:alice@ims.test");
        assert_eq!(edit.dns_server, "127.0.0.1:53");
        assert_eq!(edit.transport, "tcp");
        assert!(edit.ims);
        assert_eq!(edit.k.as_ref().map(Secret::expose), Some(K.as_bytes()));
        assert!(!format!("{edit:?}").contains(K), "secrets never in Debug");
        assert!(!format!("{edit:?}").contains("\"pw\""));
    }

    #[test]
    fn each_mistake_names_its_field() {
        let aor = ("AOR", "alice@ims.test");
        assert_eq!(error(&[("AOR", "alice")]).0, "AOR");
        assert_eq!(error(&[("AOR", "sip:al ice@x")]).0, "AOR");
        let (field, text) = error(&[aor, ("Proxy", "pcscf.test:99999")]);
        assert_eq!(field, "Proxy");
        assert!(text.contains("host[:port]"), "{text}");
        assert_eq!(error(&[aor, ("Proxy", "a b")]).0, "Proxy");
        let (field, text) = error(&[aor, ("DNS", "dns.test")]);
        assert_eq!((field, text.contains("ip:port")), ("DNS", true));
        assert_eq!(error(&[aor, ("Transport", "sctp")]).0, "Transport");
        assert_eq!(error(&[aor, ("IMS", "maybe")]).0, "IMS");
        let (field, text) = error(&[aor, ("IMS", "on"), ("K", "0123")]);
        assert_eq!(field, "K");
        assert!(text.contains("32 hex digits"), "{text}");
        assert!(!text.contains("0123"), "the key is not echoed: {text}");
        let not_hex = "g".repeat(32);
        assert_eq!(
            error(&[aor, ("IMS", "on"), ("K", K), ("OPc", &not_hex)]).0,
            "OPc"
        );
        assert_eq!(error(&[aor, ("IMS", "on"), ("OPc", OPC)]).0, "K");
    }

    #[test]
    fn empty_secrets_keep_the_saved_ones() {
        let saved = AccountSummary {
            aor: "sip:alice@ims.test".into(),
            ims: true,
            has_password: true,
            has_k: true,
            has_opc: true,
            ..AccountSummary::default()
        };
        let filled = fields(Some(&saved));
        let shown = |label: &str| {
            filled
                .iter()
                .find(|(l, _)| *l == label)
                .map(|(_, e)| e.text().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(shown("AOR"), "sip:alice@ims.test");
        assert_eq!(shown("IMS"), "on");
        assert_eq!(shown("Password"), "", "secrets are never filled in");
        let mut app = crate::App::new("sip:alice@ims.test", std::time::SystemTime::UNIX_EPOCH);
        app.update(crate::Action::NewAccount);
        app.update(crate::Action::NextPane);
        app.update(crate::Action::NextPane);
        for c in "hunter2".chars() {
            app.update(crate::Action::Edit(crate::editor::Edit::Insert(c)));
        }
        let debug = format!("{app:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("***"),
            "{debug}"
        );
        let edit = check(
            form(&[("AOR", "sip:alice@ims.test"), ("IMS", "on"), ("OPc", OPC)]),
            Some(&saved),
        )
        .expect("K is saved already");
        assert_eq!(edit.password, None);
        assert_eq!(edit.k, None);
        assert!(edit.opc.is_some());
    }
}

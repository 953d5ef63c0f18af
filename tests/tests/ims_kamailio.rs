//! An IMS-configured account (AKA keys, IMPI, P-Access-Network-Info, the TS 24.229
//! initial REGISTER with an empty Authorization) against the plain-Digest Kamailio of
//! the harness: it still registers with its password (no regression for SIP cores).

use std::time::Duration;

use ims_core::auth::AkaKeys;
use ims_core::engine::{EngineConfig, Event};
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, ImsConfig};
use ims_tests::{Kamailio, Phone, registered};

#[test]
fn ims_account_with_digest_password_registers_at_kamailio() {
    let kamailio = Kamailio::builder()
        .user("alice", "alice-secret")
        .start()
        .expect("start Kamailio");
    let mut account = AccountConfig::new(
        "sip:alice@ims.test",
        "alice-secret",
        kamailio.addr(),
        Transport::Udp,
    );
    account.auth_username = Some("alice".to_owned());
    account.ims = Some(Box::new(ImsConfig {
        aka: Some(
            AkaKeys::from_hex(
                "465b5ce8b199b49faa5f0a2ee238a6bc",
                Some("cdc202d5123e20f62b6d676ac72cb318"),
                None,
                "b9b9",
            )
            .unwrap(),
        ),
        access_network_info: Some(
            "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=001010001000019B".to_owned(),
        ),
        ..ImsConfig::default()
    }));
    let mut phone = Phone::start_with(EngineConfig::default(), account);
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(10), registered);
    assert!(
        matches!(event, Event::Registered { expires: 600, .. }),
        "{event:?}"
    );
    assert!(kamailio.is_registered("alice").unwrap());
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
}

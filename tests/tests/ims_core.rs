//! ims-core's engine against the local IMS core (scripts/ims-core: Kamailio as P-, I- and
//! S-CSCF with imshss as the HSS): AKAv1 registration through P -> I -> S.

use std::time::Duration;

use ims_core::auth::AkaKeys;
use ims_core::engine::{EngineConfig, Event};
use ims_core::transport::Transport;
use ims_core::ua::{AccountConfig, ImsConfig};
use ims_tests::{ImsCore, Phone, registered};

/// alice of scripts/ims-core: TS 35.208 test set 1 (K, OPc), AMF 0000.
fn alice(core: &ImsCore) -> AccountConfig {
    let mut account = AccountConfig::new("sip:alice@ims.test", "", core.pcscf(), Transport::Udp);
    account.auth_username = Some("alice@ims.test".to_owned());
    account.expires = 600;
    account.ims = Some(Box::new(ImsConfig {
        aka: Some(
            AkaKeys::from_hex(
                "465b5ce8b199b49faa5f0a2ee238a6bc",
                None,
                Some("cd63cb71954a9f4e48a5994e37a02baf"),
                "0000",
            )
            .expect("alice's keys"),
        ),
        ..ImsConfig::default()
    }));
    account
}

#[test]
fn engine_registers_with_akav1_through_the_ims_core() {
    let core = ImsCore::start().expect("start the IMS core (scripts/ims-core)");
    let mut phone = Phone::start_with(EngineConfig::default(), alice(&core));
    phone.register();
    let event = phone.wait_for("registration", Duration::from_secs(15), registered);
    let Event::Registered {
        associated_uris, ..
    } = &event
    else {
        panic!("{event:?}")
    };
    assert!(
        associated_uris
            .iter()
            .any(|uri| uri == "sip:alice@ims.test"),
        "P-Associated-URI from the HSS's profile: {event:?}"
    );
    assert!(!phone.saw_failure(), "{:#?}", phone.seen());
    // The HSS saw the whole registration: UAR at the I-CSCF, MAR and SAR at the S-CSCF.
    let log = core.hss_log();
    for command in ["\"UAR\"", "\"MAR\"", "\"SAR\""] {
        assert!(
            log.lines()
                .any(|line| line.contains(command) && line.contains("alice@ims.test")),
            "imshss logged no {command} for alice:\n{log}"
        );
    }
}

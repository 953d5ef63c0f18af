//! Smoke tests of the peer harness with a real headless baresip registered at a real
//! Kamailio, called by a real SIPp.

use std::time::Duration;

use ims_tests::{Baresip, BaresipAccount, Kamailio, Sipp, SippUser};

#[test]
fn baresip_registers_and_auto_answers_a_sipp_call() {
    let kamailio = Kamailio::builder()
        .user("alice", "alice-secret")
        .user("bob", "bob-secret")
        .start()
        .expect("start Kamailio");
    let mut bob = Baresip::start(&BaresipAccount {
        user: "bob".to_owned(),
        password: "bob-secret".to_owned(),
        domain: kamailio.domain().to_owned(),
        registrar: kamailio.addr(),
    })
    .expect("start baresip");
    kamailio
        .wait_registered("bob", Duration::from_secs(15))
        .expect("baresip registers");
    let reginfo = bob.command("reginfo", "").expect("reginfo");
    assert!(reginfo.contains("bob@ims.test"), "{reginfo}");

    let alice = SippUser::new("alice", "alice-secret", kamailio.domain()).peer("bob");
    let call = Sipp::new("call.xml", &alice)
        .run(kamailio.addr(), Duration::from_secs(30))
        .expect("run SIPp");
    call.assert_success();
    assert!(
        call.messages.contains("a=rtpmap:0 PCMU/8000"),
        "{}",
        call.report()
    );
    bob.wait_event("CALL_ESTABLISHED", Duration::from_secs(5))
        .expect("baresip reports the call established");
    bob.wait_event("CALL_CLOSED", Duration::from_secs(5))
        .expect("baresip reports the call closed");
}

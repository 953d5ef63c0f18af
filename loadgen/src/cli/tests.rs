//! Tests of the command line and its checks.

use super::*;

fn plan(extra: &[&str]) -> Result<Plan, PlanError> {
    let mut argv = vec![
        "imsload",
        "message",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "vu{0..9}@ims.test",
        "--password",
        "p",
    ];
    argv.extend_from_slice(extra);
    Plan::from_args(Args::try_parse_from(argv).map_err(|e| PlanError::Invalid(e.to_string()))?)
}

#[test]
fn durations_take_units() {
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    assert!(parse_duration("5 parsecs").is_err());
    assert!(parse_duration("-1s").is_err());
}

#[test]
fn the_default_worker_count_follows_the_asked_rate() {
    assert_eq!(default_workers(2, 100.0), 1);
    assert_eq!(default_workers(2, 1000.0), 1);
    assert_eq!(default_workers(2, 1001.0), 2);
    assert_eq!(default_workers(2, 50_000.0), 2);
    assert_eq!(default_workers(8, 2500.0), 3);
    assert_eq!(default_workers(0, 10.0), 1);
    assert_eq!(default_workers(4, f64::INFINITY), 4);
    assert_eq!(default_workers(4, f64::NAN), 1);
    // --workers wins over the default; the rate of the plan sets the default.
    assert_eq!(plan(&["--workers", "3"]).unwrap().workers, 3);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let many = plan(&["--rate", "1000", "--register-rate", "4000"]).unwrap();
    assert_eq!(many.workers, cores.min(4));
    assert_eq!(plan(&["--rate", "10"]).unwrap().workers, 1);
}

#[test]
fn a_plain_plan_has_the_defaults() {
    let plan = plan(&[]).unwrap();
    assert_eq!(plan.users.len(), 10);
    assert_eq!(plan.duration, Some(Duration::from_secs(10)));
    assert_eq!(plan.group_uri(3), "sip:group3@ims.test");
    assert!(plan.workers >= 1);
}

#[test]
fn impossible_rates_and_contradictions_are_refused() {
    for (extra, needle) in [
        (&["-r", "0"][..], "impossible rate"),
        (&["-r", "-5"][..], "impossible rate"),
        (&["-r", "NaN"][..], "impossible rate"),
        (&["-r", "1e9"][..], "impossible rate"),
        (&["--register-rate", "0"][..], "impossible rate"),
        (&["--max-concurrent", "0"][..], "max-concurrent"),
        (&["--count", "0"][..], "--count 0"),
        (&["--ramp-up", "20s", "--duration", "10s"][..], "ramp-up"),
        (&["--vus", "11"][..], "--vus 11"),
        (&["--vus", "1"][..], "at least 2 users"),
        (&["--group-uri", "sip:g@ims.test"][..], "{g}"),
        (
            &["--local-ports", "20000-20004"][..],
            "5 ports for 10 users",
        ),
        (&["--port-per-user", "--transport", "tcp"][..], "for UDP"),
    ] {
        let error = plan(extra).unwrap_err().to_string();
        assert!(error.contains(needle), "{extra:?}: {error}");
    }
}

#[test]
fn register_takes_no_count_and_groups_need_members() {
    let argv = [
        "imsload",
        "register",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "u{0..3}@ims.test",
        "--password",
        "p",
        "--count",
        "5",
    ];
    let error = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap_err();
    assert!(error.to_string().contains("--count applies"), "{error}");
    let argv = [
        "imsload",
        "group-chat",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "u{0..3}@ims.test",
        "--password",
        "p",
        "--group-size",
        "5",
    ];
    let error = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap_err();
    assert!(error.to_string().contains("needs at least"), "{error}");
}

#[test]
fn aka_derived_users_need_no_password_and_get_an_impi() {
    let argv = [
        "imsload",
        "register",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "vu{0..3}@ims.test",
        "--aka-derived",
    ];
    let plan = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap();
    assert!(plan.users.iter().all(|user| user.aka.is_some()));
    assert_eq!(plan.users[3].auth_username.as_deref(), Some("vu3@ims.test"));
    let argv = [
        "imsload",
        "register",
        "-t",
        "127.0.0.1:5060",
        "--inf",
        "users.csv",
        "--aka-derived",
    ];
    assert!(
        Args::try_parse_from(argv).is_err(),
        "--aka-derived is for --users"
    );
}

#[test]
fn reg_event_runs_as_register_with_the_subscription() {
    let argv = [
        "imsload",
        "reg-event",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "vu{0..3}@ims.test",
        "--password",
        "p",
    ];
    let plan = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap();
    assert_eq!(plan.scenario, Scenario::Register);
    assert!(plan.reg_event);
    assert_eq!(plan.scenario_name(), "reg-event");
    assert_eq!(plan.duration, Some(Duration::ZERO), "held as register is");
    let plain = plan_of(&["imsload", "register", "-t", "127.0.0.1:5060"]);
    assert!(!plain.reg_event);
    assert_eq!(plain.scenario_name(), "register");
}

#[test]
fn mixed_takes_weights_and_refuses_bad_ones() {
    let mixed = plan_of(&[
        "imsload",
        "mixed",
        "-t",
        "127.0.0.1:5060",
        "--weights",
        "message=6,group-chat=2,refresh=1,reg-event=1",
        "--group-size",
        "2",
    ]);
    assert_eq!(mixed.mix, Some(crate::mix::Weights([6, 2, 1, 1])));
    assert_eq!(mixed.scenario_name(), "mixed");
    assert!(mixed.sends_group_texts() && mixed.any_subscribes());
    // Its reg-event arrivals subscribe on demand: none at registration.
    assert!(!mixed.subscribes_at_registration());
    assert_eq!(mixed.duration, Some(Duration::from_secs(10)), "as message");
    let default = plan_of(&[
        "imsload",
        "mixed",
        "-t",
        "127.0.0.1:5060",
        "--group-size",
        "4",
    ]);
    assert_eq!(default.mix, Some(crate::mix::Weights([6, 2, 2, 0])));
    assert!(!default.any_subscribes() && !default.subscribes_at_registration());
    assert_eq!(default.t1, Duration::from_millis(500));
    assert_eq!(
        default.coalesce,
        Duration::ZERO,
        "answers read as they come"
    );
    for (given, taken) in [("10ms", 10), ("50ms", 50), ("0", 0)] {
        let mut argv = vec!["imsload", "register", "-t", "127.0.0.1:5060"];
        argv.extend_from_slice(&["--users", "vu{0..3}@ims.test", "--password", "p"]);
        argv.extend_from_slice(&["--coalesce", given]);
        let plan = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap();
        assert_eq!(plan.coalesce, Duration::from_millis(taken), "{given}");
    }
    for (extra, needle) in [
        (
            &["--coalesce", "2ms"][..],
            "--coalesce 2ms: give 0, or 10ms to 50ms",
        ),
        (
            &["--coalesce", "51ms"][..],
            "--coalesce 51ms: give 0, or 10ms to 50ms",
        ),
        (&["--weights", "call=1"][..], "unknown scenario \"call\""),
        (&["--weights", "message=0"][..], "add up to zero"),
        (&["--weights", "message=many"][..], "not a weight"),
        (&["--t1", "0ms"][..], "--t1"),
        (&["--t1", "5s"][..], "--t1"),
    ] {
        let mut argv = vec!["imsload", "mixed", "-t", "127.0.0.1:5060"];
        argv.extend_from_slice(&["--users", "vu{0..3}@ims.test", "--password", "p"]);
        argv.extend_from_slice(extra);
        let error = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap_err();
        assert!(error.to_string().contains(needle), "{extra:?}: {error}");
    }
    let error = plan(&["--weights", "message=1"]).unwrap_err().to_string();
    assert!(error.contains("--weights applies to mixed"), "{error}");
    let argv = [
        "imsload",
        "mixed",
        "-t",
        "127.0.0.1:5060",
        "--users",
        "vu{0..3}@ims.test",
        "--password",
        "p",
        "--weights",
        "group-chat=1",
    ];
    let error = Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap_err();
    assert!(
        error.to_string().contains("mixed with --group-size 10"),
        "{error}"
    );
}

fn plan_of(head: &[&str]) -> Plan {
    let mut argv = head.to_vec();
    argv.extend_from_slice(&["--users", "vu{0..3}@ims.test", "--password", "p"]);
    Plan::from_args(Args::try_parse_from(argv).unwrap()).unwrap()
}

/// The twin socket for 1xx/2xx answers: by default over UDP on shared sockets, not with
/// --wake-per-answer, ports per user, TCP, or any group texts (a sender waits for a 200).
#[test]
fn answers_are_steered_where_nothing_waits_on_a_200() {
    let head = ["imsload", "register", "-t", "127.0.0.1:5060"];
    assert!(plan_of(&head).steers_answers());
    assert!(plan(&[]).unwrap().steers_answers(), "message");
    for extra in [
        &["--wake-per-answer"][..],
        &["--port-per-user"],
        &["--transport", "tcp"],
    ] {
        let mut argv = head.to_vec();
        argv.extend_from_slice(extra);
        assert!(!plan_of(&argv).steers_answers(), "{extra:?}");
    }
    let group = plan_of(&[
        "imsload",
        "group-chat",
        "-t",
        "127.0.0.1:5060",
        "--group-size",
        "2",
    ]);
    assert!(!group.steers_answers());
    let mixed = |weights: &str| {
        plan_of(&[
            "imsload",
            "mixed",
            "-t",
            "127.0.0.1:5060",
            "--group-size",
            "2",
            "--weights",
            weights,
        ])
    };
    assert!(mixed("message=3,refresh=1").steers_answers());
    assert!(!mixed("message=3,group-chat=1").steers_answers());
}

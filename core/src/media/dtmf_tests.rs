use super::*;

#[test]
fn payload_round_trips() {
    let event = TelephoneEvent {
        event: 11,
        end: true,
        volume: 10,
        duration: 1600,
    };
    let mut out = [0u8; 4];
    assert_eq!(event.write(&mut out), Ok(4));
    assert_eq!(out, [11, 0x8A, 0x06, 0x40]);
    assert_eq!(TelephoneEvent::parse(&out), Ok(event));
}

#[test]
fn reserved_bit_is_ignored_and_bad_input_is_an_error() {
    assert_eq!(
        TelephoneEvent::parse(&[5, 0x40 | 7, 0, 160]),
        Ok(TelephoneEvent {
            event: 5,
            end: false,
            volume: 7,
            duration: 160
        })
    );
    assert_eq!(
        TelephoneEvent::parse(&[1, 2, 3]),
        Err(DtmfError::Truncated { length: 3 })
    );
    let loud = TelephoneEvent {
        volume: 64,
        ..TelephoneEvent::default()
    };
    assert_eq!(
        loud.write(&mut [0; 4]),
        Err(DtmfError::InvalidVolume { volume: 64 })
    );
    assert_eq!(
        TelephoneEvent::default().write(&mut [0; 3]),
        Err(DtmfError::BufferTooSmall { available: 3 })
    );
}

#[test]
fn digits_map_to_rfc_4733_events() {
    for (index, digit) in "0123456789*#ABCD".chars().enumerate() {
        assert_eq!(digit_to_event(digit), Ok(index as u8));
        assert_eq!(event_to_digit(index as u8), Some(digit));
    }
    assert_eq!(digit_to_event('d'), Ok(15));
    assert_eq!(
        digit_to_event('x'),
        Err(DtmfError::UnknownDigit { character: 'x' })
    );
    assert_eq!(event_to_digit(16), None);
}

#[test]
fn sender_marks_the_first_packet_and_repeats_the_end_three_times() {
    // 100 ms at 8 kHz, one packet every 20 ms.
    let packets: Vec<_> = event_packets(1, 10, 800, 160).collect();
    assert_eq!(packets.len(), 5 + END_REDUNDANCY);
    assert!(packets[0].marker);
    assert!(packets[1..].iter().all(|packet| !packet.marker));
    let durations: Vec<u16> = packets.iter().map(|packet| packet.event.duration).collect();
    assert_eq!(durations, vec![160, 320, 480, 640, 800, 800, 800, 800]);
    assert_eq!(packets.iter().filter(|packet| packet.event.end).count(), 3);
}

#[test]
fn receiver_reports_each_event_once() {
    let mut receiver = TelephoneEventReceiver::new();
    let mut reported = Vec::new();
    for (timestamp, digit) in [(1000u32, '1'), (5000, '#'), (9000, '1')] {
        let event = digit_to_event(digit).unwrap();
        for packet in event_packets(event, 10, 800, 160) {
            let mut payload = [0u8; 4];
            packet.event.write(&mut payload).unwrap();
            if let Some(done) = receiver.receive(timestamp, &payload).unwrap() {
                reported.push(event_to_digit(done.event).unwrap());
            }
        }
        assert!(!receiver.in_progress());
    }
    assert_eq!(reported, vec!['1', '#', '1']);
}

#[test]
fn receiver_reports_an_event_whose_start_was_lost() {
    let mut receiver = TelephoneEventReceiver::new();
    let end = TelephoneEvent {
        event: 3,
        end: true,
        volume: 10,
        duration: 800,
    };
    let mut payload = [0u8; 4];
    end.write(&mut payload).unwrap();
    assert_eq!(receiver.receive(42, &payload), Ok(Some(end)));
    assert_eq!(receiver.receive(42, &payload), Ok(None));
}

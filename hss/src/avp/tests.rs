use super::*;

#[test]
fn plain_avp_is_padded_and_length_excludes_padding() {
    let mut out = Vec::new();
    write(&mut out, 264, FLAG_MANDATORY, 0, b"hss");
    // code 264, flags M, length 8 + 3 = 11, "hss", one octet of padding.
    assert_eq!(out, [0, 0, 1, 8, 0x40, 0, 0, 11, b'h', b's', b's', 0]);
    let avps: Vec<_> = AvpIter::new(&out).collect();
    assert_eq!(
        avps,
        [Ok(Avp {
            code: 264,
            flags: 0x40,
            vendor: 0,
            data: b"hss",
            raw: &out[..11],
        })]
    );
}

#[test]
fn vendor_avp_sets_v_and_carries_the_vendor_id() {
    let mut out = Vec::new();
    write_u32(&mut out, 613, FLAG_MANDATORY, 10415, 1);
    assert_eq!(
        out,
        [0, 0, 2, 101, 0xc0, 0, 0, 16, 0, 0, 0x28, 0xaf, 0, 0, 0, 1]
    );
    let avp = AvpIter::new(&out).next().unwrap().unwrap();
    assert_eq!((avp.code, avp.vendor, avp.u32()), (613, 10415, Some(1)));
    assert!(avp.is_mandatory());
}

#[test]
fn grouped_avp_counts_inner_padding() {
    let mut out = Vec::new();
    let start = begin(&mut out, 297, FLAG_MANDATORY, 0);
    write_u32(&mut out, 266, FLAG_MANDATORY, 0, 10415);
    write(&mut out, 1, FLAG_MANDATORY, 0, b"a");
    end(&mut out, start);
    #[rustfmt::skip]
    let expected = [
        0, 0, 1, 41, 0x40, 0, 0, 8 + 12 + 12,
        0, 0, 1, 10, 0x40, 0, 0, 12, 0, 0, 0x28, 0xaf,
        0, 0, 0, 1, 0x40, 0, 0, 9, b'a', 0, 0, 0,
    ];
    assert_eq!(out, expected);
    let group = AvpIter::new(&out).next().unwrap().unwrap();
    let inner: Vec<_> = group.grouped().map(|a| a.unwrap().code).collect();
    assert_eq!(inner, [266, 1]);
}

#[test]
fn round_trip_of_many_shapes() {
    let shapes: [(u32, u8, u32, &[u8]); 5] = [
        (263, FLAG_MANDATORY, 0, b"hss;1;2"),
        (601, FLAG_MANDATORY, 10415, b"sip:alice@ims.test"),
        (269, 0, 0, b""),
        (1, FLAG_MANDATORY | FLAG_PROTECTED, 0, b"abcd"),
        (609, FLAG_MANDATORY, 10415, &[0xff; 32]),
    ];
    let mut out = Vec::new();
    for (code, flags, vendor, data) in shapes {
        write(&mut out, code, flags, vendor, data);
    }
    assert_eq!(out.len() % 4, 0);
    let read: Vec<_> = AvpIter::new(&out)
        .map(|a| {
            let a = a.unwrap();
            (a.code, a.flags & !FLAG_VENDOR, a.vendor, a.data)
        })
        .collect();
    assert_eq!(read, shapes);
}

#[test]
fn missing_final_padding_is_accepted() {
    let bytes = [0, 0, 1, 8, 0x40, 0, 0, 9, b'x'];
    let avp = AvpIter::new(&bytes).next().unwrap().unwrap();
    assert_eq!(avp.data, b"x");
}

#[test]
fn bad_lengths_are_errors_not_panics() {
    // Header cut short.
    assert_eq!(
        AvpIter::new(&[0, 0, 1, 8, 0x40]).next(),
        Some(Err(AvpError::TruncatedHeader {
            offset: 0,
            available: 5
        }))
    );
    // Length below the header.
    assert_eq!(
        AvpIter::new(&[0, 0, 1, 8, 0x40, 0, 0, 7]).next(),
        Some(Err(AvpError::BadLength {
            offset: 0,
            code: 264,
            length: 7,
            available: 8
        }))
    );
    // Vendor bit set but only 8 octets of header claimed.
    assert!(matches!(
        AvpIter::new(&[0, 0, 1, 8, 0xc0, 0, 0, 8, 0, 0, 0, 0]).next(),
        Some(Err(AvpError::BadLength { length: 8, .. }))
    ));
    // Length past the end; the iterator stops after the error.
    let mut iter = AvpIter::new(&[0, 0, 1, 8, 0x40, 0, 0, 40, 1, 2, 3, 4]);
    assert!(matches!(
        iter.next(),
        Some(Err(AvpError::BadLength { length: 40, .. }))
    ));
    assert_eq!(iter.next(), None);
    // Wrong-size Unsigned32 and bad UTF-8 are reported, not guessed.
    let odd = Avp {
        code: 268,
        flags: 0x40,
        vendor: 0,
        data: &[0, 0, 7],
        raw: &[],
    };
    assert_eq!(odd.u32(), None);
    assert_eq!(
        Avp {
            data: &[0xff, 0xfe],
            ..odd
        }
        .utf8(),
        None
    );
}

#[test]
fn every_truncation_and_byte_flip_is_handled() {
    let mut out = Vec::new();
    write(&mut out, 263, FLAG_MANDATORY, 0, b"session;1");
    let start = begin(&mut out, 612, FLAG_MANDATORY, 10415);
    write_u32(&mut out, 613, FLAG_MANDATORY, 10415, 1);
    write(&mut out, 609, FLAG_MANDATORY, 10415, &[7; 32]);
    end(&mut out, start);
    for cut in 0..out.len() {
        for avp in AvpIter::new(&out[..cut]).flatten() {
            for _ in avp.grouped() {}
        }
    }
    for index in 0..out.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut bytes = out.clone();
            bytes[index] ^= flip;
            for avp in AvpIter::new(&bytes).flatten() {
                for _ in avp.grouped() {}
            }
        }
    }
}

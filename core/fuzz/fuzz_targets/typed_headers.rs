//! Every typed header view and the URI parser on arbitrary values.
#![no_main]

use ims_core::sip::Uri;
use ims_core::sip::typed::*;
use libfuzzer_sys::fuzz_target;

fn each<'a, T: TypedHeader<'a>>(value: &'a [u8]) {
    let _ = T::parse(value);
}

fuzz_target!(|data: &[u8]| {
    each::<Via>(data);
    each::<From>(data);
    each::<To>(data);
    if let Ok(contact) = Contact::parse(data) {
        let _ = (contact.q(), contact.expires(), contact.instance());
    }
    each::<Route>(data);
    each::<CSeq>(data);
    each::<CallId>(data);
    each::<MaxForwards>(data);
    each::<ContentType>(data);
    if let Ok(challenge) = WwwAuthenticate::parse(data) {
        let _ = (challenge.qop_options().count(), challenge.realm(), challenge.stale());
    }
    if let Ok(credentials) = Authorization::parse(data) {
        let _ = (credentials.nc(), credentials.auts());
    }
    each::<Supported>(data);
    each::<Allow>(data);
    each::<Event>(data);
    each::<SubscriptionState>(data);
    each::<RAck>(data);
    each::<PAccessNetworkInfo>(data);
    each::<PChargingVector>(data);
    if let Ok(security) = SecurityClient::parse(data) {
        let _ = (security.q(), security.spi_c(), security.port_s());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(uri) = Uri::parse(text) {
            assert!(uri.equivalent(&uri) || !uri.is_sip());
            let _ = uri.user_unescaped();
        }
    }
});

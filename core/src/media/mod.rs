//! Media: codecs, packet loss concealment, playout decoding, DTMF (telephone-event)
//! payloads and headless audio ports. All of it is sans-IO; sound cards and sockets live
//! in the driver.

pub mod codec;
pub mod dtmf;
pub mod playout;
pub mod port;

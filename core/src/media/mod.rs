//! Media: codecs, packet loss concealment and DTMF (telephone-event) payloads. All of it
//! is sans-IO; audio devices and sockets live in the driver.

pub mod codec;
pub mod dtmf;

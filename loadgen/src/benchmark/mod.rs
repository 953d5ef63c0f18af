//! `imsload benchmark`: the IMS/NGN performance benchmark of ETSI TS 186 008. A
//! subscriber population (a share of it registered by a preamble) runs a traffic set of
//! scenarios mixed by weight, each attempt started by a Poisson process at the current
//! SAPS (scenario attempts per second); SAPS rises step by step until the share of
//! inadequately handled scenario attempts (IHS %) exceeds its limit. The design objective
//! capacity (DOC) is the SAPS of the highest step that stayed within it.

pub mod config;
pub mod controller;
mod events;
pub mod html;
pub mod metrics;
pub mod profile;
pub mod report;
pub mod shared;
pub mod worker;

pub use controller::main;

//! Usages: what a user agent does with transactions. Registration today; calls, pager
//! messages, subscriptions and publications as they come.

pub(crate) mod account;
pub(crate) mod challenges;
pub(crate) mod message;
pub(crate) mod registration;
pub(crate) mod subscription;

pub use account::{AccountConfig, AccountError, AccountId, ImsConfig};
pub use message::{GroupMode, GroupTarget, IncomingMessage, MessageError, OutgoingMessage};
pub use registration::{RegistrationError, RegistrationState};
pub use subscription::SubscriptionStatus;

pub(crate) use account::Account;
pub(crate) use registration::Registration;

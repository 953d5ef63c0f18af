//! SIP request methods.

use std::fmt;

macro_rules! methods {
    ($( $variant:ident => $name:literal, $doc:literal; )*) => {
        /// A request method. Methods are case-sensitive (RFC 3261 §7.1); unknown tokens are
        /// kept as [`Method::Other`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Method<'a> {
            $( #[doc = $doc] $variant, )*
            /// Any other method token.
            Other(&'a str),
        }

        impl<'a> Method<'a> {
            /// Maps a method token to a method (case-sensitive).
            pub fn from_token(token: &'a str) -> Method<'a> {
                match token {
                    $( $name => Method::$variant, )*
                    other => Method::Other(other),
                }
            }

            /// The known method spelled exactly `token`, without a UTF-8 check.
            #[inline]
            pub(crate) fn known(token: &[u8]) -> Option<Method<'static>> {
                $( if token == $name.as_bytes() { return Some(Method::$variant); } )*
                None
            }

            /// The method token.
            pub fn as_str(&self) -> &'a str {
                match self {
                    $( Method::$variant => $name, )*
                    Method::Other(token) => token,
                }
            }
        }
    };
}

methods! {
    Invite => "INVITE", "`INVITE` (RFC 3261)";
    Ack => "ACK", "`ACK` (RFC 3261)";
    Bye => "BYE", "`BYE` (RFC 3261)";
    Cancel => "CANCEL", "`CANCEL` (RFC 3261)";
    Register => "REGISTER", "`REGISTER` (RFC 3261)";
    Options => "OPTIONS", "`OPTIONS` (RFC 3261)";
    Message => "MESSAGE", "`MESSAGE` (RFC 3428)";
    Subscribe => "SUBSCRIBE", "`SUBSCRIBE` (RFC 6665)";
    Notify => "NOTIFY", "`NOTIFY` (RFC 6665)";
    Publish => "PUBLISH", "`PUBLISH` (RFC 3903)";
    Refer => "REFER", "`REFER` (RFC 3515)";
    Info => "INFO", "`INFO` (RFC 6086)";
    Update => "UPDATE", "`UPDATE` (RFC 3311)";
    Prack => "PRACK", "`PRACK` (RFC 3262)";
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

//! The numbers imshss speaks: command codes, application ids, AVP codes and result codes
//! of the Diameter base protocol (RFC 6733) and of Cx (3GPP TS 29.229).

/// The vendor id of 3GPP, used by every Cx AVP and experimental result.
pub const VENDOR_3GPP: u32 = 10415;
/// The Cx/Dx application (TS 29.229 §5.6).
pub const APPLICATION_CX: u32 = 16_777_216;
/// The relay application id (RFC 6733 §2.4): a CER that lists it supports every application.
pub const APPLICATION_RELAY: u32 = 0xffff_ffff;

/// Command codes (RFC 6733 §3.1, TS 29.229 §6.1).
pub mod command {
    /// Capabilities-Exchange-Request/Answer.
    pub const CAPABILITIES_EXCHANGE: u32 = 257;
    /// Device-Watchdog-Request/Answer.
    pub const DEVICE_WATCHDOG: u32 = 280;
    /// Disconnect-Peer-Request/Answer.
    pub const DISCONNECT_PEER: u32 = 282;
    /// User-Authorization-Request/Answer.
    pub const USER_AUTHORIZATION: u32 = 300;
    /// Server-Assignment-Request/Answer.
    pub const SERVER_ASSIGNMENT: u32 = 301;
    /// Location-Info-Request/Answer.
    pub const LOCATION_INFO: u32 = 302;
    /// Multimedia-Auth-Request/Answer.
    pub const MULTIMEDIA_AUTH: u32 = 303;
}

/// AVP codes of the base protocol (RFC 6733 §4.5) and of RFC 4740 (Digest), vendor 0.
pub mod base {
    /// User-Name (UTF8String): the private identity in Cx.
    pub const USER_NAME: u32 = 1;
    /// Digest-Realm (UTF8String, RFC 4740).
    pub const DIGEST_REALM: u32 = 104;
    /// Digest-QoP (UTF8String, RFC 4740).
    pub const DIGEST_QOP: u32 = 110;
    /// Digest-Algorithm (UTF8String, RFC 4740).
    pub const DIGEST_ALGORITHM: u32 = 111;
    /// Digest-HA1 (OctetString, RFC 4740): H(A1) as 32 lower-case hex digits.
    pub const DIGEST_HA1: u32 = 121;
    /// Host-IP-Address (Address).
    pub const HOST_IP_ADDRESS: u32 = 257;
    /// Auth-Application-Id (Unsigned32).
    pub const AUTH_APPLICATION_ID: u32 = 258;
    /// Acct-Application-Id (Unsigned32).
    pub const ACCT_APPLICATION_ID: u32 = 259;
    /// Vendor-Specific-Application-Id (Grouped).
    pub const VENDOR_SPECIFIC_APPLICATION_ID: u32 = 260;
    /// Session-Id (UTF8String).
    pub const SESSION_ID: u32 = 263;
    /// Origin-Host (DiameterIdentity).
    pub const ORIGIN_HOST: u32 = 264;
    /// Supported-Vendor-Id (Unsigned32).
    pub const SUPPORTED_VENDOR_ID: u32 = 265;
    /// Vendor-Id (Unsigned32).
    pub const VENDOR_ID: u32 = 266;
    /// Firmware-Revision (Unsigned32).
    pub const FIRMWARE_REVISION: u32 = 267;
    /// Result-Code (Unsigned32).
    pub const RESULT_CODE: u32 = 268;
    /// Product-Name (UTF8String).
    pub const PRODUCT_NAME: u32 = 269;
    /// Disconnect-Cause (Enumerated).
    pub const DISCONNECT_CAUSE: u32 = 273;
    /// Auth-Session-State (Enumerated): 1 = NO_STATE_MAINTAINED.
    pub const AUTH_SESSION_STATE: u32 = 277;
    /// Origin-State-Id (Unsigned32).
    pub const ORIGIN_STATE_ID: u32 = 278;
    /// Failed-AVP (Grouped).
    pub const FAILED_AVP: u32 = 279;
    /// Proxy-Host (DiameterIdentity, inside Proxy-Info).
    pub const PROXY_HOST: u32 = 280;
    /// Error-Message (UTF8String).
    pub const ERROR_MESSAGE: u32 = 281;
    /// Route-Record (DiameterIdentity).
    pub const ROUTE_RECORD: u32 = 282;
    /// Destination-Realm (DiameterIdentity).
    pub const DESTINATION_REALM: u32 = 283;
    /// Proxy-Info (Grouped).
    pub const PROXY_INFO: u32 = 284;
    /// Destination-Host (DiameterIdentity).
    pub const DESTINATION_HOST: u32 = 293;
    /// Origin-Realm (DiameterIdentity).
    pub const ORIGIN_REALM: u32 = 296;
    /// Experimental-Result (Grouped).
    pub const EXPERIMENTAL_RESULT: u32 = 297;
    /// Experimental-Result-Code (Unsigned32).
    pub const EXPERIMENTAL_RESULT_CODE: u32 = 298;
    /// Inband-Security-Id (Unsigned32).
    pub const INBAND_SECURITY_ID: u32 = 299;
    /// Proxy-State (OctetString, inside Proxy-Info).
    pub const PROXY_STATE: u32 = 33;
}

/// Cx AVP codes, vendor 10415 (TS 29.229 §6.3).
pub mod cx {
    /// Visited-Network-Identifier (OctetString).
    pub const VISITED_NETWORK_IDENTIFIER: u32 = 600;
    /// Public-Identity (UTF8String): an IMPU.
    pub const PUBLIC_IDENTITY: u32 = 601;
    /// Server-Name (UTF8String): the S-CSCF's SIP URI.
    pub const SERVER_NAME: u32 = 602;
    /// Server-Capabilities (Grouped).
    pub const SERVER_CAPABILITIES: u32 = 603;
    /// Mandatory-Capability (Unsigned32).
    pub const MANDATORY_CAPABILITY: u32 = 604;
    /// Optional-Capability (Unsigned32).
    pub const OPTIONAL_CAPABILITY: u32 = 605;
    /// User-Data (OctetString): the IMSSubscription XML.
    pub const USER_DATA: u32 = 606;
    /// SIP-Number-Auth-Items (Unsigned32).
    pub const SIP_NUMBER_AUTH_ITEMS: u32 = 607;
    /// SIP-Authentication-Scheme (UTF8String).
    pub const SIP_AUTHENTICATION_SCHEME: u32 = 608;
    /// SIP-Authenticate (OctetString): RAND || AUTN.
    pub const SIP_AUTHENTICATE: u32 = 609;
    /// SIP-Authorization (OctetString): XRES in answers, RAND || AUTS in a resync MAR.
    pub const SIP_AUTHORIZATION: u32 = 610;
    /// SIP-Authentication-Context (OctetString).
    pub const SIP_AUTHENTICATION_CONTEXT: u32 = 611;
    /// SIP-Auth-Data-Item (Grouped).
    pub const SIP_AUTH_DATA_ITEM: u32 = 612;
    /// SIP-Item-Number (Unsigned32).
    pub const SIP_ITEM_NUMBER: u32 = 613;
    /// Server-Assignment-Type (Enumerated).
    pub const SERVER_ASSIGNMENT_TYPE: u32 = 614;
    /// Deregistration-Reason (Grouped).
    pub const DEREGISTRATION_REASON: u32 = 615;
    /// Charging-Information (Grouped).
    pub const CHARGING_INFORMATION: u32 = 618;
    /// User-Authorization-Type (Enumerated).
    pub const USER_AUTHORIZATION_TYPE: u32 = 623;
    /// User-Data-Already-Available (Enumerated).
    pub const USER_DATA_ALREADY_AVAILABLE: u32 = 624;
    /// Confidentiality-Key (OctetString): CK.
    pub const CONFIDENTIALITY_KEY: u32 = 625;
    /// Integrity-Key (OctetString): IK.
    pub const INTEGRITY_KEY: u32 = 626;
    /// Supported-Features (Grouped).
    pub const SUPPORTED_FEATURES: u32 = 628;
    /// Feature-List-ID (Unsigned32).
    pub const FEATURE_LIST_ID: u32 = 629;
    /// Feature-List (Unsigned32).
    pub const FEATURE_LIST: u32 = 630;
    /// Originating-Request (Enumerated).
    pub const ORIGINATING_REQUEST: u32 = 633;
    /// SIP-Digest-Authenticate (Grouped).
    pub const SIP_DIGEST_AUTHENTICATE: u32 = 635;
    /// UAR-Flags (Unsigned32).
    pub const UAR_FLAGS: u32 = 637;
    /// Path (OctetString).
    pub const PATH: u32 = 640;
    /// Contact (OctetString).
    pub const CONTACT: u32 = 641;
    /// Multiple-Registration-Indication (Enumerated).
    pub const MULTIPLE_REGISTRATION_INDICATION: u32 = 648;
}

/// Result-Code values (RFC 6733 §7.1).
pub mod result {
    /// DIAMETER_SUCCESS.
    pub const SUCCESS: u32 = 2001;
    /// DIAMETER_COMMAND_UNSUPPORTED.
    pub const COMMAND_UNSUPPORTED: u32 = 3001;
    /// DIAMETER_APPLICATION_UNSUPPORTED.
    pub const APPLICATION_UNSUPPORTED: u32 = 3007;
    /// DIAMETER_INVALID_HDR_BITS.
    pub const INVALID_HDR_BITS: u32 = 3008;
    /// DIAMETER_AVP_UNSUPPORTED: an AVP with the M bit that we do not know.
    pub const AVP_UNSUPPORTED: u32 = 5001;
    /// DIAMETER_AUTHORIZATION_REJECTED.
    pub const AUTHORIZATION_REJECTED: u32 = 5003;
    /// DIAMETER_INVALID_AVP_VALUE.
    pub const INVALID_AVP_VALUE: u32 = 5004;
    /// DIAMETER_MISSING_AVP.
    pub const MISSING_AVP: u32 = 5005;
    /// DIAMETER_NO_COMMON_APPLICATION.
    pub const NO_COMMON_APPLICATION: u32 = 5010;
    /// DIAMETER_UNSUPPORTED_VERSION.
    pub const UNSUPPORTED_VERSION: u32 = 5011;
    /// DIAMETER_UNABLE_TO_COMPLY.
    pub const UNABLE_TO_COMPLY: u32 = 5012;
    /// DIAMETER_INVALID_AVP_LENGTH.
    pub const INVALID_AVP_LENGTH: u32 = 5014;
    /// DIAMETER_INVALID_MESSAGE_LENGTH.
    pub const INVALID_MESSAGE_LENGTH: u32 = 5015;
}

/// Experimental-Result-Code values of Cx, vendor 10415 (TS 29.229 §6.2).
pub mod experimental {
    /// DIAMETER_FIRST_REGISTRATION.
    pub const FIRST_REGISTRATION: u32 = 2001;
    /// DIAMETER_SUBSEQUENT_REGISTRATION.
    pub const SUBSEQUENT_REGISTRATION: u32 = 2002;
    /// DIAMETER_UNREGISTERED_SERVICE.
    pub const UNREGISTERED_SERVICE: u32 = 2003;
    /// DIAMETER_ERROR_USER_UNKNOWN.
    pub const USER_UNKNOWN: u32 = 5001;
    /// DIAMETER_ERROR_IDENTITIES_DONT_MATCH.
    pub const IDENTITIES_DONT_MATCH: u32 = 5002;
    /// DIAMETER_ERROR_IDENTITY_NOT_REGISTERED.
    pub const IDENTITY_NOT_REGISTERED: u32 = 5003;
    /// DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED.
    pub const AUTH_SCHEME_NOT_SUPPORTED: u32 = 5006;
}

/// Whether imshss knows the AVP `code` of `vendor`: an unknown one with the M bit set is
/// answered with DIAMETER_AVP_UNSUPPORTED (RFC 6733 §4.1).
pub fn is_known(code: u32, vendor: u32) -> bool {
    match vendor {
        0 => matches!(
            code,
            base::USER_NAME
                | base::PROXY_STATE
                | base::DIGEST_REALM
                | base::DIGEST_QOP
                | base::DIGEST_ALGORITHM
                | base::DIGEST_HA1
                | base::HOST_IP_ADDRESS
                | base::AUTH_APPLICATION_ID
                | base::ACCT_APPLICATION_ID
                | base::VENDOR_SPECIFIC_APPLICATION_ID
                | base::SESSION_ID
                | base::ORIGIN_HOST
                | base::SUPPORTED_VENDOR_ID
                | base::VENDOR_ID
                | base::FIRMWARE_REVISION
                | base::RESULT_CODE
                | base::PRODUCT_NAME
                | base::DISCONNECT_CAUSE
                | base::AUTH_SESSION_STATE
                | base::ORIGIN_STATE_ID
                | base::FAILED_AVP
                | base::PROXY_HOST
                | base::ERROR_MESSAGE
                | base::ROUTE_RECORD
                | base::DESTINATION_REALM
                | base::PROXY_INFO
                | base::DESTINATION_HOST
                | base::ORIGIN_REALM
                | base::EXPERIMENTAL_RESULT
                | base::EXPERIMENTAL_RESULT_CODE
                | base::INBAND_SECURITY_ID
        ),
        VENDOR_3GPP => matches!(code, 600..=649),
        _ => false,
    }
}

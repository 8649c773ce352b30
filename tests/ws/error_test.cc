// tests/ws/error_test.cc: unit tests for ws/error.cc, the cause -> status / close code table.
// Layer: tests/.
#include "ws/error.h"

#include <doctest/doctest.h>

#include "ws/utf8.h"

using epws::ws::CloseCode;
using epws::ws::ProtocolError;

TEST_SUITE("ws/error") {

TEST_CASE("every close code 0..5000 is classified as RFC 6455 section 7.4 allows on the wire") {
    for (uint32_t code = 0; code <= 5000; ++code) {
        // Written out range by range from RFC 6455 §7.4.1/§7.4.2 and the IANA registry, so that
        // a slip in error.cc's single condition shows up here.
        bool want = false;
        if (code <= 999) want = false;               // not used
        else if (code <= 1003) want = true;          // normal, going away, protocol, data type
        else if (code == 1004) want = false;         // reserved
        else if (code <= 1006) want = false;         // 1005 no status, 1006 abnormal: local only
        else if (code <= 1014) want = true;          // 1007-1011 RFC; 1012-1014 IANA
        else if (code == 1015) want = false;         // TLS failure: local only
        else if (code <= 2999) want = false;         // reserved for future RFCs
        else if (code <= 4999) want = true;          // libraries, frameworks, applications
        CAPTURE(code);
        CHECK(epws::ws::is_valid_wire_close_code(code) == want);
    }
    CHECK_FALSE(epws::ws::is_valid_wire_close_code(65535));
}

TEST_CASE("every protocol error maps to the close code its cause calls for") {
    struct Row {
        ProtocolError error;
        CloseCode code;
    };
    const Row rows[] = {
        {ProtocolError::kNone, CloseCode::kNormal},
        {ProtocolError::kReservedBits, CloseCode::kProtocolError},
        {ProtocolError::kReservedOpcode, CloseCode::kProtocolError},
        {ProtocolError::kUnmaskedClientFrame, CloseCode::kProtocolError},
        {ProtocolError::kMaskedServerFrame, CloseCode::kProtocolError},
        {ProtocolError::kControlTooLong, CloseCode::kProtocolError},
        {ProtocolError::kControlFragmented, CloseCode::kProtocolError},
        {ProtocolError::kBadLength, CloseCode::kProtocolError},
        {ProtocolError::kUnexpectedContinuation, CloseCode::kProtocolError},
        {ProtocolError::kExpectedContinuation, CloseCode::kProtocolError},
        {ProtocolError::kBadCloseLength, CloseCode::kProtocolError},
        {ProtocolError::kBadCloseCode, CloseCode::kProtocolError},
        {ProtocolError::kBadCloseReason, CloseCode::kInvalidPayload},
        {ProtocolError::kInvalidUtf8, CloseCode::kInvalidPayload},
        {ProtocolError::kMessageTooBig, CloseCode::kMessageTooBig},
        {ProtocolError::kTooManyFragments, CloseCode::kMessageTooBig},
        {ProtocolError::kBadDeflateData, CloseCode::kInvalidPayload},
        {ProtocolError::kInflateTooBig, CloseCode::kMessageTooBig},
        {ProtocolError::kOutputOverflow, CloseCode::kPolicyViolation},
        {ProtocolError::kTimeout, CloseCode::kGoingAway},
    };
    CHECK(std::size(rows) == static_cast<size_t>(ProtocolError::kTimeout) + 1);
    for (const Row& r : rows) {
        CAPTURE(static_cast<int>(r.error));
        CHECK(epws::ws::close_code(r.error) == r.code);
        // Every code we send must itself be one a peer accepts.
        CHECK(epws::ws::is_valid_wire_close_code(static_cast<uint32_t>(r.code)));
    }
}

TEST_CASE("every close reason fits a close frame and is valid UTF-8") {
    for (size_t i = 0; i <= static_cast<size_t>(ProtocolError::kTimeout); ++i) {
        const std::string_view reason = epws::ws::close_reason(static_cast<ProtocolError>(i));
        CAPTURE(i);
        CHECK(reason.size() <= 123);
        CHECK(epws::ws::is_valid_utf8(reinterpret_cast<const std::byte*>(reason.data()),
                                      reason.size()));
        if (i != 0) CHECK_FALSE(reason.empty());
    }
}

}  // TEST_SUITE

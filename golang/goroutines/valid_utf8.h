// Strings read from a process (pprof labels: any Go string) or its binary,
// made fit for the API's proto3 string fields, which must be UTF-8: a
// message with one invalid string does not parse on the other side, so one
// goroutine with a binary label would cost the whole dump.
#ifndef GSPY_GOLANG_GOROUTINES_VALID_UTF8_H_
#define GSPY_GOLANG_GOROUTINES_VALID_UTF8_H_

#include <string>
#include <string_view>

namespace gspy {

// `s` with each run of bytes that is not UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF) replaced by U+FFFD, as Go's
// strings.ToValidUTF8(s, "\uFFFD") does.
std::string ValidUtf8(std::string_view s);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_VALID_UTF8_H_

// A levelled logger for gspy's programs (Debian 12's abseil has no logging).
//
//   GSPY_LOG(INFO) << "watching the pods of node " << node;
//
// writes one line to stderr:
//
//   I1206 17:26:20.123456 gspyd pod_watcher.cc:98] watching the pods of ...
//
// glog's prefix (severity letter, month and day, local time to the
// microsecond) with the program's name where glog puts the thread id: the
// name is what tells gspyd's lines from others' in a shared log. Severities
// below the level (SetLogLevel; gspyd's --log-level) cost one atomic load:
// the message's operands are not even evaluated.
//
// Lines that other programs parse (gspyd's "listening on HOST:PORT") are not
// log lines: LogPlain writes them as given, whatever the level.
#ifndef GSPY_BASE_LOG_H_
#define GSPY_BASE_LOG_H_

#include <atomic>
#include <functional>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gspy {

enum class LogSeverity { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error" (any case); INVALID_ARGUMENT else.
absl::StatusOr<LogSeverity> ParseLogSeverity(absl::string_view name);
absl::string_view LogSeverityName(LogSeverity severity);

// Messages below `level` are dropped. The default is kInfo.
void SetLogLevel(LogSeverity level);

// For absl flags of this type (gspyd's --log-level): the names above.
bool AbslParseFlag(absl::string_view text, LogSeverity* severity,
                   std::string* error);
std::string AbslUnparseFlag(LogSeverity severity);

namespace log_internal {
extern std::atomic<int> g_level;
}  // namespace log_internal

inline bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) >=
         log_internal::g_level.load(std::memory_order_relaxed);
}

// The prefix of a line: "I1206 17:26:20.123456 gspyd file.cc:42] ".
// `file` is shortened to its base name.
std::string LogPrefix(LogSeverity severity, absl::Time time,
                      absl::TimeZone zone, absl::string_view program,
                      absl::string_view file, int line);

// Writes `line` and a newline to stderr as it is, at any level.
void LogPlain(absl::string_view line);

// Where whole lines (newline included) go instead of stderr: for tests.
// Null restores stderr. Not to be called while other threads log.
void SetLogSinkForTest(std::function<void(absl::string_view line)> sink);

namespace log_internal {

// One message: collects the text, writes the line when destroyed.
class LogMessage {
 public:
  LogMessage(LogSeverity severity, const char* file, int line);
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// Turns the stream expression into void, for the ?: in GSPY_LOG.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace log_internal
}  // namespace gspy

// GSPY_LOG(DEBUG|INFO|WARNING|ERROR) << ...; see above.
#define GSPY_LOG(severity)                                                   \
  !::gspy::LogEnabled(::gspy::LogSeverity::GSPY_LOG_SEVERITY_##severity)     \
      ? (void)0                                                              \
      : ::gspy::log_internal::Voidify() &                                    \
            ::gspy::log_internal::LogMessage(                                \
                ::gspy::LogSeverity::GSPY_LOG_SEVERITY_##severity, __FILE__, \
                __LINE__)                                                    \
                .stream()

#define GSPY_LOG_SEVERITY_DEBUG kDebug
#define GSPY_LOG_SEVERITY_INFO kInfo
#define GSPY_LOG_SEVERITY_WARNING kWarning
#define GSPY_LOG_SEVERITY_ERROR kError

#endif  // GSPY_BASE_LOG_H_

#include "base/log.h"

#include <errno.h>  // program_invocation_short_name
#include <stdio.h>

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace gspy {
namespace log_internal {
std::atomic<int> g_level{static_cast<int>(LogSeverity::kInfo)};
}  // namespace log_internal

namespace {

// One lock for every line, so that lines of several threads do not
// interleave, and so that a test's sink is swapped safely.
ABSL_CONST_INIT absl::Mutex g_write_mu(absl::kConstInit);
std::function<void(absl::string_view)>* g_sink ABSL_GUARDED_BY(g_write_mu) =
    nullptr;

void WriteLine(absl::string_view line) {
  absl::MutexLock lock(&g_write_mu);
  if (g_sink != nullptr) {
    (*g_sink)(line);
    return;
  }
  // stderr is unbuffered: one fwrite is one write(2) for a short line.
  fwrite(line.data(), 1, line.size(), stderr);
}

constexpr char kLetters[] = {'D', 'I', 'W', 'E'};

}  // namespace

absl::StatusOr<LogSeverity> ParseLogSeverity(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (LogSeverity s : {LogSeverity::kDebug, LogSeverity::kInfo,
                        LogSeverity::kWarning, LogSeverity::kError}) {
    if (lower == LogSeverityName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "log level \"", name, "\": want debug, info, warning or error"));
}

absl::string_view LogSeverityName(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kDebug:
      return "debug";
    case LogSeverity::kInfo:
      return "info";
    case LogSeverity::kWarning:
      return "warning";
    case LogSeverity::kError:
      return "error";
  }
  return "unknown";
}

bool AbslParseFlag(absl::string_view text, LogSeverity* severity,
                   std::string* error) {
  absl::StatusOr<LogSeverity> parsed = ParseLogSeverity(text);
  if (!parsed.ok()) {
    *error = std::string(parsed.status().message());
    return false;
  }
  *severity = *parsed;
  return true;
}

std::string AbslUnparseFlag(LogSeverity severity) {
  return std::string(LogSeverityName(severity));
}

void SetLogLevel(LogSeverity level) {
  log_internal::g_level.store(static_cast<int>(level),
                              std::memory_order_relaxed);
}

std::string LogPrefix(LogSeverity severity, absl::Time time,
                      absl::TimeZone zone, absl::string_view program,
                      absl::string_view file, int line) {
  const size_t slash = file.rfind('/');
  if (slash != absl::string_view::npos) file.remove_prefix(slash + 1);
  return absl::StrCat(
      absl::string_view(&kLetters[static_cast<int>(severity)], 1),
      absl::FormatTime("%m%d %H:%M:%E6S", time, zone), " ", program, " ", file,
      ":", line, "] ");
}

void LogPlain(absl::string_view line) { WriteLine(absl::StrCat(line, "\n")); }

void SetLogSinkForTest(std::function<void(absl::string_view line)> sink) {
  absl::MutexLock lock(&g_write_mu);
  delete g_sink;
  g_sink = sink ? new std::function<void(absl::string_view)>(std::move(sink))
                : nullptr;
}

namespace log_internal {

LogMessage::LogMessage(LogSeverity severity, const char* file, int line)
    : severity_(severity), file_(file), line_(line) {}

LogMessage::~LogMessage() {
  // The time the line is written, not when the message began: they differ
  // by the formatting only.
  static const absl::TimeZone* const kZone =
      new absl::TimeZone(absl::LocalTimeZone());
  std::string text = LogPrefix(severity_, absl::Now(), *kZone,
                               program_invocation_short_name, file_, line_);
  absl::StrAppend(&text, stream_.str(), "\n");
  WriteLine(text);
}

}  // namespace log_internal
}  // namespace gspy

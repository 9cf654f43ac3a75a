// CaptureStore: the captures on disk, one directory each under
// --capture-dir (the files, then capture.pb, the CaptureInfo, written last),
// bounded in count and bytes: adding one drops the oldest until both bounds
// hold. A capture is written in a ".partial" directory and renamed into
// place when whole, so a crash leaves no half capture in the index; the
// index is rebuilt from the directory at start, so captures survive a
// restart of gspyd.
#ifndef GSPY_DAEMON_CAPTURE_CAPTURE_STORE_H_
#define GSPY_DAEMON_CAPTURE_CAPTURE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

struct CaptureStoreOptions {
  std::string dir = "/var/lib/gspy/captures";
  int max_count = 100;
  int64_t max_bytes = int64_t{256} << 20;
};

struct CaptureFileData {
  std::string name;  // [a-z0-9._-]+, no leading dot
  std::string data;
};

// The id of a capture taken at `at` for `metric` of `pid`: its time first,
// so that ids sort as the captures were taken.
std::string CaptureId(absl::Time at, const std::string& metric, int pid);

class CaptureStore {
 public:
  // Creates the directory (mode 0700) if missing, removes the ".partial"
  // ones a crash left and reads the index of the others (a directory whose
  // capture.pb is missing or does not parse is skipped with a warning).
  static absl::StatusOr<std::unique_ptr<CaptureStore>> Open(
      CaptureStoreOptions options, std::vector<std::string>* warnings);

  // Stores a capture (info's files and bytes are set here, and its id made
  // unique), then drops the oldest until the bounds hold; the one just
  // added goes too when alone it exceeds max_bytes. Returns the rules of
  // the captures dropped, one entry per capture.
  absl::StatusOr<std::vector<std::string>> Add(
      gspy::v1::CaptureInfo* info, const std::vector<CaptureFileData>& files);
  absl::StatusOr<std::vector<std::string>> Add(
      gspy::v1::CaptureInfo info, const std::vector<CaptureFileData>& files) {
    return Add(&info, files);
  }

  std::vector<gspy::v1::CaptureInfo> List() const;
  // NOT_FOUND for an id the index does not hold.
  absl::StatusOr<gspy::v1::GetCaptureResponse> Get(const std::string& id) const;

  int count() const;
  int64_t bytes() const;

 private:
  explicit CaptureStore(CaptureStoreOptions options)
      : options_(std::move(options)) {}
  // Removes the oldest captures until the bounds hold; their rules.
  std::vector<std::string> DropOldest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CaptureStoreOptions options_;
  mutable absl::Mutex mu_;
  // By id, which sorts by time: begin() is the oldest.
  std::map<std::string, gspy::v1::CaptureInfo> index_ ABSL_GUARDED_BY(mu_);
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_CAPTURE_CAPTURE_STORE_H_

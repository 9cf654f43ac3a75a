#include "golang/goroutines/goroutines_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {

bool EmitProcessParts(
    gspy::v1::ProcessGoroutines process, size_t part_bytes,
    const std::function<bool(const gspy::v1::GetGoroutinesResponse&)>& emit) {
  google::protobuf::RepeatedPtrField<gspy::v1::Goroutine> all;
  all.Swap(process.mutable_goroutines());
  google::protobuf::RepeatedPtrField<gspy::v1::LabelSet> sets;
  sets.Swap(process.mutable_label_sets());
  gspy::v1::GetGoroutinesResponse part;
  // The label sets first, in parts of their own, so that every goroutine's
  // set has arrived before it does.
  for (int next_set = 0; next_set < sets.size();) {
    part.Clear();
    gspy::v1::ProcessGoroutines* p = part.mutable_process();
    p->set_pid(process.pid());
    p->set_go_version(process.go_version());
    size_t bytes = 0;
    for (; next_set < sets.size(); ++next_set) {
      const size_t size = sets[next_set].ByteSizeLong() + 6;
      if (p->label_sets_size() > 0 && bytes + size > part_bytes) break;
      bytes += size;
      *p->add_label_sets() = std::move(sets[next_set]);
    }
    if (!emit(part)) return false;
  }
  int next = 0;
  do {
    part.Clear();
    gspy::v1::ProcessGoroutines* p = part.mutable_process();
    p->set_pid(process.pid());
    p->set_go_version(process.go_version());
    size_t bytes = 0;
    for (; next < all.size(); ++next) {
      // Its field tag and length take at most 6 bytes more.
      const size_t size = all[next].ByteSizeLong() + 6;
      if (p->goroutines_size() > 0 && bytes + size > part_bytes) break;
      bytes += size;
      *p->add_goroutines() = std::move(all[next]);
    }
    if (next == all.size()) {
      p->MergeFrom(process);  // the counts; goroutines were swapped out
      part.set_last_part(true);
    }
    if (!emit(part)) return false;
  } while (next < all.size());
  return true;
}

bool EmitPprofPieces(
    const std::string& pprof, size_t piece_bytes,
    const std::function<bool(const gspy::v1::GetGoroutinesResponse&)>& emit) {
  gspy::v1::GetGoroutinesResponse piece;
  for (size_t at = 0; at < pprof.size(); at += piece_bytes) {
    piece.set_pprof(pprof.substr(at, piece_bytes));
    if (!emit(piece)) return false;
  }
  return true;
}

absl::Status GoroutinesDumps::Add(gspy::v1::GetGoroutinesResponse message) {
  for (std::string& w : *message.mutable_warnings()) {
    warnings.push_back(std::move(w));
  }
  absl::StrAppend(&pprof, message.pprof());
  if (!message.has_process()) return absl::OkStatus();
  gspy::v1::ProcessGoroutines& part = *message.mutable_process();
  if (open_) {
    gspy::v1::ProcessGoroutines& current = processes.back();
    if (part.pid() != current.pid()) {
      return absl::InternalError(
          absl::StrCat("gspyd sent goroutines of pid ", part.pid(),
                       " before the last of pid ", current.pid()));
    }
    // Repeated fields (goroutines, warnings) append; the counts, set on the
    // last part only, arrive with it.
    current.MergeFrom(part);
  } else {
    processes.push_back(std::move(part));
  }
  open_ = !message.last_part();
  return absl::OkStatus();
}

absl::Status GoroutinesDumps::Finish() const {
  if (open_) {
    return absl::InternalError(absl::StrCat("the goroutines of pid ",
                                            processes.back().pid(),
                                            " ended without their last part"));
  }
  return absl::OkStatus();
}

}  // namespace gspy

#include "profile/redact/redactor.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

absl::StatusOr<std::unique_ptr<RE2>> Compile(const std::string& pattern,
                                             absl::string_view flag) {
  if (pattern.empty()) return nullptr;
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, "=", pattern, ": not an RE2 pattern: ", re->error()));
  }
  return re;
}

}  // namespace

const Redactor& Redactor::None() {
  static const Redactor* none = new Redactor();
  return *none;
}

absl::StatusOr<std::unique_ptr<Redactor>> Redactor::Create(
    const RedactOptions& options, std::optional<KeyedHash> key) {
  std::unique_ptr<Redactor> r(new Redactor());
  absl::StatusOr<std::unique_ptr<RE2>> functions =
      Compile(options.functions, "redact-functions");
  if (!functions.ok()) return functions.status();
  absl::StatusOr<std::unique_ptr<RE2>> files =
      Compile(options.files, "redact-files");
  if (!files.ok()) return files.status();
  r->functions_ = *std::move(functions);
  r->files_ = *std::move(files);
  for (const std::string& k : options.redact_labels) {
    if (!k.empty()) r->redact_labels_.insert(k);
  }
  for (const std::string& k : options.drop_labels) {
    if (k.empty()) continue;
    if (r->redact_labels_.contains(k)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label key ", k, " is in both --redact-labels and --drop-labels"));
    }
    r->drop_labels_.insert(k);
  }
  r->anonymize_goids_ = options.anonymize_goroutine_ids;
  if ((r->anonymize_goids_ || !r->redact_labels_.empty()) && !key) {
    return absl::InvalidArgumentError(
        "hashing labels or goroutine ids needs a key");
  }
  r->key_ = std::move(key);
  r->active_ = r->functions_ != nullptr || r->files_ != nullptr ||
               !r->redact_labels_.empty() || !r->drop_labels_.empty() ||
               r->anonymize_goids_;
  return r;
}

bool Redactor::RedactsFrame(absl::string_view function,
                            absl::string_view file) const {
  if (functions_ == nullptr && files_ == nullptr) return false;
  std::string cache_key =
      absl::StrCat(function, absl::string_view("\0", 1), file);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = frame_cache_.find(cache_key); it != frame_cache_.end()) {
      return it->second;
    }
  }
  const bool redacted =
      (functions_ != nullptr &&
       RE2::PartialMatch(re2::StringPiece(function.data(), function.size()),
                         *functions_)) ||
      (files_ != nullptr && !file.empty() &&
       RE2::PartialMatch(re2::StringPiece(file.data(), file.size()), *files_));
  absl::MutexLock lock(&mu_);
  if (frame_cache_.size() >= kMaxCachedFrames) frame_cache_.clear();
  frame_cache_.emplace(std::move(cache_key), redacted);
  return redacted;
}

std::optional<std::string> Redactor::LabelValue(absl::string_view key,
                                                absl::string_view value) const {
  if (drop_labels_.contains(key)) return std::nullopt;
  if (!redact_labels_.contains(key)) return std::string(value);
  // The key is part of the message: equal values of two keys differ.
  const std::string message =
      absl::StrCat(key, absl::string_view("\0", 1), value);
  return absl::StrCat(
      "redacted:", absl::Hex(key_->Mac64("label", message), absl::kZeroPad16));
}

int64_t Redactor::GoroutineId(int64_t goid) const {
  if (!anonymize_goids_ || goid == 0) return goid;
  char bytes[8];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(static_cast<uint64_t>(goid) >> (8 * i));
  }
  const uint64_t h = key_->Mac64("goid", absl::string_view(bytes, 8)) >> 1;
  return h == 0 ? 1 : static_cast<int64_t>(h);
}

absl::Status Redactor::CheckFilter(const SampleFilter* filter) const {
  if (filter == nullptr || !active_) return absl::OkStatus();
  if ((functions_ != nullptr || files_ != nullptr) && filter->uses_stack()) {
    return absl::InvalidArgumentError(
        "filter: stack: terms are refused while gspyd redacts frames "
        "(--redact-functions/--redact-files): they would match names the "
        "profile hides");
  }
  for (const std::string& k : filter->label_keys()) {
    if (redact_labels_.contains(k) || drop_labels_.contains(k)) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter: label:", k,
                       " is refused: gspyd redacts that label's values"));
    }
  }
  return absl::OkStatus();
}

void Redactor::RedactGoroutines(gspy::v1::ProcessGoroutines* process) const {
  if (!active_) return;
  // A redacted frame loses its pc and offset too: whoever has the binary
  // would symbolize them again. The frames inlined at one pc share it, so
  // it goes from all of them when one is redacted.
  absl::flat_hash_set<uint64_t> redacted_pcs;
  auto redact_frame = [&](gspy::v1::StackFrame* f) {
    if (!RedactsFrame(f->function(), f->file())) return;
    f->set_function(std::string(kRedactedFunction));
    f->clear_file();
    f->clear_line();
    if (f->pc() != 0) redacted_pcs.insert(f->pc());
    f->clear_pc();
    f->clear_offset();
  };
  auto clear_shared_pcs = [&](gspy::v1::StackFrame* f) {
    if (f->pc() != 0 && redacted_pcs.contains(f->pc())) {
      f->clear_pc();
      f->clear_offset();
    }
  };
  for (gspy::v1::Goroutine& g : *process->mutable_goroutines()) {
    redacted_pcs.clear();
    for (gspy::v1::StackFrame& f : *g.mutable_frames()) redact_frame(&f);
    if (g.has_created_by()) redact_frame(g.mutable_created_by());
    if (!redacted_pcs.empty()) {
      for (gspy::v1::StackFrame& f : *g.mutable_frames()) clear_shared_pcs(&f);
      if (g.has_created_by()) clear_shared_pcs(g.mutable_created_by());
    }
    // Why a stack ends early may name the function it stopped at.
    if (!g.stack_error().empty() && RedactsFrame(g.stack_error(), "")) {
      g.set_stack_error(std::string(kRedactedFunction));
    }
    RedactLabels(g.mutable_labels());
    g.set_goid(GoroutineId(g.goid()));
    g.set_parent_goid(GoroutineId(g.parent_goid()));
  }
  // Label sets sent once per process (GetGoroutinesRequest.
  // shared_label_sets) instead of in each goroutine.
  for (gspy::v1::LabelSet& set : *process->mutable_label_sets()) {
    RedactLabels(set.mutable_labels());
  }
}

void Redactor::RedactLabels(
    google::protobuf::RepeatedPtrField<gspy::v1::Label>* labels) const {
  if (redact_labels_.empty() && drop_labels_.empty()) return;
  int kept = 0;
  for (int i = 0; i < labels->size(); ++i) {
    gspy::v1::Label& l = (*labels)[i];
    std::optional<std::string> v = LabelValue(l.key(), l.value());
    if (!v) continue;
    l.set_value(*std::move(v));
    if (kept != i) labels->SwapElements(kept, i);
    ++kept;
  }
  while (labels->size() > kept) labels->RemoveLast();
}

void Redactor::RedactLabelPairs(
    std::vector<std::pair<std::string, std::string>>* labels) const {
  if (redact_labels_.empty() && drop_labels_.empty()) return;
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(labels->size());
  for (auto& [k, v] : *labels) {
    std::optional<std::string> value = LabelValue(k, v);
    if (value) out.emplace_back(std::move(k), *std::move(value));
  }
  *labels = std::move(out);
}

}  // namespace gspy

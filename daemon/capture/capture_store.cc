#include "daemon/capture/capture_store.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gspy {
namespace {

namespace fs = std::filesystem;

constexpr char kInfoFile[] = "capture.pb";
constexpr char kPartial[] = ".partial";
// A capture.pb is a few hundred bytes; anything larger is not ours.
constexpr int64_t kMaxInfoBytes = 1 << 20;

bool SafeName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const fs::path& path, int64_t limit) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": ", ec.message()));
  }
  if (size > static_cast<uintmax_t>(limit)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path.string(), ": larger than ", limit, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size) {
    return absl::DataLossError(absl::StrCat(path.string(), ": short read"));
  }
  return data;
}

}  // namespace

std::string CaptureId(absl::Time at, const std::string& metric, int pid) {
  return absl::StrCat(
      absl::FormatTime("%Y%m%d-%H%M%E3S", at, absl::UTCTimeZone()), "-", metric,
      "-", pid);
}

absl::StatusOr<std::unique_ptr<CaptureStore>> CaptureStore::Open(
    CaptureStoreOptions options, std::vector<std::string>* warnings) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("--capture-dir: empty");
  }
  if (options.max_count < 1 || options.max_bytes < 1) {
    return absl::InvalidArgumentError(
        "--capture-max-count and --capture-max-bytes must be positive");
  }
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--capture-dir ", options.dir, ": ", ec.message()));
  }
  // Captures hold stacks and labels: root only.
  chmod(options.dir.c_str(), 0700);
  std::unique_ptr<CaptureStore> store(new CaptureStore(std::move(options)));
  const fs::path dir = store->options_.dir;
  absl::MutexLock lock(&store->mu_);
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory()) continue;
    if (absl::EndsWith(name, kPartial)) {
      fs::remove_all(e.path(), ec);
      continue;
    }
    absl::StatusOr<std::string> bytes =
        ReadFile(e.path() / kInfoFile, kMaxInfoBytes);
    gspy::v1::CaptureInfo info;
    if (!bytes.ok() || !info.ParseFromString(*bytes) || info.id() != name ||
        !SafeName(name)) {
      warnings->push_back(absl::StrCat(
          "--capture-dir: ", e.path().string(),
          " is not a capture (no readable capture.pb naming it); left alone"));
      continue;
    }
    store->bytes_ += info.bytes();
    store->index_.emplace(name, std::move(info));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--capture-dir ", dir.string(), ": ", ec.message()));
  }
  store->DropOldest();  // the bounds may have shrunk since the last run
  return store;
}

absl::StatusOr<std::vector<std::string>> CaptureStore::Add(
    gspy::v1::CaptureInfo* stored, const std::vector<CaptureFileData>& files) {
  gspy::v1::CaptureInfo& info = *stored;
  if (!SafeName(info.id())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "capture id \"", absl::CHexEscape(info.id()), "\" is not a file name"));
  }
  int64_t bytes = 0;
  info.clear_files();
  for (const CaptureFileData& f : files) {
    if (!SafeName(f.name) || f.name == kInfoFile) {
      return absl::InvalidArgumentError(absl::StrCat("capture file name \"",
                                                     absl::CHexEscape(f.name),
                                                     "\" is not allowed"));
    }
    bytes += static_cast<int64_t>(f.data.size());
    info.add_files(f.name);
  }
  info.set_bytes(bytes);
  const fs::path dir = options_.dir;
  std::string id = info.id();
  absl::MutexLock lock(&mu_);
  // Two captures in one millisecond for one rule and pid: told apart.
  for (int n = 2; index_.contains(id) || fs::exists(dir / id); ++n) {
    id = absl::StrCat(info.id(), "-", n);
  }
  info.set_id(id);
  const fs::path partial = dir / absl::StrCat(id, kPartial);
  std::error_code ec;
  fs::remove_all(partial, ec);
  fs::create_directory(partial, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", partial.string(), ": ", ec.message()));
  }
  absl::Status written;
  for (const CaptureFileData& f : files) {
    written.Update(WriteFile(partial / f.name, f.data));
  }
  written.Update(WriteFile(partial / kInfoFile, info.SerializeAsString()));
  if (written.ok()) {
    fs::rename(partial, dir / id, ec);
    if (ec) {
      written = absl::InternalError(
          absl::StrCat("cannot rename ", partial.string(), ": ", ec.message()));
    }
  }
  if (!written.ok()) {
    fs::remove_all(partial, ec);
    return written;
  }
  bytes_ += bytes;
  index_.emplace(id, info);
  return DropOldest();
}

std::vector<std::string> CaptureStore::DropOldest() {
  std::vector<std::string> dropped;
  while (!index_.empty() &&
         (static_cast<int64_t>(index_.size()) > options_.max_count ||
          bytes_ > options_.max_bytes)) {
    auto oldest = index_.begin();
    std::error_code ec;
    fs::remove_all(fs::path(options_.dir) / oldest->first, ec);
    bytes_ -= oldest->second.bytes();
    dropped.push_back(oldest->second.rule());
    index_.erase(oldest);
  }
  return dropped;
}

std::vector<gspy::v1::CaptureInfo> CaptureStore::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<gspy::v1::CaptureInfo> out;
  out.reserve(index_.size());
  for (const auto& [id, info] : index_) out.push_back(info);
  return out;
}

absl::StatusOr<gspy::v1::GetCaptureResponse> CaptureStore::Get(
    const std::string& id) const {
  gspy::v1::GetCaptureResponse response;
  {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(id);
    if (it == index_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no capture \"", absl::CHexEscape(id.substr(0, 100)),
                       "\" (gspy captures list shows those kept)"));
    }
    *response.mutable_info() = it->second;
  }
  const fs::path dir = fs::path(options_.dir) / id;
  for (const std::string& name : response.info().files()) {
    absl::StatusOr<std::string> data = ReadFile(dir / name, options_.max_bytes);
    if (!data.ok()) return data.status();  // dropped meanwhile, or damaged
    gspy::v1::CaptureFile* f = response.add_files();
    f->set_name(name);
    f->set_data(*std::move(data));
  }
  return response;
}

int CaptureStore::count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(index_.size());
}

int64_t CaptureStore::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace gspy

// Parses .go.buildinfo: the Go version and the module info that `go version
// -m` prints. The version is the only reliable way to tell Go releases apart
// (the pclntab magic is the same from 1.20 to 1.26).
#ifndef GSPY_GOLANG_BINARY_BUILDINFO_H_
#define GSPY_GOLANG_BINARY_BUILDINFO_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "golang/binary/elf_file.h"
#include "golang/binary/go_binary.h"

namespace gspy::gobinary_internal {

// NOT_FOUND when the file has no build info blob.
absl::StatusOr<BuildInfo> ParseBuildInfo(const ElfFile& elf);

// Parses the modinfo text ("path\t...\nmod\t...\nbuild\tk=v\n") into `info`.
void ParseModInfo(std::string_view modinfo, BuildInfo* info);

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_BUILDINFO_H_

// `gspy version`'s lines (cli/version_command.h).
#include "cli/version_command.h"

#include "absl/strings/str_cat.h"
#include "base/version.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(VersionCommandTest, CliLineHasTheProjectVersionAndTheApiPackage) {
  EXPECT_EQ(CliVersionLine(),
            absl::StrCat("gspy ", kGspyVersion, " (api gspy.v1)"));
  // The CMake project version, major.minor.patch.
  EXPECT_TRUE(std::string(kGspyVersion).find('.') != std::string::npos)
      << kGspyVersion;
}

TEST(VersionCommandTest, DaemonLine) {
  gspy::v1::GetVersionResponse r;
  r.set_version("0.1.0");
  r.set_api_version("gspy.v1");
  EXPECT_EQ(DaemonVersionLine("h:1", grpc::Status::OK, r),
            "gspyd 0.1.0 (api gspy.v1) at h:1");
  r.set_api_version("gspy.v2");
  EXPECT_EQ(DaemonVersionLine("h:1", grpc::Status::OK, r),
            "gspyd 0.1.0 (api gspy.v2) at h:1; its API differs from gspy's");
  EXPECT_EQ(
      DaemonVersionLine(
          "h:1", grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused"), {}),
      "gspyd at h:1: could not be reached (UNAVAILABLE: refused)");
  EXPECT_EQ(DaemonVersionLine(
                "h:1", grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""), {}),
            "gspyd at h:1: predates GetVersion (older than gspy)");
}

}  // namespace
}  // namespace gspy

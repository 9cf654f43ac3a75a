#include "daemon/api/server_transport.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace gspy {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/server_transport_test.XXXXXX";
  const char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  return dir != nullptr ? dir : "/tmp";
}

TEST(ServerTransportTest, UnixAddresses) {
  EXPECT_TRUE(IsUnixSocketAddress("unix:///run/gspy/gspyd.sock"));
  EXPECT_FALSE(IsUnixSocketAddress("127.0.0.1:7070"));
  EXPECT_EQ(UnixSocketPath("unix:///run/gspy/gspyd.sock"),
            "/run/gspy/gspyd.sock");
  EXPECT_EQ(UnixSocketPath("unix:/run/gspy/gspyd.sock"),
            "/run/gspy/gspyd.sock");
}

TEST(ServerTransportTest, TlsFlagsGoTogether) {
  EXPECT_TRUE(TcpServerCredentials({}).ok());
  TransportOptions key_only;
  key_only.tls_key_file = "/nonexistent.key";
  EXPECT_EQ(TcpServerCredentials(key_only).status().code(),
            absl::StatusCode::kInvalidArgument);
  TransportOptions ca_only;
  ca_only.tls_client_ca_file = "/nonexistent.pem";
  EXPECT_EQ(TcpServerCredentials(ca_only).status().code(),
            absl::StatusCode::kInvalidArgument);
  TransportOptions missing;
  missing.tls_cert_file = "/nonexistent.crt";
  missing.tls_key_file = "/nonexistent.key";
  absl::Status s = TcpServerCredentials(missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--tls-cert-file=/nonexistent.crt"),
            absl::string_view::npos)
      << s;
}

TEST(ServerTransportTest, SocketDirectoryIsCreatedOwnerOnly) {
  const std::string dir = TempDir();
  const std::string address = "unix://" + dir + "/run/gspyd.sock";
  ASSERT_TRUE(PrepareUnixSocketDirectory(address).ok());
  struct stat st;
  ASSERT_EQ(stat((dir + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // An existing directory others may write (not sticky) is refused.
  const std::string open_dir = dir + "/open";
  ASSERT_EQ(mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  absl::Status s = PrepareUnixSocketDirectory("unix://" + open_dir + "/s.sock");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(PrepareUnixSocketDirectory("unix:relative.sock").code(),
            absl::StatusCode::kInvalidArgument);
  rmdir(open_dir.c_str());
  rmdir((dir + "/run").c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace gspy

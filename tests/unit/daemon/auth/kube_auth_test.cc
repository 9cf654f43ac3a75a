#include "daemon/auth/kube_auth.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/auth/request_access.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

// An API server in miniature: token "alice-token" is alice, allowed to get
// pods/profile in namespace "a" only; "down" makes every review fail.
class FakeReviewer final : public AccessReviewer {
 public:
  absl::StatusOr<k8s::TokenReviewStatus> ReviewToken(
      const std::string& token) override {
    ++token_reviews;
    if (down) return absl::UnavailableError("connection refused");
    k8s::TokenReviewStatus s;
    if (token == "alice-token") {
      s.set_authenticated(true);
      s.mutable_user()->set_username("alice");
      s.mutable_user()->add_groups("system:authenticated");
    } else {
      s.set_error("token expired");
    }
    return s;
  }
  absl::StatusOr<k8s::SubjectAccessReviewStatus> ReviewAccess(
      const k8s::UserInfo& user, const k8s::ResourceAttributes& a) override {
    ++access_reviews;
    if (down) return absl::UnavailableError("connection refused");
    k8s::SubjectAccessReviewStatus s;
    s.set_allowed(user.username() == "alice" && a.resource() == "pods" &&
                  a.subresource() == "profile" && a.group() == "gspy.dev" &&
                  a.namespace_() == "a");
    if (!s.allowed()) s.set_reason("no RBAC policy matched");
    return s;
  }
  int token_reviews = 0;
  int access_reviews = 0;
  bool down = false;
};

struct Fixture {
  explicit Fixture(KubeAuthOptions options = {}) {
    auto r = std::make_unique<FakeReviewer>();
    reviewer = r.get();
    auth = std::make_unique<KubeAuth>(options, std::move(r));
  }
  FakeReviewer* reviewer;
  std::unique_ptr<KubeAuth> auth;
};

TEST(KubeAuth, NoTokenIsUnauthenticatedWithoutAskingTheApiServer) {
  Fixture f;
  absl::StatusOr<k8s::UserInfo> u = f.auth->Authenticate("");
  EXPECT_EQ(u.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(u.status().message(), HasSubstr("--token-file"));
  EXPECT_EQ(f.auth->Authenticate("Basic YWxpY2U6cHc=").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      f.auth->Authenticate("Bearer " + std::string(9000, 'x')).status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(f.reviewer->token_reviews, 0);
}

TEST(KubeAuth, RejectedTokenSaysWhy) {
  Fixture f;
  absl::StatusOr<k8s::UserInfo> u = f.auth->Authenticate("Bearer stale");
  EXPECT_EQ(u.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(u.status().message(), HasSubstr("token expired"));
}

TEST(KubeAuth, TokenIsReviewedOnceWithinTheTtl) {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<k8s::UserInfo> u =
        f.auth->Authenticate("bearer  alice-token ");
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_EQ(u->username(), "alice");
  }
  EXPECT_EQ(f.reviewer->token_reviews, 1);
}

TEST(KubeAuth, DecisionsNameTheUserAndWhatIsMissing) {
  Fixture f;
  absl::StatusOr<k8s::UserInfo> alice =
      f.auth->Authenticate("Bearer alice-token");
  ASSERT_TRUE(alice.ok());
  EXPECT_TRUE(f.auth->Authorize(*alice, PodProfileAccess("a")).ok());
  absl::Status b = f.auth->Authorize(*alice, PodProfileAccess("b"));
  EXPECT_EQ(b.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(b.message(),
            "user \"alice\" cannot get pods/profile (gspy.dev) in namespace "
            "\"b\" (no RBAC policy matched)");
  absl::Status node = f.auth->Authorize(*alice, NodeProfileAccess("n1"));
  EXPECT_EQ(node.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(node.message(),
              HasSubstr("nodes/profile (gspy.dev) on node \"n1\""));
  // Cached: asking again asks the API server no more.
  const int reviews = f.reviewer->access_reviews;
  EXPECT_TRUE(f.auth->Authorize(*alice, PodProfileAccess("a")).ok());
  EXPECT_FALSE(f.auth->Authorize(*alice, PodProfileAccess("b")).ok());
  EXPECT_EQ(f.reviewer->access_reviews, reviews);
}

TEST(KubeAuth, ZeroTtlAsksEveryTime) {
  KubeAuthOptions o;
  o.allowed_ttl = absl::ZeroDuration();
  o.denied_ttl = absl::ZeroDuration();
  Fixture f(o);
  absl::StatusOr<k8s::UserInfo> alice =
      f.auth->Authenticate("Bearer alice-token");
  ASSERT_TRUE(alice.ok());
  ASSERT_TRUE(f.auth->Authenticate("Bearer alice-token").ok());
  EXPECT_EQ(f.reviewer->token_reviews, 2);
  EXPECT_TRUE(f.auth->Authorize(*alice, PodProfileAccess("a")).ok());
  EXPECT_TRUE(f.auth->Authorize(*alice, PodProfileAccess("a")).ok());
  EXPECT_EQ(f.reviewer->access_reviews, 2);
}

TEST(KubeAuth, ApiServerDownIsUnavailableNotAllowed) {
  Fixture f;
  f.reviewer->down = true;
  EXPECT_EQ(f.auth->Authenticate("Bearer alice-token").status().code(),
            absl::StatusCode::kUnavailable);
  k8s::UserInfo alice;
  alice.set_username("alice");
  absl::Status s = f.auth->Authorize(alice, PodProfileAccess("a"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  // Failures are not cached: once it is back, it is asked.
  f.reviewer->down = false;
  EXPECT_TRUE(f.auth->Authenticate("Bearer alice-token").ok());
  EXPECT_TRUE(f.auth->Authorize(alice, PodProfileAccess("a")).ok());
}

TEST(KubeAuth, ManyTokensStayWithinTheBound) {
  KubeAuthOptions o;
  o.max_entries = 8;
  Fixture f(o);
  for (int i = 0; i < 100; ++i) {
    (void)f.auth->Authenticate("Bearer t" + std::to_string(i));
  }
  // The cache kept at most 8: the first tokens are asked about again.
  const int before = f.reviewer->token_reviews;
  (void)f.auth->Authenticate("Bearer t0");
  EXPECT_EQ(f.reviewer->token_reviews, before + 1);
}

}  // namespace
}  // namespace gspy

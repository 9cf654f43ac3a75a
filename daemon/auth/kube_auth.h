// KubeAuth: gspyd's authentication and authorization, the kubelet's way. A
// caller presents a bearer token ("authorization: Bearer <token>"); the API
// server says whose it is (TokenReview) and whether that user may do what
// the request needs (SubjectAccessReview, see request_access.h). Answers are
// cached for a short, bounded time: allowed ones longer than refusals, so a
// new RoleBinding takes effect quickly and a revoked one within the TTL.
#ifndef GSPY_DAEMON_AUTH_KUBE_AUTH_H_
#define GSPY_DAEMON_AUTH_KUBE_AUTH_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/auth/expiring_cache.h"
#include "k8s/access_review.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {

struct KubeAuthOptions {
  // How long an authenticated token and an allowed decision are reused.
  absl::Duration allowed_ttl = absl::Minutes(1);
  // How long a rejected token and a refusal are reused.
  absl::Duration denied_ttl = absl::Seconds(10);
  // Entries of each cache (tokens; decisions).
  size_t max_entries = 1024;
};

// Longer tokens are refused without asking the API server (service-account
// tokens are about 1 KB); it also bounds the token cache's memory.
inline constexpr size_t kMaxTokenBytes = 8192;

class KubeAuth {
 public:
  KubeAuth(KubeAuthOptions options, std::unique_ptr<AccessReviewer> reviewer);

  // The user of the "authorization" metadata value ("Bearer <token>"; empty
  // when absent). UNAUTHENTICATED saying what is missing or why the token was
  // refused; UNAVAILABLE when the API server cannot be asked.
  absl::StatusOr<k8s::UserInfo> Authenticate(absl::string_view authorization);

  // OK when `user` may do `access`; PERMISSION_DENIED naming the user and
  // the missing permission; UNAVAILABLE when the API server cannot be asked.
  absl::Status Authorize(const k8s::UserInfo& user,
                         const k8s::ResourceAttributes& access);

 private:
  struct TokenDecision {
    bool authenticated;
    k8s::UserInfo user;  // when authenticated
    std::string error;   // when not
  };
  struct AccessDecision {
    bool allowed;
    std::string reason;
  };

  const KubeAuthOptions options_;
  const std::unique_ptr<AccessReviewer> reviewer_;
  ExpiringCache<TokenDecision> tokens_;
  ExpiringCache<AccessDecision> decisions_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AUTH_KUBE_AUTH_H_

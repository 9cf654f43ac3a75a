// AccessReviewer: who holds a bearer token (authentication.k8s.io/v1
// TokenReview) and whether that user may do something
// (authorization.k8s.io/v1 SubjectAccessReview), asked of the API server as
// the kubelet asks it. An interface, so that gspyd's decision cache can be
// tested without an API server.
#ifndef GSPY_K8S_ACCESS_REVIEW_H_
#define GSPY_K8S_ACCESS_REVIEW_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k8s/kube_client.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {

class AccessReviewer {
 public:
  virtual ~AccessReviewer() = default;
  // The review's status (authenticated or not, and why); an error only when
  // the API server could not answer.
  virtual absl::StatusOr<k8s::TokenReviewStatus> ReviewToken(
      const std::string& token) = 0;
  virtual absl::StatusOr<k8s::SubjectAccessReviewStatus> ReviewAccess(
      const k8s::UserInfo& user, const k8s::ResourceAttributes& attributes) = 0;
};

// Posts the reviews to the API server of `config` with its credentials (the
// daemon's service account, which needs system:auth-delegator's rights).
class KubeAccessReviewer final : public AccessReviewer {
 public:
  // `audiences`: those the token must be meant for; empty: the API server's.
  KubeAccessReviewer(KubeApiConfig config, std::vector<std::string> audiences);

  absl::StatusOr<k8s::TokenReviewStatus> ReviewToken(
      const std::string& token) override;
  absl::StatusOr<k8s::SubjectAccessReviewStatus> ReviewAccess(
      const k8s::UserInfo& user,
      const k8s::ResourceAttributes& attributes) override;

 private:
  const KubeApiConfig config_;
  const std::vector<std::string> audiences_;
};

}  // namespace gspy

#endif  // GSPY_K8S_ACCESS_REVIEW_H_

#include "k8s/access_review.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace gspy {
namespace {

// Reviews answer at once; do not wait as long as a watch does.
constexpr int kReviewTimeoutSeconds = 10;

template <typename Review>
absl::StatusOr<Review> Post(const KubeApiConfig& config,
                            const std::string& path, const Review& review) {
  std::string body;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = false;  // camelCase, as Kubernetes
  if (auto s =
          google::protobuf::util::MessageToJsonString(review, &body, print);
      !s.ok()) {
    return absl::InternalError(
        absl::StrCat("encoding ", review.kind(), ": ", s.ToString()));
  }
  KubeApiConfig c = config;
  c.watch_timeout_seconds = kReviewTimeoutSeconds - 30;  // read timeout 10 s
  // A client per review: thread-safe, and the token file is re-read, so a
  // rotated service-account token is picked up.
  KubeClient client(c);
  absl::StatusOr<std::string> answer = client.PostJson(path, body);
  if (!answer.ok()) return answer.status();
  Review out;
  if (absl::Status s = ParseKubeJson(*answer, &out); !s.ok()) return s;
  return out;
}

}  // namespace

KubeAccessReviewer::KubeAccessReviewer(KubeApiConfig config,
                                       std::vector<std::string> audiences)
    : config_(std::move(config)), audiences_(std::move(audiences)) {}

absl::StatusOr<k8s::TokenReviewStatus> KubeAccessReviewer::ReviewToken(
    const std::string& token) {
  k8s::TokenReview review;
  review.set_api_version("authentication.k8s.io/v1");
  review.set_kind("TokenReview");
  review.mutable_spec()->set_token(token);
  for (const std::string& a : audiences_)
    review.mutable_spec()->add_audiences(a);
  absl::StatusOr<k8s::TokenReview> out =
      Post(config_, "/apis/authentication.k8s.io/v1/tokenreviews", review);
  if (!out.ok()) return out.status();
  return out->status();
}

absl::StatusOr<k8s::SubjectAccessReviewStatus> KubeAccessReviewer::ReviewAccess(
    const k8s::UserInfo& user, const k8s::ResourceAttributes& attributes) {
  k8s::SubjectAccessReview review;
  review.set_api_version("authorization.k8s.io/v1");
  review.set_kind("SubjectAccessReview");
  k8s::SubjectAccessReviewSpec* spec = review.mutable_spec();
  *spec->mutable_resource_attributes() = attributes;
  spec->set_user(user.username());
  spec->set_uid(user.uid());
  *spec->mutable_groups() = user.groups();
  *spec->mutable_extra() = user.extra();
  absl::StatusOr<k8s::SubjectAccessReview> out = Post(
      config_, "/apis/authorization.k8s.io/v1/subjectaccessreviews", review);
  if (!out.ok()) return out.status();
  return out->status();
}

}  // namespace gspy

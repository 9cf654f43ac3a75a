// The review objects gspyd sends and reads, in the API server's JSON: the
// answers as a v1.37 kube-apiserver writes them (extra is a map of string
// arrays), and the requests with Kubernetes' field names.
#include "k8s/access_review.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "k8s/kube_client.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {
namespace {

TEST(AccessReviewJson, TokenReviewAnswerWithExtraParses) {
  const std::string json =
      R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1",)"
      R"("metadata":{"creationTimestamp":null},"spec":{"token":"t"},)"
      R"("status":{"authenticated":true,"user":{"username":)"
      R"("system:serviceaccount:team-a:alice","uid":"0b1f","groups":)"
      R"(["system:serviceaccounts","system:authenticated"],"extra":)"
      R"({"authentication.kubernetes.io/credential-id":["JTI=6a1f"]}},)"
      R"("audiences":["https://kubernetes.default.svc"]}})";
  k8s::TokenReview review;
  ASSERT_TRUE(ParseKubeJson(json, &review).ok());
  EXPECT_TRUE(review.status().authenticated());
  EXPECT_EQ(review.status().user().username(),
            "system:serviceaccount:team-a:alice");
  EXPECT_EQ(review.status().user().groups_size(), 2);
  const auto& extra = review.status().user().extra();
  ASSERT_EQ(extra.count("authentication.kubernetes.io/credential-id"), 1u);
  EXPECT_EQ(extra.at("authentication.kubernetes.io/credential-id")
                .values(0)
                .string_value(),
            "JTI=6a1f");
}

TEST(AccessReviewJson, SubjectAccessReviewRequestUsesKubernetesNames) {
  k8s::SubjectAccessReview review;
  review.set_api_version("authorization.k8s.io/v1");
  review.set_kind("SubjectAccessReview");
  auto* a = review.mutable_spec()->mutable_resource_attributes();
  a->set_verb("get");
  a->set_group("gspy.dev");
  a->set_resource("pods");
  a->set_subresource("profile");
  a->set_namespace_("team-b");
  review.mutable_spec()->set_user("alice");
  (*review.mutable_spec()->mutable_extra())["k"].add_values()->set_string_value(
      "v");
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(review, &json).ok());
  EXPECT_NE(json.find(R"("apiVersion":"authorization.k8s.io/v1")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("resourceAttributes":{)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("namespace":"team-b")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("extra":{"k":["v"]})"), std::string::npos) << json;
}

}  // namespace
}  // namespace gspy

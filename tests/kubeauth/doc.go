// Package kubeauth proves gspyd's Kubernetes authentication and
// authorization against a real kube-apiserver (k8s.io/kubernetes, in
// process, on an embedded etcd), so that real RBAC decides, with the
// chart's own ClusterRoles and bindings applied to it. Needs root (cgroups,
// eBPF), GSPYD_BIN and GSPY_BIN. See CMakeLists.txt (ctest kubeauth_rbac).
package kubeauth

package deploy

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// listenerFlags are gspyd's flags that open a listener: each must bind
// loopback (or a unix socket) unless gspyd authenticates callers.
var listenerFlags = []string{"--listen", "--metrics-listen"}

// loopbackOnly: an address only the pod itself can reach.
func loopbackOnly(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// unauthenticatedPodIPListeners lists the flags of the DaemonSet's gspyd
// that serve on the pod IP without authentication.
func unauthenticatedPodIPListeners(ds *appsv1.DaemonSet) []string {
	args := map[string]string{}
	for _, a := range ds.Spec.Template.Spec.Containers[0].Args {
		k, v, _ := strings.Cut(a, "=")
		args[k] = v // the last one wins, as for absl flags
	}
	// gspyd's default is --authn=none.
	if args["--authn"] == "kubernetes" {
		return nil
	}
	var out []string
	for _, f := range listenerFlags {
		v, ok := args[f]
		if f == "--listen" && !ok {
			v = "127.0.0.1:7070" // gspyd's default
		}
		if v != "" && !loopbackOnly(v) {
			out = append(out, f+"="+v)
		}
	}
	return out
}

func daemonSetOf(t *testing.T, objs []k8sruntime.Object) *appsv1.DaemonSet {
	t.Helper()
	for _, o := range objs {
		if ds, ok := o.(*appsv1.DaemonSet); ok {
			return ds
		}
	}
	t.Fatal("no DaemonSet rendered")
	return nil
}

// TestNoUnauthenticatedPodIPListener: whatever the values, the chart never
// renders a gspyd that serves gRPC or metrics on the pod IP without
// authentication, and always renders the NetworkPolicy.
func TestNoUnauthenticatedPodIPListener(t *testing.T) {
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			objs := decodeStrict(t, render(t, valuesFile(t, c)))
			ds := daemonSetOf(t, objs)
			if bad := unauthenticatedPodIPListeners(ds); len(bad) != 0 {
				t.Errorf("unauthenticated listeners on the pod IP: %v", bad)
			}
			if c == "default" && !slices.Contains(ds.Spec.Template.Spec.Containers[0].Args, "--authn=kubernetes") {
				t.Errorf("authentication is not on by default: %v", ds.Spec.Template.Spec.Containers[0].Args)
			}
			n := 0
			for _, o := range objs {
				if _, ok := o.(*networkingv1.NetworkPolicy); ok {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d NetworkPolicies rendered, want 1", n)
			}
		})
	}
	// The check itself tells an open listener from a safe one.
	open := &appsv1.DaemonSet{}
	open.Spec.Template.Spec.Containers = []corev1.Container{{
		Args: []string{"--listen=0.0.0.0:7070", "--metrics-listen=127.0.0.1:7071"}}}
	if got := unauthenticatedPodIPListeners(open); fmt.Sprint(got) != "[--listen=0.0.0.0:7070]" {
		t.Errorf("an open --listen is not caught: %v", got)
	}
	open.Spec.Template.Spec.Containers[0].Args = append(open.Spec.Template.Spec.Containers[0].Args, "--authn=kubernetes")
	if got := unauthenticatedPodIPListeners(open); len(got) != 0 {
		t.Errorf("an authenticated listener is reported: %v", got)
	}
}

// checkNetworkPolicy: it selects the DaemonSet's pods, restricts ingress,
// and admits connections only on gspyd's named ports (none without
// authentication).
func checkNetworkPolicy(t *testing.T, name string, np *networkingv1.NetworkPolicy, all []k8sruntime.Object) {
	t.Helper()
	for _, o := range all {
		if ds, ok := o.(*appsv1.DaemonSet); ok {
			for k, v := range np.Spec.PodSelector.MatchLabels {
				if ds.Spec.Template.Labels[k] != v {
					t.Errorf("NetworkPolicy selector %s=%s does not select the DaemonSet's pods", k, v)
				}
			}
			if len(np.Spec.PodSelector.MatchLabels) == 0 {
				t.Errorf("NetworkPolicy selects every pod of the namespace")
			}
			if np.Namespace != ds.Namespace {
				t.Errorf("NetworkPolicy in %s, DaemonSet in %s", np.Namespace, ds.Namespace)
			}
		}
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("policyTypes %v", np.Spec.PolicyTypes)
	}
	if name == "authn-none" {
		if len(np.Spec.Ingress) != 0 {
			t.Errorf("ingress %+v without authentication", np.Spec.Ingress)
		}
		return
	}
	var ports []string
	for _, r := range np.Spec.Ingress {
		if len(r.Ports) == 0 {
			t.Errorf("an ingress rule admits every port: %+v", r)
		}
		for _, p := range r.Ports {
			ports = append(ports, p.Port.String())
		}
	}
	if want := []string{"grpc", "metrics"}; !slices.Equal(ports, want) {
		t.Errorf("ingress ports %v, want %v", ports, want)
	}
}

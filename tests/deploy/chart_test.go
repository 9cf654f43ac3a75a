package deploy

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

var update = flag.Bool("update", false,
	"rewrite testdata/golden/*.yaml and deploy/daemonset.yaml from the chart")

// helmVersion is the Helm the tests build from the Go module proxy.
const helmVersion = "v3.22.0"

const (
	releaseName = "gspy"
	namespace   = "gspy"
)

// The values files of testdata/values, one rendering (and golden file) each.
var cases = []string{"default", "privileged", "push-pyroscope", "parca-cpu-only", "push-otlp", "servicemonitor", "authn-none", "alerts"}

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func chartDir(t testing.TB) string { return filepath.Join(repoRoot(t), "helm", "gspy") }

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns a helm binary: $HELM_BIN, or helm.sh/helm/v3 at helmVersion
// built once into the user's cache directory (the first build downloads the
// modules and takes about 80 s on 2 cores; later runs reuse the binary).
func helm(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("HELM_BIN"); p != "" {
			helmPath = p
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "gspy-tests", "helm-"+helmVersion)
		helmPath = filepath.Join(dir, "helm")
		if _, err := os.Stat(helmPath); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
		// go install pkg@version ignores this module; GOFLAGS from the
		// environment (-mod=...) would only get in its way.
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			helmErr = fmt.Errorf("building helm %s: %v\n%s", helmVersion, err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "built helm %s in %v\n", helmVersion, time.Since(start).Round(time.Second))
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

func runHelm(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

func valuesFile(t testing.TB, name string) string {
	return filepath.Join(repoRoot(t), "tests", "deploy", "testdata", "values", name+".yaml")
}

// render is `helm template` of the chart with one values file, as the golden
// files and deploy/daemonset.yaml hold it.
func render(t testing.TB, values string) []byte {
	t.Helper()
	return runHelm(t, "template", releaseName, chartDir(t), "--namespace", namespace, "-f", values)
}

// compareGolden compares got with the file, or rewrites the file with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./... -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the chart's rendering (go test ./... -update rewrites it after a deliberate change):\n%s",
			path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where want and got differ, with context.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	from := max(0, i-3)
	for j := from; j < i; j++ {
		fmt.Fprintf(&b, "  %4d  %s\n", j+1, w[j])
	}
	for j := i; j < min(len(w), i+8); j++ {
		fmt.Fprintf(&b, "- %4d  %s\n", j+1, w[j])
	}
	for j := i; j < min(len(g), i+8); j++ {
		fmt.Fprintf(&b, "+ %4d  %s\n", j+1, g[j])
	}
	return b.String()
}

func TestHelmLint(t *testing.T) {
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			out := runHelm(t, "lint", "--strict", chartDir(t), "--namespace", namespace, "-f", valuesFile(t, c))
			if !bytes.Contains(out, []byte("0 chart(s) failed")) {
				t.Fatalf("helm lint:\n%s", out)
			}
		})
	}
}

func TestTemplateGolden(t *testing.T) {
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			compareGolden(t, filepath.Join(repoRoot(t), "tests", "deploy", "testdata", "golden", c+".yaml"),
				render(t, valuesFile(t, c)))
		})
	}
}

const plainHeader = `# gspy: plain Kubernetes manifests, the same objects as the Helm chart
# helm/gspy with its default values and namespace.create=true (Namespace
# gspy, labelled for Pod Security "privileged"). Generated: edit the chart,
# then run ` + "`go test ./... -update`" + ` in tests/deploy.
#
#   deploy/build-image.sh                  # the image, localhost/gspy:0.1.0
#   kubectl apply -f deploy/daemonset.yaml
#
# For the privileged fallback (kernels before 5.8), replace the container's
# securityContext with {privileged: true, runAsUser: 0,
# readOnlyRootFilesystem: true}, or use the chart with --set privileged=true.
`

var helmOnlyLabel = regexp.MustCompile(`(?m)^ *(helm\.sh/chart|app\.kubernetes\.io/managed-by): .*\n`)

// plainManifest is deploy/daemonset.yaml as the chart renders it: its
// default values plus namespace.create, without the labels that say Helm
// manages the objects.
func plainManifest(t testing.TB) []byte {
	t.Helper()
	out := render(t, valuesFile(t, "plain"))
	out = helmOnlyLabel.ReplaceAll(out, nil)
	return append([]byte(plainHeader), out...)
}

func TestPlainManifest(t *testing.T) {
	compareGolden(t, filepath.Join(repoRoot(t), "deploy", "daemonset.yaml"), plainManifest(t))
}

// --- strict decoding with Kubernetes' own types ---

var (
	scheme     = k8sruntime.NewScheme()
	schemeOnce sync.Once
)

// strictSerializer decodes YAML into the registered Go types and fails on a
// field they do not have, a duplicated field, or a wrong case (apimachinery's
// strict mode, what kubectl --validate=strict asks of the API server).
func strictSerializer() *json.Serializer {
	schemeOnce.Do(func() {
		for _, add := range []func(*k8sruntime.Scheme) error{
			corev1.AddToScheme, appsv1.AddToScheme, rbacv1.AddToScheme, monitoringv1.AddToScheme,
			networkingv1.AddToScheme,
		} {
			if err := add(scheme); err != nil {
				panic(err)
			}
		}
	})
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
}

// splitDocs splits a multi-document YAML stream, dropping empty documents.
func splitDocs(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(stream), -1) {
		body := regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")
		if strings.TrimSpace(body) == "" {
			continue
		}
		docs = append(docs, []byte(d))
	}
	return docs
}

// decodeStrict decodes every object of a rendering into its Go type.
func decodeStrict(t testing.TB, stream []byte) []k8sruntime.Object {
	t.Helper()
	s := strictSerializer()
	var objs []k8sruntime.Object
	for i, doc := range splitDocs(stream) {
		obj, gvk, err := s.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("document %d does not decode strictly: %v\n%s", i, err, doc)
		}
		if _, ok := obj.(*k8sruntime.Unknown); ok || gvk == nil {
			t.Fatalf("document %d: no Go type for it\n%s", i, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}

func TestStrictDecode(t *testing.T) {
	renders := map[string][]byte{}
	for _, c := range cases {
		renders[c] = render(t, valuesFile(t, c))
	}
	plain, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	renders["deploy/daemonset.yaml"] = plain
	for name, out := range renders {
		t.Run(name, func(t *testing.T) {
			objs := decodeStrict(t, out)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetObjectKind().GroupVersionKind().Kind]++
			}
			// gspyd's ClusterRole and the three users bind to; gspyd's binding
			// and, with authentication, the auth-delegator one.
			want := map[string]int{"ServiceAccount": 1, "ClusterRole": 4, "ClusterRoleBinding": 2, "DaemonSet": 1, "NetworkPolicy": 1}
			if name == "authn-none" {
				want["ClusterRoleBinding"] = 1
			}
			if name == "servicemonitor" {
				want["Service"], want["ServiceMonitor"] = 1, 1
			}
			if name == "alerts" {
				want["PrometheusRule"], want["ConfigMap"] = 1, 1
			}
			if name == "servicemonitor" || name == "deploy/daemonset.yaml" {
				want["Namespace"] = 1
			}
			if fmt.Sprint(kinds) != fmt.Sprint(want) {
				t.Errorf("objects %v, want %v", kinds, want)
			}
			for _, o := range objs {
				checkObject(t, name, o, objs)
			}
		})
	}
}

// checkObject checks what the chart promises of each object beyond its
// schema: the DaemonSet's privileges, mounts, probes and flags; RBAC.
func checkObject(t *testing.T, name string, o k8sruntime.Object, all []k8sruntime.Object) {
	switch o := o.(type) {
	case *appsv1.DaemonSet:
		checkDaemonSet(t, name, o)
	case *rbacv1.ClusterRole:
		var got []string
		for _, r := range o.Rules {
			for _, res := range r.Resources {
				got = append(got, strings.Join(r.APIGroups, ",")+"/"+res+":"+strings.Join(r.Verbs, ","))
			}
		}
		// Exactly what gspyd uses (pod_watcher.cc lists and watches pods)
		// and what it asks SubjectAccessReviews for
		// (daemon/auth/request_access.h).
		want := map[string][]string{
			"gspy":                    {"/pods:list,watch"},
			"gspy-namespace-profiler": {"gspy.dev/pods/profile:get"},
			"gspy-node-profiler":      {"gspy.dev/nodes/profile:get"},
			"gspy-metrics-reader":     {"/nodes/metrics:get"},
		}[o.Name]
		if want == nil || !slices.Equal(got, want) {
			t.Errorf("ClusterRole %s rules %v, want %v", o.Name, got, want)
		}
	case *rbacv1.ClusterRoleBinding:
		wantRole := map[string]string{"gspy": "gspy", "gspy-auth-delegator": "system:auth-delegator"}[o.Name]
		if wantRole == "" || o.RoleRef.Name != wantRole || len(o.Subjects) != 1 || o.Subjects[0].Name != "gspy" || o.Subjects[0].Namespace != namespace {
			t.Errorf("ClusterRoleBinding %+v", o)
		}
	case *networkingv1.NetworkPolicy:
		checkNetworkPolicy(t, name, o, all)
	case *corev1.Namespace:
		if o.Name != namespace || o.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
			t.Errorf("Namespace %s labels %v", o.Name, o.Labels)
		}
	case *corev1.Service:
		if o.Spec.ClusterIP != corev1.ClusterIPNone || len(o.Spec.Ports) != 1 || o.Spec.Ports[0].TargetPort.StrVal != "metrics" {
			t.Errorf("Service %+v", o.Spec)
		}
		for _, other := range all {
			if ds, ok := other.(*appsv1.DaemonSet); ok {
				for k, v := range o.Spec.Selector {
					if ds.Spec.Template.Labels[k] != v {
						t.Errorf("Service selector %s=%s does not select the DaemonSet's pods", k, v)
					}
				}
			}
		}
	case *monitoringv1.PrometheusRule:
		checkPrometheusRule(t, o)
	case *corev1.ConfigMap:
		checkDashboard(t, o)
	case *monitoringv1.ServiceMonitor:
		if len(o.Spec.Endpoints) != 1 || o.Spec.Endpoints[0].Port != "metrics" || o.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints %+v", o.Spec.Endpoints)
		}
		if o.Labels["release"] != "prometheus" {
			t.Errorf("ServiceMonitor labels %v lack serviceMonitor.labels", o.Labels)
		}
	}
}

func checkDaemonSet(t *testing.T, name string, ds *appsv1.DaemonSet) {
	t.Helper()
	spec := ds.Spec.Template.Spec
	for k, v := range ds.Spec.Selector.MatchLabels {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template", k, v)
		}
	}
	// What `gspy --kube-api` looks for (cli/cluster_pull.h).
	if ds.Spec.Template.Labels["app.kubernetes.io/name"] != "gspy" || ds.Namespace != namespace {
		t.Errorf("pods are not app.kubernetes.io/name=gspy in %s: %v in %s", namespace, ds.Spec.Template.Labels, ds.Namespace)
	}
	if !spec.HostPID {
		t.Error("hostPID is not set")
	}
	if spec.HostNetwork {
		t.Error("hostNetwork is set: gspyd serves on the pod IP")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["grpc"] == 0 {
		t.Fatalf("no container port named grpc: %v", c.Ports)
	}
	args := map[string]string{}
	for _, a := range c.Args {
		if !strings.HasPrefix(a, "--") {
			t.Errorf("argument %q is not a --flag", a)
		}
		k, v, _ := strings.Cut(a, "=")
		args[k] = v
	}
	// With authentication gspyd serves on the pod IP and the health
	// service (open, as the kubelet's /healthz) is probed there; without,
	// it serves on the pod's loopback only, where no probe reaches.
	host := "0.0.0.0"
	if args["--authn"] == "none" {
		host = "127.0.0.1"
		if c.LivenessProbe != nil || c.ReadinessProbe != nil {
			t.Errorf("probes on the pod IP, where gspyd does not listen with --authn=none")
		}
	} else {
		for probeName, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if p == nil || p.GRPC == nil || p.GRPC.Port != ports["grpc"] {
				t.Errorf("%s probe is not a gRPC probe on the grpc port: %+v", probeName, p)
			}
		}
	}
	if args["--listen"] != fmt.Sprintf("%s:%d", host, ports["grpc"]) {
		t.Errorf("--listen=%s, want the grpc port %d on %s", args["--listen"], ports["grpc"], host)
	}
	if m, ok := ports["metrics"]; ok && args["--metrics-listen"] != fmt.Sprintf("%s:%d", host, m) {
		t.Errorf("--metrics-listen=%s, want the metrics port %d on %s", args["--metrics-listen"], m, host)
	}
	var nodeName bool
	for _, e := range c.Env {
		nodeName = nodeName || (e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName")
	}
	if !nodeName {
		t.Error("no NODE_NAME from spec.nodeName")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			t.Errorf("volumeMount %s has no volume", m.Name)
			continue
		}
		if !m.ReadOnly {
			t.Errorf("volumeMount %s is writable", m.Name)
		}
		if v.HostPath != nil {
			mounts[v.HostPath.Path] = m.MountPath
		}
		if v.Secret != nil {
			for _, a := range c.Args {
				if _, file, ok := strings.Cut(a, "-file="); ok && strings.HasPrefix(file, m.MountPath+"/") {
					key := strings.TrimPrefix(file, m.MountPath+"/")
					if len(v.Secret.Items) != 1 || v.Secret.Items[0].Path != key {
						t.Errorf("%s names %s, not in secret volume %s (%v)", a, key, v.Name, v.Secret.Items)
					}
				}
			}
		}
	}
	for _, p := range []string{"/sys/kernel/btf", "/sys/kernel/tracing"} {
		if mounts[p] != p {
			t.Errorf("host %s is not mounted at %s: %v", p, p, mounts)
		}
	}
	for _, a := range c.Args {
		if _, file, ok := strings.Cut(a, "-file="); ok {
			found := false
			for _, m := range c.VolumeMounts {
				found = found || strings.HasPrefix(file, m.MountPath+"/")
			}
			if !found {
				t.Errorf("%s: no volume is mounted there", a)
			}
		}
	}
	if len(spec.Tolerations) == 0 {
		t.Error("no tolerations: not every node would run gspyd")
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Fatalf("root file system is not read-only: %+v", sc)
	}
	if sc.Privileged != nil && *sc.Privileged {
		if name != "privileged" {
			t.Errorf("privileged without privileged: true in the values")
		}
		return
	}
	if name == "privileged" {
		t.Fatalf("privileged: true in the values, not in the DaemonSet")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Fatalf("capabilities do not drop ALL: %+v", sc.Capabilities)
	}
	add := sc.Capabilities.Add
	for _, want := range []corev1.Capability{"BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"} {
		if !slices.Contains(add, want) {
			t.Errorf("capability %s is not added: %v", want, add)
		}
	}
	cpuOnly := name == "parca-cpu-only"
	if slices.Contains(add, "SYS_ADMIN") == cpuOnly {
		t.Errorf("CAP_SYS_ADMIN added %v with runtimeProbes %v", slices.Contains(add, "SYS_ADMIN"), !cpuOnly)
	}
	// Kubernetes' validation: no allowPrivilegeEscalation=false with CAP_SYS_ADMIN.
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation != !cpuOnly {
		t.Errorf("allowPrivilegeEscalation %v with runtimeProbes %v", sc.AllowPrivilegeEscalation, !cpuOnly)
	}
	// The GC series come from the runtime's books, which need no uprobe.
	if _, ok := args["--metrics-gc"]; ok {
		t.Errorf("--metrics-gc=false given with runtimeProbes %v: the books need no probes", !cpuOnly)
	}
	if sc.SeccompProfile == nil || (sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined) != cpuOnly {
		t.Errorf("seccomp profile %+v with runtimeProbes %v", sc.SeccompProfile, !cpuOnly)
	}
	if sc.AppArmorProfile == nil || sc.AppArmorProfile.Type != corev1.AppArmorProfileTypeUnconfined {
		t.Errorf("AppArmor profile %+v", sc.AppArmorProfile)
	}
}

// TestStrictDecodeCatchesTypos: the strict decoding above is what makes a
// misspelt field fail, so check that it does.
func TestStrictDecodeCatchesTypos(t *testing.T) {
	good := render(t, valuesFile(t, "servicemonitor"))
	decodeStrict(t, good)
	for _, typo := range []struct{ from, to string }{
		{"hostPID: true", "hostPid: true"},
		{"readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true"},
		{"      honorLabels: true", "      honourLabels: true"},
		{"automountServiceAccountToken: true\n", "automountServiceAccountToken: true\nautomountToken: true\n"},
		{"  clusterIP: None", "  clusterIP: None\n  clusterIP: None"},
	} {
		bad := bytes.Replace(good, []byte(typo.from), []byte(typo.to), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%q is not in the rendering", typo.from)
		}
		s := strictSerializer()
		failed := false
		for _, doc := range splitDocs(bad) {
			if _, _, err := s.Decode(doc, nil, nil); err != nil {
				failed = true
				if !k8sruntime.IsStrictDecodingError(err) {
					t.Errorf("%q: %v is not a strict-decoding error", typo.to, err)
				}
			}
		}
		if !failed {
			t.Errorf("%q decoded without error", typo.to)
		}
	}
}

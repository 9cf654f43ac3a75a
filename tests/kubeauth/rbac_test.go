package kubeauth

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
)

const (
	nodeName      = "kubeauth-node"
	gspyNamespace = "gspy" // the chart's release namespace and name
)

// applyChartRBAC renders the chart with its default values and creates its
// ServiceAccount, ClusterRoles and ClusterRoleBindings in the API server:
// the very objects a `helm install` would.
// authCacheTTL: gspyd's --authn-cache-ttl in this test, how long it reuses an
// allowed SubjectAccessReview decision (and an authenticated token). The
// one place its default is set is KubeAuthOptions::allowed_ttl in
// daemon/auth/kube_auth.h (1 minute; the chart's authn.cacheTTL passes the
// flag). Low here so RevokedBinding waits seconds, not a minute.
const authCacheTTL = 2 * time.Second

func applyChartRBAC(t *testing.T, ctx context.Context, admin *kubernetes.Clientset) []string {
	t.Helper()
	chart := filepath.Join(repoRoot(t), "helm", "gspy")
	out, err := exec.Command(helm(t), "template", "gspy", chart, "--namespace", gspyNamespace,
		"-s", "templates/serviceaccount.yaml", "-s", "templates/rbac.yaml").Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	decode := serializer.NewCodecFactory(scheme.Scheme).UniversalDeserializer()
	var created []string
	for _, doc := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(out), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		obj, _, err := decode.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("chart object does not decode: %v\n%s", err, doc)
		}
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			_, err = admin.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRole:
			_, err = admin.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRoleBinding:
			_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("unexpected object in the chart's RBAC: %T", obj)
		}
		if err != nil {
			t.Fatalf("creating %s: %v", kindName(obj), err)
		}
		created = append(created, kindName(obj))
	}
	return created
}

func kindName(o k8sruntime.Object) string {
	m, _ := o.(metav1.Object)
	return fmt.Sprintf("%T %s", o, m.GetName())
}

func createNamespace(t *testing.T, ctx context.Context, admin *kubernetes.Clientset, ns string) {
	t.Helper()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// serviceAccountToken creates the service account (unless it exists) and a
// token for it (TokenRequest), as `kubectl create token` does.
func serviceAccountToken(t *testing.T, ctx context.Context, admin *kubernetes.Clientset, ns, name string) string {
	t.Helper()
	_, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	seconds := int64(3600)
	tr, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runPod creates pod ns/name on the test's node and a process in its
// container's cgroup, as the kubelet and the runtime would; returns the pid.
func runPod(t *testing.T, ctx context.Context, admin *kubernetes.Clientset, cgroup2, workload, ns, name string) int {
	t.Helper()
	p, err := admin.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName:   nodeName,
			Containers: []corev1.Container{{Name: "app", Image: "cpuwork:1"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := randomHex(64)
	p.Status = corev1.PodStatus{
		Phase:             corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "cpuwork:1", ContainerID: "containerd://" + id, Ready: true}},
	}
	if _, err := admin.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	w := startProcess(t, workload, "-duration=10m")
	moveToCgroup(t, cgroup2, "kubepods/besteffort/pod"+string(p.UID)+"/"+id, w.Process.Pid)
	return w.Process.Pid
}

// The proof: without credentials every Profiler RPC is
// UNAUTHENTICATED while health answers; a token allowed in namespace A
// pulls and dumps pods in A and gets PERMISSION_DENIED for a pod in B and
// for node-wide requests. A real kube-apiserver decides, with the chart's
// ClusterRoles bound as a user would bind them.
func TestKubernetesRBAC(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: gspyd loads eBPF programs and the test makes cgroups")
	}
	gspyd, gspy := binFromEnv(t, "GSPYD_BIN"), binFromEnv(t, "GSPY_BIN")
	cgroup2 := cgroup2Mount(t)
	workload := buildCpuwork(t)
	ctx := context.Background()

	start := time.Now()
	api := startAPIServer(t)
	t.Logf("kube-apiserver (k8s.io/kubernetes) at %s, ready in %v", api.url, time.Since(start).Round(time.Millisecond))
	admin := api.admin
	for _, ns := range []string{gspyNamespace, "team-a", "team-b"} {
		createNamespace(t, ctx, admin, ns)
	}
	t.Logf("applied the chart's %v", applyChartRBAC(t, ctx, admin))

	// alice: the chart's namespace-profiler bound in team-a only.
	aliceToken := serviceAccountToken(t, ctx, admin, "team-a", "alice")
	if _, err := admin.RbacV1().RoleBindings("team-a").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-profiles"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "gspy-namespace-profiler"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "alice", Namespace: "team-a"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// ops: the node-wide role and the metrics reader, cluster-wide.
	opsToken := serviceAccountToken(t, ctx, admin, "team-b", "ops")
	for _, role := range []string{"gspy-node-profiler", "gspy-metrics-reader"} {
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "ops-" + role},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ops", Namespace: "team-b"}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// carol: like alice, until RevokedBinding deletes her binding.
	carolToken := serviceAccountToken(t, ctx, admin, "team-a", "carol")
	if _, err := admin.RbacV1().RoleBindings("team-a").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "carol-profiles"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "gspy-namespace-profiler"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "carol", Namespace: "team-a"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// gspyd's own identity: the chart's service account.
	gspydToken := serviceAccountToken(t, ctx, admin, gspyNamespace, "gspy")

	pidA := runPod(t, ctx, admin, cgroup2, workload, "team-a", "app-a")
	pidB := runPod(t, ctx, admin, cgroup2, workload, "team-b", "app-b")

	grpcAddr, metricsAddr, _ := startGspyd(t, gspyd,
		"--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0", "--authn=kubernetes",
		"--kube-api="+api.url, "--kube-token-file="+writeFile(t, "gspyd-token", gspydToken),
		"--kube-ca-file="+api.caFile, "--node-name="+nodeName,
		// RevokedBinding waits out the allowed decisions' cache: 2 s here
		// instead of the default minute (see authCacheTTL).
		"--authn-cache-ttl="+authCacheTTL.String())
	aliceFile := writeFile(t, "alice-token", aliceToken)
	opsFile := writeFile(t, "ops-token", opsToken)
	server := "--server=" + grpcAddr

	// gspyd watches the pods with its service account (the chart's
	// ClusterRole): wait until it has placed both processes in their pods.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := runGspy(ctx, gspy, server, "--token-file="+opsFile, "targets")
		if r.err == nil && regexp.MustCompile(fmt.Sprintf(`(?m)^%d\t.*\tteam-a/app-a\t`, pidA)).MatchString(r.out) &&
			regexp.MustCompile(fmt.Sprintf(`(?m)^%d\t.*\tteam-b/app-b\t`, pidB)).MatchString(r.out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gspyd does not show the pods' processes after 60 s (a node-wide token lists them):\n%s", r)
		}
		time.Sleep(500 * time.Millisecond)
	}

	t.Run("NoCredentials", func(t *testing.T) {
		// The health service answers without a token (the kubelet's probes).
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		hc, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		h, err := healthpb.NewHealthClient(conn).Check(hc, &healthpb.HealthCheckRequest{})
		if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health without a token: %v %v", h, err)
		}
		// Every Profiler and GcPauses RPC, through the CLI with no token
		// (none is mounted at the in-cluster path here).
		for _, args := range [][]string{
			{"targets"},
			{"profile", "cpu", "--pod=team-a/app-a", "--duration=1s", "-o", filepath.Join(t.TempDir(), "p.pb.gz")},
			{"goroutines", "--pod=team-a/app-a"},
			{"gc", "--pid=" + strconv.Itoa(pidA), "--duration=1s"},
		} {
			r := runGspy(ctx, gspy, append([]string{server}, args...)...)
			if r.err == nil || !strings.Contains(r.out, "UNAUTHENTICATED") {
				t.Errorf("want UNAUTHENTICATED: %s", r)
			}
		}
		r := runGspy(ctx, gspy, server, "version")
		if !strings.Contains(r.out, "UNAUTHENTICATED") {
			t.Errorf("GetVersion: want UNAUTHENTICATED: %s", r)
		}
		// A token the API server does not know.
		bogus := writeFile(t, "bogus", "not-a-token")
		r = runGspy(ctx, gspy, server, "--token-file="+bogus, "goroutines", "--pod=team-a/app-a")
		if r.err == nil || !strings.Contains(r.out, "UNAUTHENTICATED") || !strings.Contains(r.out, "did not authenticate") {
			t.Errorf("want UNAUTHENTICATED for an unknown token: %s", r)
		}
	})

	t.Run("NamespaceToken", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "a.folded")
		r := runGspy(ctx, gspy, server, "--token-file="+aliceFile, "profile", "cpu", "--pod=team-a/app-a", "--duration=2s", "-o", out)
		if r.err != nil {
			t.Fatalf("alice's pull of her namespace's pod: %s", r)
		}
		folded, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(folded), "main.") {
			t.Errorf("the profile of team-a/app-a has no main. frames (%v):\n%.2000s", err, folded)
		}
		r = runGspy(ctx, gspy, server, "--token-file="+aliceFile, "goroutines", "--namespace=team-a")
		if r.err != nil || !strings.Contains(r.out, "main.main") {
			t.Errorf("alice's dump of her namespace: %s", r)
		}
		wantB := `user "system:serviceaccount:team-a:alice" cannot get pods/profile (gspy.dev) in namespace "team-b"`
		for _, args := range [][]string{
			{"profile", "cpu", "--pod=team-b/app-b", "--duration=1s", "-o", filepath.Join(t.TempDir(), "b.pb.gz")},
			{"goroutines", "--pod=team-b/app-b"},
			{"goroutines", "--namespace=team-b"},
		} {
			r := runGspy(ctx, gspy, append([]string{server, "--token-file=" + aliceFile}, args...)...)
			if r.err == nil || !strings.Contains(r.out, "PERMISSION_DENIED") || !strings.Contains(r.out, wantB) {
				t.Errorf("want PERMISSION_DENIED naming %q: %s", wantB, r)
			}
		}
		wantNode := `user "system:serviceaccount:team-a:alice" cannot get nodes/profile (gspy.dev) on node "` + nodeName + `"`
		for _, args := range [][]string{
			{"targets"},
			{"profile", "cpu", "--pid=" + strconv.Itoa(pidA), "--duration=1s", "-o", filepath.Join(t.TempDir(), "n.pb.gz")},
			{"goroutines", "--exe=" + workload},
			{"goroutines"},
			{"gc", "--pid=" + strconv.Itoa(pidA), "--duration=1s"},
		} {
			r := runGspy(ctx, gspy, append([]string{server, "--token-file=" + aliceFile}, args...)...)
			if r.err == nil || !strings.Contains(r.out, "PERMISSION_DENIED") || !strings.Contains(r.out, wantNode) {
				t.Errorf("want PERMISSION_DENIED naming %q: %s", wantNode, r)
			}
		}
		// The refusal says nothing about the process (its own pid
		// included): the same words for a pid that does not exist.
		r = runGspy(ctx, gspy, server, "--token-file="+aliceFile, "goroutines", "--pid=999999999")
		if !strings.Contains(r.out, wantNode) {
			t.Errorf("a missing pid is not refused the same way: %s", r)
		}
	})

	t.Run("NodeWideToken", func(t *testing.T) {
		r := runGspy(ctx, gspy, server, "--token-file="+opsFile, "goroutines", "--pid="+strconv.Itoa(pidB))
		if r.err != nil || !strings.Contains(r.out, "main.main") {
			t.Errorf("ops's node-wide dump: %s", r)
		}
		// Node-wide is not every namespace: ops has no pods/profile.
		r = runGspy(ctx, gspy, server, "--token-file="+opsFile, "goroutines", "--pod=team-a/app-a")
		if r.err == nil || !strings.Contains(r.out, "PERMISSION_DENIED") {
			t.Errorf("ops pulls a pod without pods/profile: %s", r)
		}
	})

	// A binding deleted in the API server stops working in gspyd once the
	// allowed decision it cached expires: within the TTL plus a margin (the
	// API server's RBAC authorizer sees the deletion through its informer;
	// each gspy run takes a fraction of a second).
	t.Run("RevokedBinding", func(t *testing.T) {
		carolFile := writeFile(t, "carol-token", carolToken)
		pull := func() gspyResult {
			return runGspy(ctx, gspy, server, "--token-file="+carolFile, "goroutines", "--pod=team-a/app-a")
		}
		if r := pull(); r.err != nil || !strings.Contains(r.out, "main.main") {
			t.Fatalf("carol's dump of her namespace's pod, while bound: %s", r)
		}
		if err := admin.RbacV1().RoleBindings("team-a").Delete(ctx, "carol-profiles", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		revoked := time.Now()
		const margin = 3 * time.Second
		want := `user "system:serviceaccount:team-a:carol" cannot get pods/profile (gspy.dev) in namespace "team-a"`
		allowedAfter := 0
		for {
			r := pull()
			if r.err != nil && strings.Contains(r.out, "PERMISSION_DENIED") && strings.Contains(r.out, want) {
				t.Logf("PERMISSION_DENIED %v after the binding was deleted (cache TTL %v; %d pulls still served meanwhile)",
					time.Since(revoked).Round(10*time.Millisecond), authCacheTTL, allowedAfter)
				break
			}
			if r.err != nil {
				t.Fatalf("after the binding was deleted, want the dump or PERMISSION_DENIED naming %q: %s", want, r)
			}
			allowedAfter++
			if time.Since(revoked) > authCacheTTL+margin {
				t.Fatalf("carol still pulls %v after her binding was deleted (cache TTL %v + %v)", time.Since(revoked), authCacheTTL, margin)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("Metrics", func(t *testing.T) {
		get := func(path, token string) (int, string) {
			req, _ := http.NewRequest("GET", "http://"+metricsAddr+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b := new(strings.Builder)
			_, _ = fmt.Fprint(b, "")
			buf := make([]byte, 4096)
			n, _ := resp.Body.Read(buf)
			return resp.StatusCode, string(buf[:n])
		}
		if code, body := get("/healthz", ""); code != 200 {
			t.Errorf("/healthz without a token: %d %s", code, body)
		}
		if code, body := get("/metrics", ""); code != 401 {
			t.Errorf("/metrics without a token: %d %s", code, body)
		}
		if code, body := get("/metrics", aliceToken); code != 403 || !strings.Contains(body, "cannot get nodes/metrics") {
			t.Errorf("/metrics with alice's token: %d %s", code, body)
		}
		if code, body := get("/metrics", opsToken); code != 200 || !strings.Contains(body, "# TYPE") {
			t.Errorf("/metrics with the metrics reader's token: %d %.300s", code, body)
		}
	})
}

package e2e

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// fakeAPIServer speaks the part of the Kubernetes API gspyd uses: list and
// watch of core/v1 pods with a field selector, bearer-token auth, over TLS.
// The objects are Kubernetes' own types, encoded as the API server does.
type fakeAPIServer struct {
	srv     *httptest.Server
	token   string
	caFile  string
	tokFile string

	mu       sync.Mutex
	pods     map[types.UID]*corev1.Pod
	version  int
	watchers []*fakeWatch
	badReqs  []string
}

func newFakeAPIServer(t *testing.T) *fakeAPIServer {
	f := &fakeAPIServer{token: "s3cret-token", pods: map[types.UID]*corev1.Pod{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		for _, w := range f.watchers {
			close(w.ch)
		}
		f.watchers = nil
		f.mu.Unlock()
		f.srv.Close()
	})
	dir := t.TempDir()
	f.caFile = filepath.Join(dir, "ca.crt")
	f.tokFile = filepath.Join(dir, "token")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(f.caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.tokFile, []byte(f.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeAPIServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, `{"kind":"Status","code":401}`, http.StatusUnauthorized)
		return
	}
	bad := func() {
		f.mu.Lock()
		f.badReqs = append(f.badReqs, r.URL.String())
		f.mu.Unlock()
		http.Error(w, "unexpected request", http.StatusBadRequest)
	}
	// /api/v1/pods, /api/v1/namespaces/NS/pods, /api/v1/namespaces/NS/pods/NAME
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/")
	var ns, name string
	switch {
	case len(parts) == 1 && parts[0] == "pods":
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "pods":
		ns = parts[1]
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods":
		ns, name = parts[1], parts[3]
	default:
		bad()
		return
	}
	q := r.URL.Query()
	node := ""
	if fs := q.Get("fieldSelector"); fs != "" {
		var ok bool
		if node, ok = strings.CutPrefix(fs, "spec.nodeName="); !ok {
			bad()
			return
		}
	}
	sel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		bad()
		return
	}
	match := func(p *corev1.Pod) bool {
		return (ns == "" || p.Namespace == ns) && (name == "" || p.Name == name) &&
			(node == "" || p.Spec.NodeName == node) && sel.Matches(labels.Set(p.Labels))
	}
	w.Header().Set("Content-Type", "application/json")
	if name != "" {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.pods {
			if match(p) {
				json.NewEncoder(w).Encode(p)
				return
			}
		}
		http.Error(w, `{"kind":"Status","code":404}`, http.StatusNotFound)
		return
	}
	if q.Get("watch") != "1" {
		f.mu.Lock()
		list := corev1.PodList{
			TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: strconv.Itoa(f.version)},
		}
		for _, p := range f.pods {
			if match(p) {
				list.Items = append(list.Items, *p)
			}
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(list)
		return
	}
	wt := &fakeWatch{ch: make(chan []byte, 64), match: match}
	f.mu.Lock()
	f.watchers = append(f.watchers, wt)
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	for {
		select {
		case line, ok := <-wt.ch:
			if !ok {
				return
			}
			w.Write(line)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

type fakeWatch struct {
	ch    chan []byte
	match func(*corev1.Pod) bool
}

// set adds or replaces a pod and sends the event to every watch.
func (f *fakeAPIServer) set(eventType string, p *corev1.Pod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	p.ResourceVersion = strconv.Itoa(f.version)
	if eventType == "DELETED" {
		delete(f.pods, p.UID)
	} else {
		f.pods[p.UID] = p
	}
	line, _ := json.Marshal(metav1.WatchEvent{Type: eventType, Object: runtimeRaw(p)})
	line = append(line, '\n')
	for _, w := range f.watchers {
		if w.match(p) {
			w.ch <- line
		}
	}
}

func runtimeRaw(p *corev1.Pod) runtime.RawExtension {
	b, _ := json.Marshal(p)
	return runtime.RawExtension{Raw: b}
}

func pod(ns, name, uid, node, containerID string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", ContainerID: "containerd://" + containerID, Ready: true}},
		},
	}
}

// cgroupMount finds where a cgroup hierarchy is mounted: the cgroup2 one
// (controller "") or the v1 one holding controller.
func cgroupMount(t *testing.T, controller string) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID parent maj:min root mountpoint options ... - fstype source superoptions
		parts := strings.SplitN(sc.Text(), " - ", 2)
		if len(parts) != 2 {
			continue
		}
		pre, post := strings.Fields(parts[0]), strings.Fields(parts[1])
		if len(pre) < 5 || len(post) < 3 {
			continue
		}
		switch {
		case controller == "" && post[0] == "cgroup2":
			return pre[4]
		case controller != "" && post[0] == "cgroup":
			for _, o := range strings.Split(post[2], ",") {
				if o == controller {
					return pre[4]
				}
			}
		}
	}
	return ""
}

// moveToCgroup makes the cgroup dir (below mount) and moves pid into it, as
// a container runtime would; undone when the test ends.
func moveToCgroup(t *testing.T, mount, rel string, pid int) {
	t.Helper()
	dir := filepath.Join(mount, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("making cgroup %s (the test needs root and a writable cgroup hierarchy): %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatalf("moving pid %d into %s: %v", pid, dir, err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(mount, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
		for d := dir; d != mount && strings.HasPrefix(d, mount); d = filepath.Dir(d) {
			os.Remove(d) // fails while not empty: fine, another test's
		}
	})
}

func labelsOf(t *testing.T, path string) map[string]map[string]bool {
	p := readProfile(t, path)
	out := map[string]map[string]bool{}
	for _, s := range p.Sample {
		for k, vs := range s.Label {
			for _, v := range vs {
				if out[k] == nil {
					out[k] = map[string]bool{}
				}
				out[k][v] = true
			}
		}
	}
	return out
}

// Pod metadata end to end: real cgroups made like a container runtime's
// (cgroup v2 with the systemd driver and containerd; cgroup v1 with the
// cgroupfs driver), a local API server serving Kubernetes' own objects, and
// gspyd with --kube-api: targets show the pod, profiles carry namespace, pod,
// container and node labels, and pulls select by pod, namespace and labels,
// including a pod that only arrives through the watch.
func TestKubernetesPodMetadata(t *testing.T) {
	hh := env(t)
	v2 := cgroupMount(t, "")
	v1 := cgroupMount(t, "pids")
	if v2 == "" && v1 == "" {
		t.Fatalf("no cgroup hierarchy is mounted: cannot place processes in pod cgroups")
	}
	api := newFakeAPIServer(t)
	const (
		uid1 = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
		uid2 = "9f8e7d6c-5b4a-4321-8fed-cba987654321"
		id1  = "3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"
		id2  = "aa1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2fbb"
	)
	api.set("ADDED", pod("shop", "checkout-1", uid1, "node-a", id1, map[string]string{"app": "checkout", "tier": "web"}))
	addr := startOwnDaemon(t, hh, "--kube-api="+api.srv.URL, "--kube-ca-file="+api.caFile,
		"--kube-token-file="+api.tokFile, "--node-name=node-a").addr

	bin := hh.cpuwork(t, variants[0])
	w1 := startWorkload(t, bin, "-mode=split", "-duration=60s")
	if v2 != "" {
		moveToCgroup(t, v2, "kubepods.slice/kubepods-pod"+strings.ReplaceAll(uid1, "-", "_")+".slice/cri-containerd-"+id1+".scope", w1.pid)
	} else {
		t.Logf("no cgroup2 mount here: pod 1 uses the cgroup v1 layout too")
		moveToCgroup(t, v1, "kubepods/pod"+uid1+"/"+id1, w1.pid)
	}

	// targets: the POD column.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := hh.gspyAt(t, addr, 30*time.Second, "targets")
		if strings.Contains(r.stdout, fmt.Sprintf("%d\t", w1.pid)) && strings.Contains(r.stdout, "\tshop/checkout-1\t") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gspy targets never showed pid %d in shop/checkout-1:\n%s", w1.pid, r.stdout)
		}
		time.Sleep(200 * time.Millisecond)
	}

	dir := t.TempDir()
	pull := func(name string, args ...string) gspyResult {
		out := filepath.Join(dir, name+".pb.gz")
		r := hh.gspyAt(t, addr, 2*time.Minute, append([]string{"profile", "cpu", "--duration=2s", "-o", out}, args...)...)
		if r.exitCode == 0 {
			l := labelsOf(t, out)
			for k, want := range map[string]string{"namespace": "shop", "pod": "checkout-1", "container": "app", "node": "node-a", "container_id": id1[:12]} {
				if !l[k][want] {
					t.Errorf("%s: no sample has label %s=%s; labels seen: %v", name, k, want, l)
				}
			}
			if len(l["pod"]) != 1 {
				t.Errorf("%s: samples from pods %v, want only checkout-1", name, l["pod"])
			}
		}
		return r
	}
	if r := pull("by-pod", "--pod=shop/checkout-1"); r.exitCode != 0 {
		t.Fatalf("pull by pod failed: %s", r.stderr)
	}
	if r := pull("by-labels", "--namespace=shop", "--selector=app=checkout,tier!=batch"); r.exitCode != 0 {
		t.Fatalf("pull by namespace and labels failed: %s", r.stderr)
	}
	if r := pull("by-pid", fmt.Sprintf("--pid=%d", w1.pid)); r.exitCode != 0 {
		t.Fatalf("pull by pid failed: %s", r.stderr)
	}
	expectRPCError(t, hh.gspyAt(t, addr, time.Minute, "profile", "cpu", "--duration=1s", "-o", filepath.Join(dir, "x.pb.gz"), "--selector=app=other"), "NOT_FOUND")
	expectRPCError(t, hh.gspyAt(t, addr, time.Minute, "profile", "cpu", "--duration=1s", "-o", filepath.Join(dir, "x.pb.gz"), "--pod=checkout-1"), "INVALID_ARGUMENT")

	// A second pod that arrives through the watch, in a cgroup v1 layout
	// (cgroupfs driver) when this machine has v1 hierarchies.
	w2 := startWorkload(t, bin, "-mode=split", "-duration=60s")
	if v1 != "" {
		moveToCgroup(t, v1, "kubepods/besteffort/pod"+uid2+"/"+id2, w2.pid)
	} else {
		t.Logf("no cgroup v1 pids hierarchy here: pod 2 uses the cgroup v2 layout; the v1 layout is covered by the unit tests")
		moveToCgroup(t, v2, "kubepods/besteffort/pod"+uid2+"/"+id2, w2.pid)
	}
	api.set("ADDED", pod("batch", "report-7", uid2, "node-a", id2, map[string]string{"app": "report"}))
	deadline = time.Now().Add(30 * time.Second)
	for {
		out := filepath.Join(dir, "watched.pb.gz")
		r := hh.gspyAt(t, addr, time.Minute, "profile", "cpu", "--duration=1s", "-o", out, "--pod=batch/report-7")
		if r.exitCode == 0 {
			l := labelsOf(t, out)
			if !l["pod"]["report-7"] || l["pod"]["checkout-1"] || !l["namespace"]["batch"] {
				t.Errorf("the pull of batch/report-7 has pod labels %v, namespaces %v", l["pod"], l["namespace"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a pod added through the watch was never selectable: %s", r.stderr)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Deleted through the watch: no longer selectable.
	api.set("DELETED", pod("batch", "report-7", uid2, "node-a", id2, nil))
	deadline = time.Now().Add(30 * time.Second)
	for {
		r := hh.gspyAt(t, addr, time.Minute, "profile", "cpu", "--duration=1s", "-o", filepath.Join(dir, "gone.pb.gz"), "--pod=batch/report-7")
		if r.exitCode != 0 && strings.Contains(r.stderr, "NOT_FOUND") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a pod deleted through the watch stayed selectable (exit %d): %s", r.exitCode, r.stderr)
		}
		time.Sleep(300 * time.Millisecond)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.badReqs) > 0 {
		t.Errorf("gspyd sent requests the API server refused: %v", api.badReqs)
	}
}

// gspyPod is a pod of the gspy DaemonSet on node, serving gRPC on port.
func gspyPod(node string, port int) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "gspy", Name: "gspy-" + node, UID: types.UID("gspy-uid-" + node),
			Labels: map[string]string{"app.kubernetes.io/name": "gspy"}},
		Spec: corev1.PodSpec{NodeName: node, HostNetwork: true, Containers: []corev1.Container{{
			Name: "gspyd", Image: "gspy:dev",
			Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: int32(port)}, {Name: "metrics", ContainerPort: 7071}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", HostIP: "127.0.0.1"},
	}
}

// checkoutPods starts two cpuwork processes in the cgroups of two pods,
// shop/checkout-1 on node-a and shop/checkout-2 on node-b, which a fake API
// server lists; the second pod's container id is returned for more pods.
func checkoutPods(t *testing.T, hh *harness) (*fakeAPIServer, *workload, *workload, string) {
	t.Helper()
	mount := cgroupMount(t, "")
	if mount == "" {
		if mount = cgroupMount(t, "pids"); mount == "" {
			t.Fatalf("no cgroup hierarchy is mounted: cannot place processes in pod cgroups")
		}
	}
	api := newFakeAPIServer(t)
	const (
		uid1 = "11111111-2222-4333-8444-555555555555"
		uid2 = "66666666-7777-4888-8999-aaaaaaaaaaaa"
		id1  = "1111111111111111111111111111111111111111111111111111111111111111"
		cid2 = "2222222222222222222222222222222222222222222222222222222222222222"
	)
	bin := hh.cpuwork(t, variants[0])
	w1 := startWorkload(t, bin, "-mode=split", "-duration=60s")
	w2 := startWorkload(t, bin, "-mode=split", "-duration=60s")
	moveToCgroup(t, mount, "kubepods/besteffort/pod"+uid1+"/"+id1, w1.pid)
	moveToCgroup(t, mount, "kubepods/besteffort/pod"+uid2+"/"+cid2, w2.pid)
	api.set("ADDED", pod("shop", "checkout-1", uid1, "node-a", id1, map[string]string{"app": "checkout"}))
	api.set("ADDED", pod("shop", "checkout-2", uid2, "node-b", cid2, map[string]string{"app": "checkout"}))
	return api, w1, w2, cid2
}

// A cluster-wide pull: the CLI asks the API server which nodes run the
// selected pods and where the gspy pod of each is, pulls from both daemons
// (two gspyd, one per simulated node) and merges. A node with selected pods
// and no gspy pod is a warning, not a failure.
func TestClusterWidePull(t *testing.T) {
	hh := env(t)
	api, w1, w2, id2 := checkoutPods(t, hh)
	api.set("ADDED", pod("shop", "checkout-3", "77777777-8888-4999-8aaa-bbbbbbbbbbbb", "node-c", id2, map[string]string{"app": "checkout"}))
	api.set("ADDED", pod("shop", "cart-1", "99999999-8888-4999-8aaa-bbbbbbbbbbbb", "node-a", id2, map[string]string{"app": "cart"}))
	kube := []string{"--kube-api=" + api.srv.URL, "--kube-ca-file=" + api.caFile, "--kube-token-file=" + api.tokFile}
	for _, node := range []string{"node-a", "node-b"} {
		addr := startOwnDaemon(t, hh, append(kube, "--node-name="+node)...).addr
		port, _ := strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
		api.set("ADDED", gspyPod(node, port))
		waitForPod(t, hh, addr, node, map[string]int{"node-a": w1.pid, "node-b": w2.pid}[node])
	}

	out := filepath.Join(t.TempDir(), "cluster.pb.gz")
	r := hh.gspyAt(t, "127.0.0.1:1", 3*time.Minute, append(kube, "profile", "cpu", "--namespace=shop",
		"--selector=app=checkout", "--duration=2s", "-o", out)...)
	if r.exitCode != 0 {
		t.Fatalf("cluster-wide pull failed: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "node node-c runs selected pods but no gspy pod") {
		t.Errorf("no warning about node-c, which has a selected pod and no gspy pod:\n%s", r.stderr)
	}
	p := readProfile(t, out)
	checkPprofRaw(t, out)
	samples := map[string]int64{}
	for _, s := range p.Sample {
		pods, nodes := s.Label["pod"], s.Label["node"]
		if len(pods) != 1 || len(nodes) != 1 {
			t.Fatalf("a merged sample without exactly one pod and node label: %v", s.Label)
		}
		want := map[string]string{"checkout-1": "node-a", "checkout-2": "node-b"}[pods[0]]
		if nodes[0] != want {
			t.Errorf("pod %s's sample is labeled node %s, want %s", pods[0], nodes[0], want)
		}
		samples[pods[0]] += s.Value[0]
	}
	t.Logf("merged samples by pod: %v", samples)
	if samples["checkout-1"] < 50 || samples["checkout-2"] < 50 || len(samples) != 2 {
		t.Errorf("want samples of both checkout pods (at least 50 each: cpuwork keeps a CPU busy for 2 s at 99 Hz) and of nothing else; got %v", samples)
	}
}

// waitForPod waits until the daemon at addr knows pid's pod.
func waitForPod(t *testing.T, hh *harness, addr, node string, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := hh.gspyAt(t, addr, 30*time.Second, "targets")
		for _, line := range strings.Split(r.stdout, "\n") {
			f := strings.Split(line, "\t")
			if len(f) == 8 && f[0] == strconv.Itoa(pid) && f[5] != "-" {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the %s daemon never learned pid %d's pod", node, pid)
}

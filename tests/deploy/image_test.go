package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The image test: build the image (deploy/build-image.sh) and run it with
// podman as the DaemonSet of deploy/daemonset.yaml runs it: its arguments,
// hostPID, its capabilities (all others dropped), read-only root, its
// seccomp and AppArmor settings, its host mounts, its memory limit. Then
// profile a Go process that runs outside the container through the
// container's gspyd, with the host's gspy CLI, as `kubectl exec` or a
// cluster-wide pull would.
//
// Needs root, podman (scripts/install-deps), and GSPYD_BIN and GSPY_BIN
// (ctest sets them); skipped without GSPYD_BIN.

// podman from Debian, as root on this kind of machine, needs runc and the
// cgroupfs manager, and explicit nofile/nproc limits (the defaults exceed
// the hard limits it may set).
var podmanGlobal = []string{"--runtime", "runc", "--cgroup-manager=cgroupfs"}

func podman(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "podman", append(slices.Clone(podmanGlobal), args...)...)
}

func podmanOut(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := podman(ctx, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

type imageEnv struct {
	gspydBin, gspyBin string
	image             string // as the DaemonSet names it
	workloadPID       int
}

func setupImage(t *testing.T) *imageEnv {
	t.Helper()
	gspyd, gspy := os.Getenv("GSPYD_BIN"), os.Getenv("GSPY_BIN")
	if gspyd == "" || gspy == "" {
		t.Fatal("GSPYD_BIN and GSPY_BIN are not set: run it with ctest -R deploy_image, which sets them")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the image test runs containers with podman as root")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is not installed (scripts/install-deps installs it)")
	}
	start := time.Now()
	cmd := exec.Command(filepath.Join(repoRoot(t), "deploy", "build-image.sh"),
		"--gspyd", gspyd, "--gspy", gspy, "--tag", "localhost/gspy:latest")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy/build-image.sh: %v\n%s", err, out)
	}
	t.Logf("%s(%v)", out, time.Since(start).Round(time.Millisecond))
	return &imageEnv{gspydBin: gspyd, gspyBin: gspy}
}

// daemonSet is the DaemonSet of a rendering, strictly decoded.
func daemonSet(t *testing.T, manifest []byte) *appsv1.DaemonSet {
	t.Helper()
	for _, o := range decodeStrict(t, manifest) {
		if ds, ok := o.(*appsv1.DaemonSet); ok {
			return ds
		}
	}
	t.Fatal("no DaemonSet in the manifest")
	return nil
}

// podmanRunArgs translates the DaemonSet's pod into `podman run` arguments,
// failing on anything of the pod spec it does not know how to reproduce.
func podmanRunArgs(t *testing.T, ds *appsv1.DaemonSet, name string) (args []string, c corev1.Container) {
	t.Helper()
	spec := ds.Spec.Template.Spec
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%d containers, %d init containers", len(spec.Containers), len(spec.InitContainers))
	}
	c = spec.Containers[0]
	args = []string{"run", "--detach", "--name", name}
	if spec.HostPID {
		args = append(args, "--pid=host")
	}
	if spec.HostNetwork {
		args = append(args, "--network=host")
	}
	// Explicit limits, or runc fails to set podman's defaults here
	// ("error setting rlimit type 7"); in a cluster the runtime's defaults
	// apply, usually higher. gspyd uses a few dozen descriptors per CPU and
	// a few dozen threads.
	var nofile syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
	args = append(args,
		fmt.Sprintf("--ulimit=nofile=%d:%d", min(nofile.Max, 1<<20), min(nofile.Max, 1<<20)),
		"--ulimit=nproc=4096:4096")
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("no securityContext")
	}
	if sc.RunAsUser != nil {
		g := int64(0)
		if sc.RunAsGroup != nil {
			g = *sc.RunAsGroup
		}
		args = append(args, fmt.Sprintf("--user=%d:%d", *sc.RunAsUser, g))
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		// Kubernetes mounts no tmpfs of its own on a read-only root.
		args = append(args, "--read-only", "--read-only-tmpfs=false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		args = append(args, "--privileged")
	} else {
		if sc.Capabilities != nil {
			for _, d := range sc.Capabilities.Drop {
				args = append(args, "--cap-drop="+string(d))
			}
			for _, a := range sc.Capabilities.Add {
				args = append(args, "--cap-add=CAP_"+string(a))
			}
		}
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			args = append(args, "--security-opt=no-new-privileges")
		}
		if p := sc.SeccompProfile; p != nil {
			switch p.Type {
			case corev1.SeccompProfileTypeRuntimeDefault: // podman's default profile
			case corev1.SeccompProfileTypeUnconfined:
				args = append(args, "--security-opt=seccomp=unconfined")
			default:
				t.Fatalf("seccomp profile %+v", p)
			}
		}
		if p := sc.AppArmorProfile; p != nil && p.Type == corev1.AppArmorProfileTypeUnconfined {
			args = append(args, "--security-opt=apparmor=unconfined")
		}
	}
	if m := c.Resources.Limits.Memory(); m != nil && !m.IsZero() {
		args = append(args, fmt.Sprintf("--memory=%d", m.Value()))
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		if v.HostPath == nil {
			t.Fatalf("volume %s is not a hostPath: the test cannot reproduce it", v.Name)
		}
		opt := "rw"
		if m.ReadOnly {
			opt = "ro"
		}
		args = append(args, fmt.Sprintf("--volume=%s:%s:%s", v.HostPath.Path, m.MountPath, opt))
	}
	host, _ := os.Hostname()
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			args = append(args, "--env="+e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName":
			args = append(args, "--env="+e.Name+"="+host)
		default:
			t.Fatalf("env %s: the test cannot reproduce %+v", e.Name, e.ValueFrom)
		}
	}
	// The pod IP's ports, on loopback only.
	for _, p := range c.Ports {
		args = append(args, fmt.Sprintf("--publish=127.0.0.1::%d", p.ContainerPort))
	}
	args = append(args, c.Image)
	args = append(args, c.Command...)
	for _, a := range c.Args {
		// No API server here to check tokens: the ports are published on
		// the host's loopback only, so no check is what this test runs.
		if a == "--authn=kubernetes" {
			a = "--authn=none"
		}
		args = append(args, a)
	}
	return args, c
}

type container struct {
	name        string
	grpcAddr    string
	metricsAddr string
}

// runDaemonSetContainer starts the DaemonSet's container and waits until its
// gRPC health service says SERVING, as the kubelet's probe would.
func runDaemonSetContainer(t *testing.T, ds *appsv1.DaemonSet, name string) *container {
	t.Helper()
	args, c := podmanRunArgs(t, ds, name)
	ctx := context.Background()
	_ = podman(ctx, "rm", "--force", "--ignore", name).Run()
	t.Logf("podman %s", strings.Join(append(slices.Clone(podmanGlobal), args...), " "))
	podmanOut(t, args...)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman(ctx, "logs", name).CombinedOutput()
			t.Logf("container %s output:\n%s", name, logs)
		}
		_ = podman(ctx, "rm", "--force", "--time=5", name).Run()
	})
	ct := &container{name: name}
	for _, p := range c.Ports {
		addr := podmanOut(t, "port", name, fmt.Sprintf("%d/tcp", p.ContainerPort))
		switch p.Name {
		case "grpc":
			ct.grpcAddr = addr
		case "metrics":
			ct.metricsAddr = addr
		}
	}
	conn, err := grpc.NewClient(ct.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := health.Check(rctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		state := podmanOut(t, "inspect", "--format", "{{.State.Status}}", name)
		if state != "running" || time.Now().After(deadline) {
			logs, _ := podman(ctx, "logs", name).CombinedOutput()
			t.Fatalf("gspyd in the container is not SERVING (container %s, health %v, %v):\n%s", state, resp, err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return ct
}

// capEff is the effective capability set of the container's gspyd, as the
// host's /proc says.
func capEff(t *testing.T, name string) uint64 {
	t.Helper()
	pid := podmanOut(t, "inspect", "--format", "{{.State.Pid}}", name)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CapEff:\s*([0-9a-f]+)$`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no CapEff in /proc/%s/status", pid)
	}
	v, _ := strconv.ParseUint(string(m[1]), 16, 64)
	return v
}

var capBits = map[string]uint{
	"SYS_PTRACE": 19, "SYS_ADMIN": 21, "SYS_RESOURCE": 24, "SYSLOG": 34, "PERFMON": 38, "BPF": 39,
}

// wantCaps is the DaemonSet's capability set, less what this machine cannot
// give: a container gets no capability outside podman's own bounding set
// (this sandbox lacks CAP_SYS_RESOURCE, and podman drops it silently).
func wantCaps(t *testing.T, c corev1.Container) uint64 {
	t.Helper()
	var want uint64
	for _, a := range c.SecurityContext.Capabilities.Add {
		bit, ok := capBits[string(a)]
		if !ok {
			t.Fatalf("capability %s: add its bit to capBits", a)
		}
		want |= 1 << bit
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CapBnd:\s*([0-9a-f]+)$`).FindSubmatch(status)
	if m == nil {
		t.Fatal("no CapBnd in /proc/self/status")
	}
	bnd, _ := strconv.ParseUint(string(m[1]), 16, 64)
	for name, bit := range capBits {
		if want&(1<<bit) != 0 && bnd&(1<<bit) == 0 {
			t.Logf("CAP_%s is not in this machine's bounding set: the container runs without it", name)
		}
	}
	return want & bnd
}

// startWorkload builds and starts tests/workloads/cpuwork on the host, and
// returns its pid once it is working.
func startWorkload(t *testing.T, duration time.Duration) int {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "cpuwork")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(repoRoot(t), "tests", "workloads", "cpuwork")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cpuwork: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-mode=split", "-duration="+duration.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("cpuwork said nothing: %v", err)
	}
	var ready struct {
		Event string `json:"event"`
		PID   int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Event != "ready" {
		t.Fatalf("cpuwork: %q (%v)", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return ready.PID
}

// gspyCLI runs the host's gspy against the container's gspyd.
func gspyCLI(t *testing.T, env *imageEnv, ct *container, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, env.gspyBin, append([]string{"--server=" + ct.grpcAddr}, args...)...).CombinedOutput()
	return string(out), err
}

// folded reads a .folded profile into stack -> count.
func folded(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stacks := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad folded line %q", line)
		}
		n, err := strconv.Atoi(line[i+1:])
		if err != nil {
			t.Fatalf("bad folded line %q", line)
		}
		stacks[line[:i]] += n
	}
	return stacks
}

// cpuProfile pulls a CPU profile of pid and checks that it holds cpuwork's
// functions in their proportions' order (alpha 4 units to beta's 3 and
// gamma's 1 per round).
func cpuProfile(t *testing.T, env *imageEnv, ct *container, pid int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cpu.folded")
	start := time.Now()
	msg, err := gspyCLI(t, env, ct, "profile", "cpu", fmt.Sprintf("--pid=%d", pid), "--duration=3s", "-o", out)
	if err != nil {
		t.Fatalf("gspy profile cpu: %v\n%s", err, msg)
	}
	t.Logf("%s(%v)", msg, time.Since(start).Round(time.Millisecond))
	leaf := map[string]int{}
	total := 0
	for stack, n := range folded(t, out) {
		frames := strings.Split(stack, ";")
		total += n
		for _, f := range frames {
			if strings.HasPrefix(f, "main.spin") {
				leaf[f] += n
			}
		}
	}
	t.Logf("%d samples: %v", total, leaf)
	for _, fn := range []string{"main.spinAlpha", "main.spinBeta", "main.spinGamma"} {
		if leaf[fn] == 0 {
			t.Errorf("no sample in %s: %v", fn, leaf)
		}
	}
	// 3 s at 99 Hz of two busy goroutines: about 590 samples.
	if total < 200 {
		t.Errorf("%d samples in 3 s of two busy goroutines", total)
	}
	if !(leaf["main.spinAlpha"] > leaf["main.spinGamma"] && leaf["main.spinBeta"] > leaf["main.spinGamma"]) {
		t.Errorf("alpha and beta should each outweigh gamma: %v", leaf)
	}
}

func TestImage(t *testing.T) {
	env := setupImage(t)
	manifest, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ds := daemonSet(t, manifest)
	pid := startWorkload(t, 60*time.Second)

	t.Run("daemonset", func(t *testing.T) {
		ct := runDaemonSetContainer(t, ds, "gspy-image-test")
		c := ds.Spec.Template.Spec.Containers[0]
		if got, want := capEff(t, ct.name), wantCaps(t, c); got != want {
			t.Errorf("gspyd's effective capabilities %#x, the DaemonSet's %#x", got, want)
		}
		out, err := gspyCLI(t, env, ct, "targets")
		if err != nil || !strings.Contains(out, strconv.Itoa(pid)) {
			t.Fatalf("gspy targets does not list cpuwork (pid %d): %v\n%s", pid, err, out)
		}
		cpuProfile(t, env, ct, pid)
		// The runtime probes (uprobes) under the same privileges.
		if out, err := gspyCLI(t, env, ct, "gc", fmt.Sprintf("--pid=%d", pid), "--duration=1s"); err != nil {
			t.Errorf("gspy gc (uprobes): %v\n%s", err, out)
		}
		blockOut := filepath.Join(t.TempDir(), "block.folded")
		if out, err := gspyCLI(t, env, ct, "profile", "block", "--exact", fmt.Sprintf("--pid=%d", pid), "--duration=1s", "-o", blockOut); err != nil {
			t.Errorf("gspy profile block (uprobes): %v\n%s", err, out)
		}
		// The metrics port.
		resp, err := http.Get("http://" + ct.metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("gspy_cpu_samples_total")) {
			t.Errorf("/metrics: %s\n%.500s", resp.Status, body)
		}
		if m := regexp.MustCompile(`(?m)^process_resident_memory_bytes ([0-9.e+]+)$`).FindSubmatch(body); m != nil {
			rss, _ := strconv.ParseFloat(string(m[1]), 64)
			t.Logf("gspyd resident memory %.1f MiB", rss/(1<<20))
		}
		stats := podmanOut(t, "stats", "--no-stream", "--format", "{{.MemUsage}} cpu {{.CPUPerc}}", ct.name)
		t.Logf("container memory (cgroup, BPF maps included) %s", stats)
	})

	// runtimeProbes=false: CAP_SYS_ADMIN dropped. CPU profiles still work;
	// uprobes do not (the reason the default adds it).
	t.Run("cpu-only", func(t *testing.T) {
		cpuOnly := daemonSet(t, runHelm(t, "template", releaseName, chartDir(t), "--namespace", namespace,
			"--set", "runtimeProbes=false"))
		ct := runDaemonSetContainer(t, cpuOnly, "gspy-image-test-cpu-only")
		c := cpuOnly.Spec.Template.Spec.Containers[0]
		if got, want := capEff(t, ct.name), wantCaps(t, c); got != want || got&(1<<capBits["SYS_ADMIN"]) != 0 {
			t.Errorf("gspyd's effective capabilities %#x, the DaemonSet's %#x", got, want)
		}
		cpuProfile(t, env, ct, pid)
		out, err := gspyCLI(t, env, ct, "gc", fmt.Sprintf("--pid=%d", pid), "--duration=1s")
		if err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("gspy gc without CAP_SYS_ADMIN: %v\n%s (want a uprobe permission error; if uprobes attach now, CAP_SYS_ADMIN may no longer be needed)", err, out)
		}
	})
}

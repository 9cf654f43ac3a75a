package e2e

import (
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// TestTransportSecurity: gspyd with --tls-cert-file, --tls-key-file and
// --tls-client-ca-file on TCP and a unix socket beside it, checked with Go's
// gRPC client and crypto/tls:
//   - a plaintext client, a TLS client without a certificate and one whose
//     certificate another CA signed all fail; the right one is served;
//   - gRPC health answers over the socket and, with a certificate, over TCP;
//     /healthz answers with no credentials at all;
//   - a server certificate and a client CA rotated on disk (renamed into
//     place) are used by new connections without a restart;
//   - the socket is 0600, its directory 0700, and the CLI reaches gspyd
//     through it and through TLS with --tls-* flags.
func TestTransportSecurity(t *testing.T) {
	hh := env(t)
	ca := newTestCA(t, "gspy test CA")
	rogue := newTestCA(t, "another CA")
	server := ca.issue(t, "gspyd", true, "gspyd.test")
	alice := ca.issue(t, "alice", false, "")
	mallory := rogue.issue(t, "alice", false, "")

	dir := t.TempDir()
	certFile, keyFile, clientCA := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "client-ca.crt")
	writeAtomically(t, certFile, server.certPEM, 0o644)
	writeAtomically(t, keyFile, server.keyPEM, 0o600)
	writeAtomically(t, clientCA, ca.certPEM, 0o644)
	sock := filepath.Join(dir, "run", "gspyd.sock") // run/ does not exist yet
	d := startOwnDaemon(t, hh, "--listen=127.0.0.1:0,unix://"+sock,
		"--tls-cert-file="+certFile, "--tls-key-file="+keyFile, "--tls-client-ca-file="+clientCA,
		"--tls-reload-interval=1s", "--metrics-listen=127.0.0.1:0")

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name string
			conn func() error
		}{
			{"plaintext", func() error { _, err := getVersion(dialGspyd(t, d.addr, nil)); return err }},
			{"TLS without a client certificate", func() error {
				_, err := getVersion(dialGspyd(t, d.addr, tlsCreds(t, ca, nil, nil)))
				return err
			}},
			{"a client certificate of another CA", func() error {
				_, err := getVersion(dialGspyd(t, d.addr, tlsCreds(t, ca, &mallory, nil)))
				return err
			}},
			{"a server not verified (wrong CA trusted)", func() error {
				_, err := getVersion(dialGspyd(t, d.addr, tlsCreds(t, rogue, &alice, nil)))
				return err
			}},
		} {
			err := c.conn()
			t.Logf("%s: %v", c.name, err)
			if err == nil {
				t.Errorf("%s: GetVersion answered", c.name)
			} else if codeOf(err) != codes.Unavailable {
				t.Errorf("%s: %v, want UNAVAILABLE (the handshake fails)", c.name, err)
			}
		}
	})

	seen := make(chan *big.Int, 1)
	good := dialGspyd(t, d.addr, tlsCreds(t, ca, &alice, seen))
	t.Run("served", func(t *testing.T) {
		v, err := getVersion(good)
		if err != nil || v == "" {
			t.Fatalf("GetVersion with alice's certificate: %q, %v", v, err)
		}
		if got := <-seen; got.Cmp(server.serial) != 0 {
			t.Errorf("gspyd presented serial %v, want %v", got, server.serial)
		}
		if ok, err := healthServing(good); err != nil || !ok {
			t.Errorf("gRPC health over mTLS: serving=%v, %v", ok, err)
		}
	})

	t.Run("health without credentials", func(t *testing.T) {
		resp, err := http.Get("http://" + d.metricsAddr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz: %s", resp.Status)
		}
		if ok, err := healthServing(dialGspyd(t, "unix://"+sock, nil)); err != nil || !ok {
			t.Errorf("gRPC health over the unix socket: serving=%v, %v", ok, err)
		}
	})

	t.Run("unix socket", func(t *testing.T) {
		st, err := os.Lstat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want a socket of mode 0600", sock, st.Mode())
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 0 {
			t.Errorf("%s is owned by uid %d, want root", sock, sys.Uid)
		}
		dst, err := os.Stat(filepath.Dir(sock))
		if err != nil {
			t.Fatal(err)
		}
		if dst.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", filepath.Dir(sock), dst.Mode())
		}
		if v, err := getVersion(dialGspyd(t, "unix://"+sock, nil)); err != nil || v == "" {
			t.Errorf("GetVersion over the socket: %q, %v", v, err)
		}
		// The permissions are what keeps others out: a process without
		// root's uid cannot connect (checked as nobody).
		if r, err := runAs(65534, hh.gspyBin, "--server=unix://"+sock, "targets"); err != nil {
			t.Errorf("running gspy as nobody: %v", err)
		} else if r.exitCode == 0 || !strings.Contains(r.stderr, "UNAVAILABLE") {
			t.Errorf("gspy targets as nobody over the socket: exit %d, stderr %q; want UNAVAILABLE", r.exitCode, r.stderr)
		} else {
			t.Logf("as nobody: %s", strings.TrimSpace(r.stderr))
		}
		if r := hh.gspyAt(t, "unix://"+sock, 30*time.Second, "targets"); r.exitCode != 0 {
			t.Errorf("gspy --server=unix://%s targets: exit %d", sock, r.exitCode)
		}
	})

	t.Run("cli", func(t *testing.T) {
		caFile, aliceCert, aliceKey := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key")
		writeAtomically(t, caFile, ca.certPEM, 0o644)
		writeAtomically(t, aliceCert, alice.certPEM, 0o644)
		writeAtomically(t, aliceKey, alice.keyPEM, 0o600)
		if r := hh.gspyAt(t, d.addr, 30*time.Second, "targets"); r.exitCode == 0 {
			t.Errorf("gspy targets in plaintext against TLS gspyd succeeded")
		}
		if r := hh.gspyAt(t, d.addr, 30*time.Second, "--tls-ca-file="+caFile, "targets"); r.exitCode == 0 {
			t.Errorf("gspy targets without a client certificate succeeded")
		}
		r := hh.gspyAt(t, d.addr, 30*time.Second, "--tls-ca-file="+caFile, "--tls-cert-file="+aliceCert,
			"--tls-key-file="+aliceKey, "--tls-server-name=gspyd.test", "targets")
		if r.exitCode != 0 {
			t.Errorf("gspy targets with TLS and alice's certificate: exit %d", r.exitCode)
		}
		r = hh.gspyAt(t, d.addr, 30*time.Second, "--tls-ca-file="+caFile, "--tls-cert-file="+aliceCert,
			"--tls-key-file="+aliceKey, "--tls-server-name=elsewhere.test", "targets")
		if r.exitCode == 0 {
			t.Errorf("gspy accepted gspyd's certificate for --tls-server-name=elsewhere.test")
		}
	})

	t.Run("rotation", func(t *testing.T) {
		// A new server certificate and a new client CA, renamed into place
		// while gspyd runs: within a few reload intervals new connections
		// get the new certificate, and only clients of the new CA get in.
		ca2 := newTestCA(t, "gspy test CA, rotated")
		server2 := ca2.issue(t, "gspyd", true, "gspyd.test")
		bob := ca2.issue(t, "bob", false, "")
		writeAtomically(t, keyFile, server2.keyPEM, 0o600)
		writeAtomically(t, certFile, server2.certPEM, 0o644)
		writeAtomically(t, clientCA, ca2.certPEM, 0o644)
		rotated := time.Now()
		var lastErr error
		for time.Since(rotated) < 20*time.Second {
			seen := make(chan *big.Int, 1)
			_, lastErr = getVersion(dialGspyd(t, d.addr, tlsCreds(t, ca2, &bob, seen)))
			if lastErr == nil {
				if got := <-seen; got.Cmp(server2.serial) != 0 {
					t.Fatalf("after the rotation gspyd presented serial %v, want %v", got, server2.serial)
				}
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if lastErr != nil {
			t.Fatalf("20s after the rotation bob (new CA) is still not served: %v", lastErr)
		}
		t.Logf("the rotated files served %.1fs after the rename", time.Since(rotated).Seconds())
		if _, err := getVersion(dialGspyd(t, d.addr, tlsCreds(t, ca2, &alice, nil))); err == nil {
			t.Errorf("alice (the old client CA) is still served after the client CA rotated")
		}
		if !d.alive() {
			t.Errorf("gspyd died")
		}
	})
}

// TestClusterWidePullOverMutualTLS: the cluster-wide pull of
// TestClusterWidePull against two gspyd that require client certificates:
// the CLI's --tls-* flags reach every node's gspyd (pod IP 127.0.0.1, named
// in the server certificate); without them every node refuses.
func TestClusterWidePullOverMutualTLS(t *testing.T) {
	hh := env(t)
	ca := newTestCA(t, "gspy test CA")
	server := ca.issue(t, "gspyd", true, "gspyd.test")
	alice := ca.issue(t, "alice", false, "")
	dir := t.TempDir()
	files := map[string][]byte{"tls.crt": server.certPEM, "tls.key": server.keyPEM, "ca.crt": ca.certPEM,
		"alice.crt": alice.certPEM, "alice.key": alice.keyPEM}
	for name, data := range files {
		writeAtomically(t, filepath.Join(dir, name), data, 0o600)
	}
	path := func(name string) string { return filepath.Join(dir, name) }

	api, w1, w2, _ := checkoutPods(t, hh)
	kube := []string{"--kube-api=" + api.srv.URL, "--kube-ca-file=" + api.caFile, "--kube-token-file=" + api.tokFile}
	for _, node := range []string{"node-a", "node-b"} {
		d := startOwnDaemon(t, hh, append(kube, "--node-name="+node, "--tls-cert-file="+path("tls.crt"),
			"--tls-key-file="+path("tls.key"), "--tls-client-ca-file="+path("ca.crt"),
			"--listen=127.0.0.1:0,unix://"+filepath.Join(dir, node, "gspyd.sock"))...)
		port, _ := strconv.Atoi(d.addr[strings.LastIndex(d.addr, ":")+1:])
		api.set("ADDED", gspyPod(node, port))
		// waitForPod speaks plaintext: the node's socket.
		waitForPod(t, hh, "unix://"+filepath.Join(dir, node, "gspyd.sock"), node,
			map[string]int{"node-a": w1.pid, "node-b": w2.pid}[node])
	}
	pull := func(extra ...string) (gspyResult, string) {
		out := filepath.Join(t.TempDir(), "cluster.pb.gz")
		args := append(append(append([]string{}, kube...), extra...), "profile", "cpu", "--namespace=shop",
			"--selector=app=checkout", "--duration=2s", "-o", out)
		return hh.gspyAt(t, "127.0.0.1:1", 3*time.Minute, args...), out
	}
	if r, _ := pull(); r.exitCode == 0 {
		t.Errorf("a plaintext cluster-wide pull from gspyd that require mTLS succeeded")
	}
	r, out := pull("--tls-ca-file="+path("ca.crt"), "--tls-cert-file="+path("alice.crt"), "--tls-key-file="+path("alice.key"))
	if r.exitCode != 0 {
		t.Fatalf("cluster-wide pull over mTLS failed: %s", r.stderr)
	}
	samples := map[string]int64{}
	for _, s := range readProfile(t, out).Sample {
		if pods := s.Label["pod"]; len(pods) == 1 {
			samples[pods[0]] += s.Value[0]
		}
	}
	t.Logf("merged samples by pod: %v", samples)
	if samples["checkout-1"] == 0 || samples["checkout-2"] == 0 {
		t.Errorf("want samples of both checkout pods over mTLS; got %v", samples)
	}
}

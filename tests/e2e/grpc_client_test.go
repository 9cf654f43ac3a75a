package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// gspyd checked by gRPC's own Go client (google.golang.org/grpc), not by
// gspy's C++ one. Messages are encoded by hand with protowire: the e2e module
// has no generated code of gspy's API, and the few fields used here are
// the API's wire contract anyway.

// rawCodec sends and receives message bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func dialGspyd(t *testing.T, target string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", target, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// unary calls a unary method with raw request bytes.
func unary(conn *grpc.ClientConn, timeout time.Duration, method string, req []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var resp []byte
	err := conn.Invoke(ctx, method, &req, &resp)
	return resp, err
}

// getVersion: Profiler.GetVersion's version field, or the call's error.
func getVersion(conn *grpc.ClientConn) (string, error) {
	resp, err := unary(conn, 10*time.Second, "/gspy.v1.Profiler/GetVersion", nil)
	if err != nil {
		return "", err
	}
	return stringField(resp, 1), nil
}

// healthServing: grpc.health.v1.Health/Check of the whole server.
func healthServing(conn *grpc.ClientConn) (bool, error) {
	resp, err := unary(conn, 10*time.Second, "/grpc.health.v1.Health/Check", nil)
	if err != nil {
		return false, err
	}
	return varintField(resp, 1) == 1, nil // SERVING
}

func stringField(msg []byte, num protowire.Number) string {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return ""
		}
		msg = msg[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return ""
			}
			return string(v)
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return ""
		}
		msg = msg[l:]
	}
	return ""
}

func varintField(msg []byte, num protowire.Number) uint64 {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return 0
		}
		msg = msg[l:]
		if n == num && typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(msg)
			return v
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return 0
		}
		msg = msg[l:]
	}
	return 0
}

// profileRequest encodes a GetProfileRequest: CPU, these pids (as given,
// repeats included), duration, filter.
func profileRequest(pids []int, duration time.Duration, filter string) []byte {
	var sel []byte
	if len(pids) > 0 {
		var packed []byte
		for _, p := range pids {
			packed = protowire.AppendVarint(packed, uint64(p))
		}
		sel = protowire.AppendTag(sel, 1, protowire.BytesType)
		sel = protowire.AppendBytes(sel, packed)
	}
	var dur []byte
	dur = protowire.AppendTag(dur, 1, protowire.VarintType)
	dur = protowire.AppendVarint(dur, uint64(duration/time.Second))
	dur = protowire.AppendTag(dur, 2, protowire.VarintType)
	dur = protowire.AppendVarint(dur, uint64(duration%time.Second))
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, sel)
	req = protowire.AppendTag(req, 2, protowire.VarintType)
	req = protowire.AppendVarint(req, 1) // PROFILE_TYPE_CPU
	req = protowire.AppendTag(req, 9, protowire.BytesType)
	req = protowire.AppendBytes(req, dur)
	if filter != "" {
		req = protowire.AppendTag(req, 8, protowire.BytesType)
		req = protowire.AppendString(req, filter)
	}
	return req
}

func getProfile(conn *grpc.ClientConn, timeout time.Duration, req []byte) error {
	_, err := unary(conn, timeout, "/gspy.v1.Profiler/GetProfile", req)
	return err
}

func codeOf(err error) codes.Code { return status.Code(err) }

// testCA is a certificate authority made for one test (crypto/x509): no key
// is checked in.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

var serialCounter = big.NewInt(time.Now().UnixNano())

func nextSerial() *big.Int {
	serialCounter = new(big.Int).Add(serialCounter, big.NewInt(1))
	return new(big.Int).Set(serialCounter)
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

type issued struct {
	certPEM, keyPEM []byte
	serial          *big.Int
}

// issue signs a leaf: a server certificate for 127.0.0.1 and dnsName, or a
// client certificate for cn.
func (ca *testCA) issue(t *testing.T, cn string, server bool, dnsName string) issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{dnsName}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.DNSNames = []string{cn}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		serial:  tmpl.SerialNumber,
	}
}

// tlsCreds: TLS trusting `roots`, presenting `client` when given; the
// serial of the server certificate seen is sent to `seen`.
func tlsCreds(t *testing.T, roots *testCA, client *issued, seen chan<- *big.Int) credentials.TransportCredentials {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(roots.cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if client != nil {
		pair, err := tls.X509KeyPair(client.certPEM, client.keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if seen != nil {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			select {
			case seen <- cs.PeerCertificates[0].SerialNumber:
			default:
			}
			return nil
		}
	}
	return credentials.NewTLS(cfg)
}

// writeAtomically replaces path's content with a rename, as a certificate
// rotation (cert-manager, a kubelet projected volume) does.
func writeAtomically(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	if err := os.WriteFile(tmp, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// procStatus reads the number of a "Key:   N kB" (or "Key: N") line of
// /proc/PID/status.
func procStatus(t *testing.T, pid int, key string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading gspyd's status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var k string
		var v int64
		if n, _ := fmt.Sscan(line, &k, &v); n == 2 && k == key+":" {
			return v
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, key)
	return 0
}

// runAs runs a command as uid (and gid) `id`, for 30 s at most.
func runAs(id uint32, bin string, args ...string) (gspyResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: id, Gid: id}}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := gspyResult{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.exitCode = ee.ExitCode()
		return r, nil
	}
	return r, err
}

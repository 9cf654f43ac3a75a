package kubeauth

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// apiServer is a kube-apiserver from k8s.io/kubernetes with RBAC
// authorization and service-account tokens, over an embedded etcd.
type apiServer struct {
	url    string // https://127.0.0.1:PORT
	caFile string // the CA of its serving certificate
	admin  *kubernetes.Clientset
}

func startEtcd(t *testing.T) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "error"
	client, _ := url.Parse("http://127.0.0.1:0")
	peer, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("embedded etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		t.Fatal("embedded etcd is not ready after 60 s")
	}
	return "http://" + e.Clients[0].Addr().String()
}

func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	storage := storagebackend.NewDefaultConfig("/registry", nil)
	storage.Transport.ServerList = []string{startEtcd(t)}
	server, err := kubeapiservertesting.StartTestServer(t, &kubeapiservertesting.TestServerInstanceOptions{
		EnableCertAuth:         true,
		DisableInvariantChecks: true,
	}, []string{
		"--authorization-mode=RBAC",
		// No controller manager creates the namespaces' default service
		// accounts that this admission plugin wants pods to have.
		"--disable-admission-plugins=ServiceAccount",
	}, storage)
	if err != nil {
		t.Fatalf("kube-apiserver: %v", err)
	}
	t.Cleanup(server.TearDownFn)
	cfg := server.ClientConfig
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The serving certificate (self-signed with its own CA, or a fixture):
	// its file holds the chain, which serves as gspyd's CA bundle.
	crt := filepath.Join(server.TmpDir, "apiserver.crt")
	if _, err := os.Stat(crt); err != nil {
		t.Fatalf("the API server's certificate: %v", err)
	}
	return &apiServer{
		url:    "https://" + server.ServerOpts.SecureServing.Listener.Addr().String(),
		caFile: crt,
		admin:  admin,
	}
}

// userConfig: a client of the API server with a bearer token.
func (a *apiServer) userConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            a.url,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: a.caFile},
	}
}

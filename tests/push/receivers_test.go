package push

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/pprof/profile"
	pushv1 "github.com/grafana/pyroscope/api/gen/proto/go/push/v1"
	"github.com/grafana/pyroscope/api/gen/proto/go/push/v1/pushv1connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// received is one profile as a backend got it.
type received struct {
	backend string
	labels  map[string]string
	id      string // Pyroscope's RawSample.ID; empty for Parca
	raw     []byte
	prof    *profile.Profile
	auth    string // the Authorization header of its request
	at      time.Time
}

// store collects what the receivers got, checking each profile as it
// arrives: it must decode as pprof.
type store struct {
	mu       sync.Mutex
	profiles []received
	errors   []string
	requests int
}

func (s *store) add(r received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := profile.ParseData(r.raw)
	if err != nil {
		s.errors = append(s.errors, fmt.Sprintf("%s: a profile does not decode: %v", r.backend, err))
		return
	}
	if err := p.CheckValid(); err != nil {
		s.errors = append(s.errors, fmt.Sprintf("%s: an invalid profile: %v", r.backend, err))
	}
	r.prof = p
	r.at = time.Now()
	s.profiles = append(s.profiles, r)
}

func (s *store) snapshot() ([]received, []string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.profiles...), append([]string(nil), s.errors...), s.requests
}

// pyroscopeReceiver serves push.v1.PusherService with Pyroscope's own
// generated connect-go handler, as Pyroscope's server does, over HTTP/2
// without TLS (h2c) or with it.
type pyroscopeReceiver struct {
	st   *store
	addr string
	srv  *http.Server
	// When set, requests whose Authorization differs are refused with
	// Unauthenticated (checked before anything is stored).
	wantAuth func() string
}

func (r *pyroscopeReceiver) Push(ctx context.Context, req *connect.Request[pushv1.PushRequest]) (*connect.Response[pushv1.PushResponse], error) {
	auth := req.Header().Get("Authorization")
	if r.wantAuth != nil && auth != r.wantAuth() {
		return nil, connect.NewError(connect.CodeUnauthenticated, fmt.Errorf("bad token %q", auth))
	}
	r.st.mu.Lock()
	r.st.requests++
	r.st.mu.Unlock()
	for _, series := range req.Msg.GetSeries() {
		labels := map[string]string{}
		for _, l := range series.GetLabels() {
			labels[l.GetName()] = l.GetValue()
		}
		for _, s := range series.GetSamples() {
			r.st.add(received{backend: "pyroscope", labels: labels, id: s.GetID(), raw: s.GetRawProfile(), auth: auth})
		}
	}
	return connect.NewResponse(&pushv1.PushResponse{}), nil
}

// startPyroscope listens on addr ("127.0.0.1:0" for any port).
func startPyroscope(t *testing.T, st *store, addr string, tlsConfig *tls.Config) *pyroscopeReceiver {
	t.Helper()
	r := &pyroscopeReceiver{st: st}
	mux := http.NewServeMux()
	path, handler := pushv1connect.NewPusherServiceHandler(r)
	mux.Handle(path, handler)
	r.srv = &http.Server{Handler: mux}
	r.srv.Protocols = new(http.Protocols)
	r.srv.Protocols.SetHTTP1(true)
	if tlsConfig != nil {
		r.srv.Protocols.SetHTTP2(true)
		r.srv.TLSConfig = tlsConfig
	} else {
		r.srv.Protocols.SetUnencryptedHTTP2(true)
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old server's port may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pyroscope receiver: %v", err)
	}
	r.addr = ln.Addr().String()
	go func() {
		if tlsConfig != nil {
			r.srv.ServeTLS(ln, "", "")
		} else {
			r.srv.Serve(ln)
		}
	}()
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// kill closes the listener and every connection at once, as a crash would.
func (r *pyroscopeReceiver) kill() { r.srv.Close() }

// rawCodec passes messages through as bytes: the Parca receiver decodes
// WriteRawRequest itself, by the published field numbers.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

type parcaReceiver struct {
	st   *store
	addr string
	srv  *grpc.Server
}

// Parca's profilestore.proto: WriteRawRequest{tenant=1, series=2,
// normalized=3}; RawProfileSeries{labels=1 LabelSet, samples=2};
// LabelSet{labels=1}; Label{name=1, value=2}; RawSample{raw_profile=1,
// executable_info=2}.
func decodeWriteRaw(b []byte) (series []received, normalized bool, err error) {
	err = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == 2 && typ == protowire.BytesType:
			var labels = map[string]string{}
			var raws [][]byte
			err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				switch {
				case num == 1 && typ == protowire.BytesType: // LabelSet
					return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
						if num != 1 || typ != protowire.BytesType {
							return fmt.Errorf("LabelSet field %d type %d", num, typ)
						}
						var name, value string
						err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
							switch num {
							case 1:
								name = string(v)
							case 2:
								value = string(v)
							default:
								return fmt.Errorf("Label field %d", num)
							}
							return nil
						})
						labels[name] = value
						return err
					})
				case num == 2 && typ == protowire.BytesType: // RawSample
					return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
						if num == 1 {
							raws = append(raws, append([]byte(nil), v...))
						}
						return nil
					})
				}
				return fmt.Errorf("RawProfileSeries field %d type %d", num, typ)
			})
			if err != nil {
				return err
			}
			for _, raw := range raws {
				series = append(series, received{backend: "parca", labels: labels, raw: raw})
			}
		case num == 3 && typ == protowire.VarintType:
			normalized = n != 0
		case num == 1:
		default:
			return fmt.Errorf("WriteRawRequest field %d type %d", num, typ)
		}
		return nil
	})
	return series, normalized, err
}

func eachField(b []byte, f func(protowire.Number, protowire.Type, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func startParca(t *testing.T, st *store) *parcaReceiver {
	t.Helper()
	r := &parcaReceiver{st: st}
	r.srv = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}))
	r.srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "parca.profilestore.v1alpha1.ProfileStoreService",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "WriteRaw",
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var in []byte
				if err := dec(&in); err != nil {
					return nil, err
				}
				series, normalized, err := decodeWriteRaw(in)
				if err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "WriteRawRequest: %v", err)
				}
				if normalized {
					return nil, status.Error(codes.InvalidArgument, "gspy sends runtime addresses: normalized must be false")
				}
				auth := ""
				if md, ok := metadata.FromIncomingContext(ctx); ok && len(md["authorization"]) > 0 {
					auth = md["authorization"][0]
				}
				r.st.mu.Lock()
				r.st.requests++
				r.st.mu.Unlock()
				for _, s := range series {
					// Parca's own rule: a series needs __name__.
					if s.labels["__name__"] == "" {
						return nil, status.Error(codes.InvalidArgument, "a series without __name__")
					}
					s.auth = auth
					r.st.add(s)
				}
				out := []byte{} // WriteRawResponse{}
				return &out, nil
			},
		}},
	}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go r.srv.Serve(ln)
	t.Cleanup(r.srv.Stop)
	return r
}

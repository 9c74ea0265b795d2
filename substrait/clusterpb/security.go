package clusterpb

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Security is how the cluster's processes authenticate each other and
// their clients: a bearer token on every call and, optionally, TLS (mutual
// when a CA is given: both sides present certificates signed by it).
// Every gRPC server of the cluster (scheduler, executor with its Flight
// service) and every client of one uses the same settings.
type Security struct {
	// Token, when set, is required as "authorization: Bearer <token>"
	// on every call.
	Token string
	// CertFile and KeyFile are this process's certificate and key (PEM).
	// Servers need them for TLS; clients present them for mutual TLS.
	CertFile, KeyFile string
	// CAFile is the CA that signs the peers' certificates. On a server it
	// makes client certificates mandatory (mutual TLS); on a client it is
	// the root the server's certificate must chain to.
	CAFile string
}

// TLS reports whether TLS is configured.
func (s Security) TLS() bool { return s.CertFile != "" || s.CAFile != "" }

// ServerOptions are the gRPC server options that enforce s.
func (s Security) ServerOptions() ([]grpc.ServerOption, error) {
	var opts []grpc.ServerOption
	if s.TLS() {
		if s.CertFile == "" || s.KeyFile == "" {
			return nil, errors.New("TLS needs a certificate and a key (--tls-cert, --tls-key)")
		}
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the TLS certificate: %w", err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.CAFile != "" {
			pool, err := loadPool(s.CAFile)
			if err != nil {
				return nil, err
			}
			cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	if s.Token != "" {
		check := tokenCheck(s.Token)
		opts = append(opts,
			grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				if err := check(ctx); err != nil {
					return nil, err
				}
				return h(ctx, req)
			}),
			grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				if err := check(ss.Context()); err != nil {
					return err
				}
				return h(srv, ss)
			}))
	}
	return opts, nil
}

// DialOptions are the gRPC dial options that satisfy a server enforcing s.
func (s Security) DialOptions() ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if s.TLS() {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.CAFile != "" {
			pool, err := loadPool(s.CAFile)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = pool
		}
		if s.CertFile != "" || s.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("loading the TLS certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if s.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: s.Token}))
	}
	return opts, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA %s holds no PEM certificate", file)
	}
	return pool, nil
}

// tokenCheck verifies the bearer token of a call in constant time.
func tokenCheck(token string) func(context.Context) error {
	want := []byte("Bearer " + token)
	return func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		for _, v := range md.Get("authorization") {
			if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(v)), want) == 1 {
				return nil
			}
		}
		return status.Error(codes.Unauthenticated, "missing or wrong bearer token")
	}
}

// bearer sends the token with every call.
type bearer struct{ token string }

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return false }

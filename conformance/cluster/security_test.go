package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbalest/arbalest/cmd/arbalest/remote"
	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/sdk/client"
	"github.com/arbalest/arbalest/substrait/clusterpb"
)

// certs writes a CA and, signed by it, a certificate for 127.0.0.1 that
// every process of the test uses as server and client.
func certs(t *testing.T) (ca, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "arbalest test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "arbalest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(k)
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", kder)
}

// TestSecurity runs a cluster that requires a token and mutual TLS:
// clients with both get verified answers; without the token, or without
// a client certificate, they are refused.
func TestSecurity(t *testing.T) {
	e := needEnv(t)
	want := duckdb(t, e)
	ca, cert, key := certs(t)
	flags := []string{"--token", "s3cret", "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca}
	c := &testCluster{t: t, e: e, addr: freeAddr(t)}
	c.schedArgs = append([]string{"scheduler", "--addr", c.addr, "--heartbeat", "250ms", "--partitions", "4"}, flags...)
	c.sched, _ = start(t, e, "scheduler", schedReady, c.schedArgs...)
	c.execFlags = flags
	for i := 0; i < 2; i++ {
		c.addExecutor(2)
	}
	ctx := context.Background()
	good := clusterpb.Security{Token: "s3cret", CertFile: cert, KeyFile: key, CAFile: ca}
	cl, err := client.Dial(ctx, c.addr, client.WithSecurity(good))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r := &remote.Runner{C: cl}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := tpch.Register(ctx, r, e.data)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v\n%s", err, c.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, q := range []int{3, 9} {
		c.check(q, tpch.Run(ctx, r, q), want)
	}

	refused := func(name string, sec clusterpb.Security, wantErr ...string) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		bad, err := client.Dial(cctx, c.addr, client.WithSecurity(sec))
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		old := client.ReconnectWindow
		client.ReconnectWindow = time.Second
		defer func() { client.ReconnectWindow = old }()
		_, err = bad.SQL(cctx, "SELECT 1")
		if err == nil {
			t.Errorf("%s: the cluster answered", name)
			return
		}
		for _, w := range wantErr {
			if strings.Contains(strings.ToLower(err.Error()), w) {
				return
			}
		}
		t.Errorf("%s: err = %v, want it to mention one of %q", name, err, wantErr)
	}
	refused("no token", clusterpb.Security{CertFile: cert, KeyFile: key, CAFile: ca}, "token")
	refused("wrong token", clusterpb.Security{Token: "guess", CertFile: cert, KeyFile: key, CAFile: ca}, "token")
	start := time.Now()
	// TLS 1.3 reports a refused client certificate after the handshake:
	// the client sees the alert, or only the closed connection.
	refused("no client certificate", clusterpb.Security{Token: "s3cret", CAFile: ca}, "certificate", "broken pipe", "connection reset", "eof")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a refused TLS handshake took %s to report", d)
	}
}

package flightsql

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// SessionHeader names the Arbalest session of an anonymous client that
// does not authenticate (loopback only): clients that send the same value
// share tables and settings.
const SessionHeader = "x-arbalest-session"

// anonymousSession is the session of anonymous clients that neither
// authenticate nor send SessionHeader.
const anonymousSession = "flightsql-anonymous"

// maxTokens bounds the bearer tokens held at once; the least recently used
// goes first when a new login would pass it.
const maxTokens = 10000

// identity is who a call comes from: its Arbalest session.
type identity struct{ session string }

type identityKey struct{}

func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// sessionOf is the Arbalest session of the call in ctx.
func sessionOf(ctx context.Context) string {
	if id, ok := ctx.Value(identityKey{}).(identity); ok {
		return id.session
	}
	return anonymousSession
}

// tokens are the bearer tokens given out by logins, each with a session of
// its own: one Flight SQL connection (one login) is one Arbalest session.
type tokens struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*tokenEntry
	// dropped, when set, learns (outside the lock) the sessions of
	// tokens that went: their Arbalest sessions are closed.
	dropped func(session string)
}

func (t *tokens) drop(sessions []string) {
	if t.dropped == nil {
		return
	}
	for _, s := range sessions {
		t.dropped(s)
	}
}

type tokenEntry struct {
	session string
	used    time.Time
}

func newTokens(ttl time.Duration) *tokens {
	return &tokens{ttl: ttl, m: map[string]*tokenEntry{}}
}

// issue makes a new token with a new session.
func (t *tokens) issue() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	// The session id is not the token: session ids are saved in the
	// scheduler's state store, tokens must never be.
	var s [12]byte
	_, _ = rand.Read(s[:])
	var gone []string
	defer func() { t.drop(gone) }()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxTokens {
		var oldest string
		for k, e := range t.m {
			if oldest == "" || e.used.Before(t.m[oldest].used) {
				oldest = k
			}
		}
		gone = append(gone, t.m[oldest].session)
		delete(t.m, oldest)
	}
	t.m[tok] = &tokenEntry{session: "flightsql-" + hex.EncodeToString(s[:]), used: time.Now()}
	return tok
}

// check finds the session of a token.
func (t *tokens) check(tok string) (string, bool) {
	var gone []string
	defer func() { t.drop(gone) }()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[tok]
	if !ok {
		return "", false
	}
	now := time.Now()
	if t.ttl > 0 && now.Sub(e.used) > t.ttl {
		gone = append(gone, e.session)
		delete(t.m, tok)
		return "", false
	}
	e.used = now
	return e.session, true
}

// expire drops tokens unused for longer than the TTL.
func (t *tokens) expire(now time.Time) {
	if t.ttl <= 0 {
		return
	}
	var gone []string
	defer func() { t.drop(gone) }()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, e := range t.m {
		if now.Sub(e.used) > t.ttl {
			gone = append(gone, e.session)
			delete(t.m, k)
		}
	}
}

// authenticator checks the calls: basic auth (on the handshake or any
// call) is answered with a bearer token in the "authorization" response
// header; later calls carry that token.
type authenticator struct {
	// user and pass are the configured credentials; anonymous is true
	// when there are none (the server then listens on loopback only).
	user, pass string
	anonymous  bool
	tokens     *tokens
}

func (a *authenticator) validPassword(user, pass string) bool {
	// Hashing first makes the comparison's time independent of the
	// lengths too.
	u1, u2 := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(a.user))
	p1, p2 := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(a.pass))
	okU := subtle.ConstantTimeCompare(u1[:], u2[:])
	okP := subtle.ConstantTimeCompare(p1[:], p2[:])
	return okU&okP == 1
}

// authenticate checks a call's credentials. It returns the call's
// identity and, after a basic login, the new bearer token to send back.
func (a *authenticator) authenticate(ctx context.Context) (identity, string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var auth string
	if v := md.Get("authorization"); len(v) > 0 {
		auth = strings.TrimSpace(v[0])
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		if s, ok := a.tokens.check(cred); ok {
			return identity{session: s}, "", nil
		}
		return identity{}, "", status.Error(codes.Unauthenticated, "flight sql: the bearer token is invalid or expired; log in again with username and password")
	case strings.EqualFold(scheme, "Basic") && cred != "":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			if raw, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
				return identity{}, "", status.Error(codes.Unauthenticated, "flight sql: basic auth credentials are not valid base64")
			}
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return identity{}, "", status.Error(codes.Unauthenticated, "flight sql: basic auth credentials must be username:password")
		}
		// Without configured credentials (loopback only) any login is
		// accepted: it only serves to get a session of one's own.
		if !a.anonymous && !a.validPassword(user, pass) {
			return identity{}, "", status.Error(codes.Unauthenticated, "flight sql: wrong username or password")
		}
		tok := a.tokens.issue()
		s, _ := a.tokens.check(tok)
		return identity{session: s}, tok, nil
	case auth != "":
		return identity{}, "", status.Errorf(codes.Unauthenticated, "flight sql: authorization scheme %q is not supported (use Basic, then Bearer)", scheme)
	}
	if !a.anonymous {
		return identity{}, "", status.Error(codes.Unauthenticated, "flight sql: authentication required: log in with username and password (basic auth)")
	}
	if v := md.Get(SessionHeader); len(v) > 0 && v[0] != "" {
		if len(v[0]) > 128 {
			return identity{}, "", status.Errorf(codes.InvalidArgument, "flight sql: %s is longer than 128 bytes", SessionHeader)
		}
		return identity{session: "flightsql-anon-" + v[0]}, "", nil
	}
	return identity{session: anonymousSession}, "", nil
}

func bearerHeader(tok string) metadata.MD {
	return metadata.Pairs("authorization", "Bearer "+tok)
}

func (a *authenticator) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	id, tok, err := a.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if tok != "" {
		_ = grpc.SetHeader(ctx, bearerHeader(tok))
	}
	return h(withIdentity(ctx, id), req)
}

func (a *authenticator) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	handshake := strings.HasSuffix(info.FullMethod, "/Handshake")
	md, _ := metadata.FromIncomingContext(ss.Context())
	if handshake && len(md.Get("authorization")) == 0 && a.anonymous {
		// An anonymous handshake still gets a session of its own.
		tok := a.tokens.issue()
		return ss.SendHeader(bearerHeader(tok))
	}
	id, tok, err := a.authenticate(ss.Context())
	if err != nil {
		return err
	}
	if handshake {
		// The login is the whole handshake: the token goes back in the
		// response header (where the Go, Java and C++ clients look) and
		// the trailer. A handshake with a valid bearer token keeps it.
		if tok == "" {
			return nil
		}
		ss.SetTrailer(bearerHeader(tok))
		return ss.SendHeader(bearerHeader(tok))
	}
	if tok != "" {
		_ = ss.SetHeader(bearerHeader(tok))
	}
	return h(srv, &identityStream{ServerStream: ss, ctx: withIdentity(ss.Context(), id)})
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }

package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3 client. Zero durations and counts take the
// defaults below.
type S3Config struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Region is the bucket's region; empty asks the server (AWS) or means
	// us-east-1 (custom endpoints).
	Region string
	// Endpoint is a URL (http://127.0.0.1:9000) or host[:port] of an
	// S3-compatible server; empty means AWS S3. Custom endpoints use
	// path-style addressing (http://host/bucket/key).
	Endpoint string
	// AllowHTTP lets an endpoint without TLS be used.
	AllowHTTP bool

	// Attempts is how many times a request is tried (default 4).
	Attempts int
	// Backoff is the wait before the first retry, doubled (with jitter)
	// before each next one (default 200ms, at most 5s).
	Backoff time.Duration
	// Timeout bounds one attempt of a small request (list, stat, a read of
	// up to 1 MiB); reads get one more second per MiB (default 30s).
	Timeout time.Duration
}

// Defaults of S3Config.
const (
	defaultAttempts = 4
	defaultBackoff  = 200 * time.Millisecond
	maxBackoff      = 5 * time.Second
	defaultTimeout  = 30 * time.Second
)

// Keys of the S3 table OPTIONS.
const (
	OptAccessKeyID     = "aws_access_key_id"
	OptSecretAccessKey = "aws_secret_access_key"
	OptSessionToken    = "aws_session_token"
	OptRegion          = "aws_region"
	OptEndpoint        = "aws_endpoint"
	OptAllowHTTP       = "aws_allow_http"
)

// ParseS3Config builds the configuration from table options (which win)
// and the standard AWS environment read through getenv: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or
// AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) and
// AWS_ALLOW_HTTP. An http:// endpoint from the environment is allowed as
// is (the AWS tools accept it); one given in OPTIONS needs
// aws_allow_http 'true'.
func ParseS3Config(options map[string]string, getenv func(string) string) (S3Config, error) {
	var c S3Config
	opt := map[string]string{}
	for k, v := range options {
		k = strings.ToLower(k)
		switch k {
		case OptAccessKeyID, OptSecretAccessKey, OptSessionToken, OptRegion, OptEndpoint, OptAllowHTTP:
			opt[k] = v
		default:
			return c, fmt.Errorf("unknown S3 option %q (expected %s, %s, %s, %s, %s or %s)", k,
				OptAccessKeyID, OptSecretAccessKey, OptSessionToken, OptRegion, OptEndpoint, OptAllowHTTP)
		}
	}
	_, hasID := opt[OptAccessKeyID]
	_, hasSecret := opt[OptSecretAccessKey]
	switch {
	case hasID != hasSecret:
		return c, fmt.Errorf("S3 options %s and %s must be given together", OptAccessKeyID, OptSecretAccessKey)
	case hasID:
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = opt[OptAccessKeyID], opt[OptSecretAccessKey], opt[OptSessionToken]
	default:
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	}
	c.Region = firstNonEmpty(opt[OptRegion], getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	allow, err := parseBool(firstNonEmpty(opt[OptAllowHTTP], getenv("AWS_ALLOW_HTTP")), "aws_allow_http")
	if err != nil {
		return c, err
	}
	c.AllowHTTP = allow
	if e, ok := opt[OptEndpoint]; ok {
		c.Endpoint = e
	} else if e := firstNonEmpty(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL")); e != "" {
		c.Endpoint = e
		if strings.HasPrefix(strings.ToLower(e), "http://") {
			c.AllowHTTP = true
		}
	}
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func parseBool(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return false, fmt.Errorf("%s: expected true or false, got %q", name, v)
	}
	return b, nil
}

// S3 is the store of s3:// locations.
type S3 struct {
	core    *minio.Core
	cfg     S3Config
	secrets []string // redacted from every error
}

// NewS3 returns a store configured by the S3 table options and the
// process environment.
func NewS3(options map[string]string) (*S3, error) {
	cfg, err := ParseS3Config(options, os.Getenv)
	if err != nil {
		return nil, err
	}
	return NewS3FromConfig(cfg)
}

// NewS3FromConfig returns a store for cfg.
func NewS3FromConfig(cfg S3Config) (*S3, error) {
	if cfg.Attempts <= 0 {
		cfg.Attempts = defaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = defaultBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	host, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	if cfg.Endpoint != "" {
		e := cfg.Endpoint
		if !strings.Contains(e, "://") {
			if cfg.AllowHTTP {
				e = "http://" + e
			} else {
				e = "https://" + e
			}
		}
		u, err := url.Parse(e)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("S3 endpoint %q: expected a URL such as http://127.0.0.1:9000 (no path)", cfg.Endpoint)
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
		case "http":
			if !cfg.AllowHTTP {
				return nil, fmt.Errorf("S3 endpoint %s is plain http: set OPTIONS (aws_allow_http 'true') to allow it", u.Host)
			}
			secure = false
		default:
			return nil, fmt.Errorf("S3 endpoint %q: scheme must be http or https", cfg.Endpoint)
		}
		host, lookup = u.Host, minio.BucketLookupPath
		if cfg.Region == "" {
			// S3-compatible servers accept any region; naming one saves
			// a GetBucketLocation round trip per bucket.
			cfg.Region = "us-east-1"
		}
	}
	var creds *credentials.Credentials
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	} else {
		// Shared credentials file (~/.aws/credentials, AWS_PROFILE), else
		// anonymous requests for public buckets. The instance metadata
		// service is not consulted: off AWS it means a long wait.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.FileAWSCredentials{},
			&credentials.Static{Value: credentials.Value{SignerType: credentials.SignatureAnonymous}},
		})
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		// Ranged reads must come back as the stored bytes.
		DisableCompression: true,
	}
	core, err := minio.NewCore(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    tr,
		// Retries are ours (withRetry): they also cover reading the body
		// and keep every attempt under a deadline.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", host, err)
	}
	s := &S3{core: core, cfg: cfg}
	for _, v := range []string{cfg.SecretAccessKey, cfg.SessionToken} {
		if len(v) >= 4 {
			s.secrets = append(s.secrets, v)
		}
	}
	return s, nil
}

// parseS3 splits s3://bucket/key.
func parseS3(location string) (bucket, key string, err error) {
	s := Scheme(location)
	if s != SchemeS3 && s != "s3a" {
		return "", "", fmt.Errorf("%s: not an s3:// location", location)
	}
	rest := location[len(s)+3:]
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s: no bucket name (expected s3://bucket/prefix)", location)
	}
	return bucket, key, nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, location string, keep func(string) bool) ([]Object, error) {
	bucket, key, err := parseS3(location)
	if err != nil {
		return nil, err
	}
	base := "s3://" + bucket + "/"
	if isGlob(key) {
		if _, err := path.Match(key, ""); err != nil {
			return nil, fmt.Errorf("%s: bad glob pattern: %w", location, err)
		}
		prefix := key[:strings.IndexAny(key, "*?[")]
		var out []Object
		seen := 0
		err := s.list(ctx, location, bucket, prefix, func(k string, size int64) {
			seen++
			if ok, _ := path.Match(key, k); ok {
				out = append(out, Object{Path: base + k, Size: size})
				return
			}
			// Under a folder the pattern matches?
			for i := len(prefix); i < len(k); i++ {
				if k[i] != '/' {
					continue
				}
				if ok, _ := path.Match(key, k[:i]); ok {
					if !hiddenUnder(k[i+1:]) && (keep == nil || keep(base+k)) {
						out = append(out, Object{Path: base + k, Size: size})
					}
					return
				}
			}
		})
		if err != nil {
			return nil, err
		}
		if len(out) == 0 && seen == 0 {
			return nil, notFound("%s: no object matches the pattern", location)
		}
		return sortDedup(out), nil
	}
	if key != "" && !strings.HasSuffix(key, "/") {
		var info minio.ObjectInfo
		err := s.withRetry(ctx, location, "stat", 0, func(ctx context.Context) error {
			var err error
			info, err = s.core.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
			return err
		})
		if err == nil {
			return []Object{{Path: base + key, Size: info.Size}}, nil
		}
		if !errors.Is(err, ErrNotFound) || isBucketMissing(err) {
			return nil, err
		}
		key += "/" // not an object: a folder
	}
	var out []Object
	seen := 0
	err = s.list(ctx, location, bucket, key, func(k string, size int64) {
		seen++
		if hiddenUnder(k[len(key):]) || (keep != nil && !keep(base+k)) {
			return
		}
		out = append(out, Object{Path: base + k, Size: size})
	})
	if err != nil {
		return nil, err
	}
	if seen == 0 {
		return nil, notFound("%s: no such object or prefix", location)
	}
	return sortDedup(out), nil
}

// hiddenUnder reports whether a key relative to a folder is metadata (a
// hidden file or inside a hidden folder) or a folder marker.
func hiddenUnder(rel string) bool {
	if rel == "" || strings.HasSuffix(rel, "/") {
		return true
	}
	for _, part := range strings.Split(rel, "/") {
		if isHidden(part) {
			return true
		}
	}
	return false
}

// list calls visit for each key under prefix, retrying the whole listing
// when a page fails with a transient error.
func (s *S3) list(ctx context.Context, location, bucket, prefix string, visit func(key string, size int64)) error {
	type obj struct {
		key  string
		size int64
	}
	var got []obj
	err := s.withRetry(ctx, location, "list", 0, func(ctx context.Context) error {
		got = got[:0]
		for o := range s.core.Client.ListObjectsIter(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				return o.Err
			}
			got = append(got, obj{o.Key, o.Size})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range got {
		visit(o.key, o.size)
	}
	return nil
}

// Open implements Store. No request is made until the first read: the
// listing already gave the size.
func (s *S3) Open(ctx context.Context, obj Object) (Reader, error) {
	bucket, key, err := parseS3(obj.Path)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return nil, fmt.Errorf("%s: not an object", obj.Path)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return &s3Reader{s: s, ctx: ctx, bucket: bucket, key: key, path: obj.Path, size: obj.Size}, nil
}

// s3Reader reads ranges of one object, one GET per ReadAt.
type s3Reader struct {
	s           *S3
	ctx         context.Context
	bucket, key string
	path        string
	size        int64
}

func (r *s3Reader) Size() int64  { return r.size }
func (r *s3Reader) Close() error { return nil }

// ReadAt reads len(p) bytes at off with one ranged GET (retried). Like
// any io.ReaderAt it returns io.EOF with fewer bytes at the end of the
// object.
func (r *s3Reader) ReadAt(p []byte, off int64) (int, error) {
	return readAt(r.path, r.size, p, off, func(want []byte, off int64) (int, error) {
		var n int
		err := r.s.withRetry(r.ctx, r.path, fmt.Sprintf("read of bytes %d-%d", off, off+int64(len(want))-1), int64(len(want)), func(ctx context.Context) error {
			opts := minio.GetObjectOptions{}
			if err := opts.SetRange(off, off+int64(len(want))-1); err != nil {
				return err
			}
			body, _, _, err := r.s.core.GetObject(ctx, r.bucket, r.key, opts)
			if err != nil {
				return err
			}
			defer body.Close()
			n, err = io.ReadFull(body, want)
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		})
		return n, err
	})
}

// withRetry runs one S3 request under the store's retry policy.
func (s *S3) withRetry(ctx context.Context, location, op string, bytes int64, fn func(context.Context) error) error {
	return withRetry(ctx, s.cfg.Attempts, s.cfg.Backoff, s.cfg.Timeout, location, op, bytes, fn, retryable, s.fail)
}

// retryable reports whether err is worth another attempt: a throttle, a
// server error, a dropped connection or a cut-short body.
func retryable(err error) bool {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode != 0 {
		switch resp.Code {
		case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed":
			return true
		}
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	var uerr *url.Error
	return errors.As(err, &uerr)
}

// isBucketMissing reports whether err says the bucket does not exist.
func isBucketMissing(err error) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.Code == "NoSuchBucket"
}

// s3Error keeps the server's error for errors.As/Is while its text is
// the redacted description.
type s3Error struct {
	msg   string
	cause error
}

func (e *s3Error) Error() string { return e.msg }
func (e *s3Error) Unwrap() []error {
	var resp minio.ErrorResponse
	if errors.As(e.cause, &resp) {
		switch resp.Code {
		case "NoSuchBucket", "NoSuchKey", "NotFound":
			return []error{e.cause, ErrNotFound}
		}
		if resp.StatusCode == http.StatusNotFound {
			return []error{e.cause, ErrNotFound}
		}
	}
	return []error{e.cause}
}

// fail describes err for the user: what failed where, in words, without
// the request's signature or any secret.
func (s *S3) fail(location, op string, err error) error {
	var what string
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode != 0 {
		switch resp.Code {
		case "NoSuchBucket":
			what = fmt.Sprintf("bucket %q does not exist", resp.BucketName)
			if resp.BucketName == "" {
				what = "the bucket does not exist"
			}
		case "NoSuchKey", "NotFound":
			what = "no such object"
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
			what = fmt.Sprintf("access denied (%s: %s); check the credentials (aws_access_key_id and aws_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", resp.Code, resp.Message)
		case "InvalidRange":
			what = "the object is shorter than listed (was it replaced while reading?)"
		default:
			code := resp.Code
			if code == "" {
				code = http.StatusText(resp.StatusCode)
			}
			what = fmt.Sprintf("%s (HTTP %d): %s", code, resp.StatusCode, resp.Message)
		}
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		what = "the server sent fewer bytes than asked for (connection cut, or the object is shorter than listed)"
	} else {
		what = err.Error()
	}
	for _, sec := range s.secrets {
		what = strings.ReplaceAll(what, sec, "***")
	}
	return &s3Error{msg: fmt.Sprintf("%s: %s: %s", location, op, what), cause: err}
}

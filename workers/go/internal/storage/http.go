package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// HTTP reads single files served over http(s):// with ranged GETs (the
// server must honour Range, as static file servers and object store
// gateways do). A URL names one object: HTTP has no listing, so folders
// and globs are not supported.
type HTTP struct {
	client *http.Client
	// Attempts, Backoff and Timeout are the retry policy (see S3Config).
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
}

// NewHTTP returns the HTTP store with the default retry policy.
func NewHTTP() *HTTP {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: defaultTimeout,
		MaxIdleConnsPerHost:   16,
	}
	return &HTTP{client: &http.Client{Transport: tr}, Attempts: defaultAttempts, Backoff: defaultBackoff, Timeout: defaultTimeout}
}

// httpStatus is an HTTP answer other than the one asked for.
type httpStatus struct{ code int }

func (e httpStatus) Error() string { return fmt.Sprintf("HTTP %d %s", e.code, http.StatusText(e.code)) }

func (h *HTTP) retry(ctx context.Context, location, op string, bytes int64, fn func(context.Context) error) error {
	return withRetry(ctx, h.Attempts, h.Backoff, h.Timeout, location, op, bytes, fn, httpRetryable, httpFail)
}

func httpRetryable(err error) bool {
	var st httpStatus
	if errors.As(err, &st) {
		return st.code >= 500 || st.code == http.StatusTooManyRequests || st.code == http.StatusRequestTimeout
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var nerr net.Error
	var uerr *url.Error
	return errors.As(err, &nerr) || errors.As(err, &uerr)
}

func httpFail(location, op string, err error) error {
	var st httpStatus
	switch {
	case errors.As(err, &st) && st.code == http.StatusNotFound:
		return fmt.Errorf("%s: %s: no such file (HTTP 404)", location, op)
	case errors.As(err, &st) && (st.code == http.StatusUnauthorized || st.code == http.StatusForbidden):
		return fmt.Errorf("%s: %s: access denied (%s)", location, op, st)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %s: the server sent fewer bytes than asked for", location, op)
	}
	return fmt.Errorf("%s: %s: %v", location, op, err)
}

// List returns the one object a URL names, with its size (HEAD).
func (h *HTTP) List(ctx context.Context, location string, _ func(string) bool) ([]Object, error) {
	if isGlob(location) {
		return nil, fmt.Errorf("%s: globs are not supported over http(s) (name one file)", location)
	}
	var size int64 = -1
	err := h.retry(ctx, location, "stat", 0, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, location, nil)
		if err != nil {
			return err
		}
		resp, err := h.client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return httpStatus{resp.StatusCode}
		}
		if resp.ContentLength < 0 {
			return fmt.Errorf("the server gives no Content-Length")
		}
		size = resp.ContentLength
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []Object{{Path: location, Size: size}}, nil
}

// Open opens one file for ranged reads.
func (h *HTTP) Open(ctx context.Context, obj Object) (Reader, error) {
	return &httpReader{h: h, ctx: ctx, obj: obj}, nil
}

type httpReader struct {
	h   *HTTP
	ctx context.Context
	obj Object
}

func (r *httpReader) Size() int64  { return r.obj.Size }
func (r *httpReader) Close() error { return nil }

// ReadAt reads len(p) bytes at off with one ranged GET (retried).
func (r *httpReader) ReadAt(p []byte, off int64) (int, error) {
	return readAt(r.obj.Path, r.obj.Size, p, off, func(want []byte, off int64) (int, error) {
		end := off + int64(len(want)) - 1
		var n int
		err := r.h.retry(r.ctx, r.obj.Path, fmt.Sprintf("read of bytes %d-%d", off, end), int64(len(want)), func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.obj.Path, nil)
			if err != nil {
				return err
			}
			req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(end, 10))
			resp, err := r.h.client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusPartialContent:
			case resp.StatusCode == http.StatusOK && off == 0 && resp.ContentLength == int64(len(want)):
				// The whole file was asked for.
			case resp.StatusCode == http.StatusOK:
				return fmt.Errorf("the server ignores Range requests (answered 200 with the whole file)")
			default:
				return httpStatus{resp.StatusCode}
			}
			n, err = io.ReadFull(resp.Body, want)
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		})
		return n, err
	})
}

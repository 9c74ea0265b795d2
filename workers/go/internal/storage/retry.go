package storage

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// withRetry runs one request under a per-attempt deadline (timeout, plus
// a second per MiB of bytes), retrying failures that retryable accepts
// with jittered exponential backoff from backoff, at most attempts times.
// Errors name location and op (fail words them, without secrets).
func withRetry(ctx context.Context, attempts int, backoff, timeout time.Duration, location, op string, bytes int64,
	fn func(context.Context) error, retryable func(error) bool, fail func(location, op string, err error) error) error {
	timeout += time.Duration(bytes>>20) * time.Second
	wait := backoff
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err = fn(actx)
		timedOut := actx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s: %w", location, op, ctx.Err())
		}
		if timedOut {
			err = fmt.Errorf("no answer within %s", timeout)
		}
		if attempt >= attempts || !(timedOut || retryable(err)) {
			if attempt > 1 {
				return fail(location, fmt.Sprintf("%s (after %d attempts)", op, attempt), err)
			}
			return fail(location, op, err)
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return fmt.Errorf("%s: %s: %w", location, op, ctx.Err())
		}
		wait = min(2*wait, maxBackoff)
	}
}

// readAt is io.ReaderAt over an object of size bytes at path: it clamps
// the range to the object, lets fetch fill it (one ranged request), and
// answers io.EOF when the range ran past the end.
func readAt(path string, size int64, p []byte, off int64, fetch func(want []byte, off int64) (int, error)) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", path, off)
	}
	if off >= size {
		return 0, io.EOF
	}
	want := p
	if rem := size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	if len(want) == 0 {
		return 0, nil
	}
	n, err := fetch(want, off)
	if err != nil {
		return n, err
	}
	if len(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

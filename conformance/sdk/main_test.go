package sdk_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: the
// results, the client and the cluster must all shut down.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

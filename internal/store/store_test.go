package store_test

import (
	"strings"
	"testing"

	"github.com/thawtrace/thaw/internal/store"
)

// The sentinel errors carry the package prefix so that a wrapped error still
// says where it came from (STYLE habit 7).
func TestSentinelErrorsNameThePackage(t *testing.T) {
	for _, err := range []error{store.ErrNotFound, store.ErrClosed} {
		if !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("%q does not start with %q", err, "store: ")
		}
	}
}

package graph

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/loadgen"
)

// encodedSample is a graph of the real samples and n generated traces
// (1500 coarsen a histogram), encoded.
func encodedSample(t testing.TB, n int) (*Graph, []byte) {
	t.Helper()
	var g Graph
	for _, name := range goldenSamples {
		g.AddTrace(loadSample(t, name))
	}
	gen := loadgen.New(3)
	start := time.Unix(1716560306, 0)
	for i := range n {
		g.AddTrace(generated(t, gen, start.Add(time.Duration(i)*time.Second)))
	}
	b, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return &g, b
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	g, b := encodedSample(t, 1500)
	var got Graph
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if diff := cmp.Diff(g.Services(), got.Services()); diff != "" {
		t.Errorf("services after a round trip differ (-before +after):\n%s", diff)
	}
	again, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Errorf("re-encoding gave %d bytes differing from the %d encoded first", len(again), len(b))
	}
	// Merging decoded graphs equals merging the originals.
	var twice, decodedTwice Graph
	twice.Merge(g)
	twice.Merge(g)
	decodedTwice.Merge(&got)
	decodedTwice.Merge(&got)
	if diff := cmp.Diff(twice.Services(), decodedTwice.Services()); diff != "" {
		t.Errorf("merged decoded graphs differ (-originals +decoded):\n%s", diff)
	}
}

func TestDecodeRejectsCorrupt(t *testing.T) {
	t.Parallel()
	_, b := encodedSample(t, 1500)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, b[1:]...)},
		{"truncated", b[:len(b)/2]},
		{"trailing bytes", append(bytes.Clone(b), 0)},
		{"huge count", []byte{encodingVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g Graph
			if err := g.UnmarshalBinary(tc.data); err == nil {
				t.Errorf("UnmarshalBinary accepted %d corrupt bytes", len(tc.data))
			}
			if g.Len() != 0 {
				t.Errorf("a failed decode left %d nodes", g.Len())
			}
		})
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	_, b := encodedSample(f, 20)
	f.Add(b)
	f.Add([]byte{encodingVersion, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var g Graph
		if err := g.UnmarshalBinary(data); err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same services.
		again, err := g.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var h Graph
		if err := h.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded graph does not decode: %v", err)
		}
		if diff := cmp.Diff(g.Services(), h.Services()); diff != "" {
			t.Fatalf("services differ after re-encoding:\n%s", diff)
		}
	})
}

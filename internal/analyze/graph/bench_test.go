package graph

import (
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/segment"
)

func BenchmarkAddTrace(b *testing.B) {
	gen := loadgen.New(1)
	start := time.Unix(1716560306, 0)
	traces := make([]*segment.Trace, 256)
	for i := range traces {
		traces[i] = generated(b, gen, start.Add(time.Duration(i)*time.Millisecond))
	}
	var g Graph
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		g.AddTrace(traces[i%len(traces)])
		i++
	}
}

func BenchmarkServices(b *testing.B) {
	gen := loadgen.New(1)
	start := time.Unix(1716560306, 0)
	var g Graph
	for i := range 1000 {
		g.AddTrace(generated(b, gen, start.Add(time.Duration(i)*time.Millisecond)))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Services()
	}
}

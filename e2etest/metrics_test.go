package e2etest

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sample is one line of the Prometheus text format.
type sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// scrapeMetrics fetches GET /metrics and parses the samples.
func scrapeMetrics(t *testing.T, base string) []sample {
	t.Helper()
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d: %s", resp.StatusCode, truncate(string(b), 300))
	}
	samples, err := parseMetrics(string(b))
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return samples
}

// parseMetrics parses the Prometheus text exposition format, skipping comments.
func parseMetrics(text string) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sample{Labels: map[string]string{}}
		var rest string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, &metricsError{line}
			}
			s.Name = line[:i]
			if err := parseLabels(line[i+1:j], s.Labels); err != nil {
				return nil, &metricsError{line}
			}
			rest = strings.TrimSpace(line[j+1:])
		} else {
			name, r, ok := strings.Cut(line, " ")
			if !ok {
				return nil, &metricsError{line}
			}
			s.Name, rest = name, strings.TrimSpace(r)
		}
		// The value may be followed by a timestamp.
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			return nil, &metricsError{line}
		}
		s.Value = v
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseLabels(s string, into map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(strings.TrimSpace(s), ",") {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return &metricsError{s}
		}
		// Find the closing quote, honouring backslash escapes.
		var val strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			val.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return &metricsError{s}
		}
		into[strings.TrimSpace(name)] = val.String()
		s = rest[i+1:]
	}
	return nil
}

type metricsError struct{ line string }

func (e *metricsError) Error() string { return "cannot parse metrics line: " + e.line }

// metricSum adds up the samples of name whose labels include every pair in match.
func metricSum(samples []sample, name string, match map[string]string) float64 {
	var sum float64
next:
	for _, s := range samples {
		if s.Name != name {
			continue
		}
		for k, v := range match {
			if s.Labels[k] != v {
				continue next
			}
		}
		sum += s.Value
	}
	return sum
}

// series formats a metric name and labels the way /metrics prints them.
func series(name string, labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

package summary

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestIndexedSet(t *testing.T) {
	var s indexedSet[string]
	// Past linearMax the set switches to a map; indexes must not change.
	const n = 3 * linearMax
	for i := range n {
		if got := s.add(fmt.Sprint(i)); got != i {
			t.Fatalf("add(%d) = %d, want %d", i, got, i)
		}
		for j := 0; j <= i; j++ {
			if got := s.add(fmt.Sprint(j)); got != j {
				t.Fatalf("after %d keys, add(%d) again = %d, want %d", i+1, j, got, j)
			}
		}
	}
	if _, ok := s.find("x"); ok {
		t.Error("find(x) found a key never added")
	}
	if len(s.keys) != n {
		t.Errorf("%d keys, want %d", len(s.keys), n)
	}
}

// TestServiceIDListsDoNotAlias checks that the ServiceID lists of a summary,
// which share backing arrays, behave as separate slices: appending to one
// or changing one's Names leaves the rest as they were.
func TestServiceIDListsDoNotAlias(t *testing.T) {
	for _, name := range goldenSamples {
		t.Run(name, func(t *testing.T) {
			s := Compute(loadSample(t, name), 1)
			lists := [][]ServiceID{s.ServiceIDs}
			if s.EntryPoint != nil {
				lists = append(lists, []ServiceID{*s.EntryPoint})
			}
			for _, u := range s.Users {
				lists = append(lists, u.ServiceIDs)
			}
			for _, vs := range s.Annotations {
				for _, v := range vs {
					lists = append(lists, v.ServiceIDs)
				}
			}
			before := marshal(t, s)
			for _, l := range lists {
				_ = append(l, ServiceID{Name: "appended"})
				for _, id := range l {
					_ = append(id.Names, "appended")
				}
			}
			if after := marshal(t, s); after != before {
				t.Fatalf("appending to lists changed the summary:\n%s", after)
			}
			for _, l := range lists {
				for i := range l {
					old := l[i].Names[0]
					l[i].Names[0] = "changed-name"
					if n := strings.Count(marshal(t, s), "changed-name"); n != 1 {
						t.Fatalf("changing one Names element shows up %d times", n)
					}
					l[i].Names[0] = old
				}
			}
		})
	}
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package console

import (
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServe(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, target string
		status         int
		contentType    string
		bodyHas        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `src="/static/app.js"`},
		{"GET", "/traces?filter=fault", 200, "text/html; charset=utf-8", `src="/static/app.js"`},
		{"GET", "/trace/1-5759e988-bd862e3fe1be46a994272793", 200, "text/html; charset=utf-8", `src="/static/app.js"`},
		{"HEAD", "/map", 200, "text/html; charset=utf-8", ""},
		{"GET", "/static/app.js", 200, "text/javascript; charset=utf-8", "export function render"},
		{"GET", "/static/style.css", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/static/vendor/dagre-3.1.3.esm.js", 200, "text/javascript; charset=utf-8", "export{"},
		{"GET", "/static/missing.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
	} {
		w := serve(t, h, tc.method, tc.target, nil)
		if w.Code != tc.status {
			t.Errorf("%s %s = %d; want %d", tc.method, tc.target, w.Code, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if got := w.Header().Get("Content-Type"); got != tc.contentType {
			t.Errorf("%s %s: Content-Type %q; want %q", tc.method, tc.target, got, tc.contentType)
		}
		if !strings.Contains(w.Body.String(), tc.bodyHas) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.target, tc.bodyHas)
		}
		for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "ETag", "Cache-Control"} {
			if w.Header().Get(k) == "" {
				t.Errorf("%s %s: no %s header", tc.method, tc.target, k)
			}
		}
	}
	// A client with the current version gets 304.
	etag := serve(t, h, "GET", "/static/app.js", nil).Header().Get("ETag")
	if w := serve(t, h, "GET", "/static/app.js", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("GET /static/app.js with its ETag = %d; want 304", w.Code)
	}
}

// TestImportsResolve checks every module import and static reference in
// the console's files names a file the handler serves, so a renamed file
// cannot leave a blank page.
func TestImportsResolve(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	imports := regexp.MustCompile(`(?m)^\s*import\s[^'"]*['"](\.[^'"]+)['"]`)
	refs := regexp.MustCompile(`(?:src|href)="/static/([^"]+)"`)
	for name, a := range h.assets {
		switch path.Ext(name) {
		case ".js":
			if strings.HasPrefix(name, "vendor/") {
				continue
			}
			for _, m := range imports.FindAllStringSubmatch(string(a.body), -1) {
				target := path.Join(path.Dir(name), m[1])
				if _, ok := h.assets[target]; !ok {
					t.Errorf("%s imports %s, which is not in static/", name, m[1])
				}
			}
		case ".html":
			for _, m := range refs.FindAllStringSubmatch(string(a.body), -1) {
				if _, ok := h.assets[m[1]]; !ok {
					t.Errorf("%s refers to /static/%s, which is not in static/", name, m[1])
				}
			}
		}
	}
}

// TestNoHTMLSinks keeps untrusted strings out of markup: the console builds
// every element through dom.js, never by parsing HTML.
func TestNoHTMLSinks(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(`)
	for name, a := range h.assets {
		if path.Ext(name) != ".js" || strings.HasPrefix(name, "vendor/") {
			continue
		}
		if m := sinks.FindString(string(a.body)); m != "" {
			t.Errorf("%s uses %s; build elements with dom.js's h() and text nodes instead", name, m)
		}
	}
}

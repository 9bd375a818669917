// Package console serves thaw's web console: plain ES modules and a few
// vendored, pinned libraries embedded in the binary (static/), so that
// `go build` is all it takes. The console calls only the documented X-Ray
// HTTP API; this package knows nothing of the store or the query service.
//
// It imports only the standard library.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// Handler serves the console. Paths under /static/ are assets; every other
// GET or HEAD path is a client-side route and answers index.html.
type Handler struct {
	assets map[string]asset // by path under static/
}

// contentTypes are the types of the files the console ships; anything else
// is refused when the handler is built, so nothing is served as a guess.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".md":   "text/markdown; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
}

// New returns the console handler over the embedded files.
func New() (*Handler, error) {
	h := &Handler{assets: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			if strings.HasSuffix(name, "LICENSE") {
				ct = "text/plain; charset=utf-8"
			} else {
				return fmt.Errorf("console asset %s: no content type for %q", name, path.Ext(name))
			}
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read console asset %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		h.assets[name] = asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, contentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := h.assets["index.html"]; !ok {
		return nil, fmt.Errorf("console: static/index.html is missing")
	}
	return h, nil
}

// csp keeps whatever a segment smuggles into the page from running: only
// the console's own scripts execute, and nothing is framed or posted away.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the console answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	name := "index.html"
	if rest, ok := strings.CutPrefix(r.URL.Path, "/static/"); ok {
		name = rest
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("ETag", a.etag)
	// Revalidate every time: the files are small, the ETag makes the
	// answer a 304, and a new binary is never served stale.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}

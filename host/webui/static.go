package webui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strconv"
)

// The UI is plain HTML, CSS and JavaScript, embedded: no build step, no
// CDN; the browser loads nothing from anywhere else.
//
//go:embed static
var staticFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

var assets = loadAssets()

func loadAssets() map[string]asset {
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".svg":  "image/svg+xml",
	}
	out := map[string]asset{}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic("webui: embedded UI missing: " + err.Error()) // a build defect
	}
	for _, e := range entries {
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic("webui: reading embedded " + e.Name() + ": " + err.Error())
		}
		ct, ok := types[path.Ext(e.Name())]
		if !ok {
			panic("webui: embedded file of unknown type: " + e.Name())
		}
		sum := sha256.Sum256(body)
		out["/"+e.Name()] = asset{body: body, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	out["/"] = out["/index.html"]
	return out
}

// contentSecurityPolicy lets the UI load only its own files and talk only
// to this server; nothing inline runs.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.URL.Path]
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", a.ctype)
	hd.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(a.body)
	}
}

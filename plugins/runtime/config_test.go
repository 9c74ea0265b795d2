package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlag(t *testing.T) {
	c, err := ParseFlag("pg=builtin:postgres,timeout=5s")
	if err != nil || c.Name != "pg" || c.Path != "builtin:postgres" || c.Timeout != 5*time.Second {
		t.Fatalf("%+v %v", c, err)
	}
	sum := strings.Repeat("ab", 32)
	if c, err := ParseFlag("geo=/opt/geo,sha256=" + sum); err != nil || c.SHA256 != sum {
		t.Fatalf("%+v %v", c, err)
	}
	for in, want := range map[string]string{
		"geo":                               "want name=path",
		"=x":                                "want name=path",
		"geo=/x,sha256=12":                  "64 hex digits",
		"geo=/x,timeout=soon":               "bad timeout",
		"geo=/x,color=red":                  "unknown setting",
		"g o=/x":                            "use letters",
		"pg=builtin:postgres,sha256=" + sum: "cannot be pinned",
	} {
		if _, err := ParseFlag(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "plugins.yaml")
	os.WriteFile(p, []byte("plugins:\n  - name: geo\n    path: bin/geo\n    timeout: 30s\n    env: {A: b}\n    args: [--x]\n  - name: pg\n    path: builtin:postgres\n"), 0o644)
	cs, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Path != filepath.Join(dir, "bin/geo") || cs[0].Timeout != 30*time.Second || cs[0].Env["A"] != "b" || cs[0].Args[0] != "--x" || cs[1].Path != "builtin:postgres" {
		t.Errorf("%+v", cs)
	}
	os.WriteFile(p, []byte(`{"plugins": [{"name": "geo", "path": "/bin/geo", "colour": "red"}]}`), 0o644)
	if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown key: %v", err)
	}
	os.WriteFile(p, []byte("plugins:\n  - path: /bin/geo\n"), 0o644)
	if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), "without a name") {
		t.Errorf("no name: %v", err)
	}
	if _, err := New([]Config{{Name: "a", Path: "/x"}, {Name: "A", Path: "/y"}}, Options{}); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("duplicate: %v", err)
	}
	m, _ := New([]Config{{Name: "gone", Path: filepath.Join(dir, "nope")}}, Options{})
	if err := m.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "plugin gone") {
		t.Errorf("missing file: %v", err)
	}
}

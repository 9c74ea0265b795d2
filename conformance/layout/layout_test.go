// Package layout checks the package boundaries of ARCHITECTURE.md's
// "where things live" table with `go list`.
package layout

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/arbalest/arbalest/"

// forbidden maps a folder to the folders its packages must not import.
var forbidden = map[string][]string{
	"substrait/": {"host/", "workers/", "plugins/", "sdk/", "cmd/", "conformance/"},
	"host/":      {"workers/", "cmd/", "conformance/", "sdk/"},
	"workers/":   {"host/", "cmd/", "conformance/", "sdk/"},
	"plugins/":   {"host/", "workers/", "cmd/", "conformance/", "sdk/"},
	"sdk/":       {"host/", "workers/", "cmd/", "conformance/"},
}

func TestPackageBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue
		}
		pkg := strings.TrimPrefix(fields[0], module)
		for folder, bans := range forbidden {
			if !strings.HasPrefix(pkg, folder) {
				continue
			}
			checked++
			for _, imp := range fields[1:] {
				if !strings.HasPrefix(imp, module) {
					continue
				}
				dep := strings.TrimPrefix(imp, module)
				for _, ban := range bans {
					if strings.HasPrefix(dep, ban) {
						t.Errorf("%s imports %s: %s must not depend on %s", pkg, dep, folder, ban)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no packages checked: is the module path right?")
	}
}

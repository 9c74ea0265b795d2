package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Config says how to start one plugin.
type Config struct {
	// Name is what SQL calls the plugin (STORED AS <name>) and what
	// messages name it.
	Name string `yaml:"name"`
	// Path is the plugin: an executable, a Python file (*.py, run with the
	// Python interpreter and the Arbalest Python SDK), or builtin:<name>
	// for a plugin bundled in the arbalest binary.
	Path string `yaml:"path"`
	// Args are extra command-line arguments.
	Args []string `yaml:"args"`
	// Env are extra environment variables.
	Env map[string]string `yaml:"env"`
	// SHA256, when set, pins the plugin file: it is checked before every
	// start and a mismatch refuses to start it.
	SHA256 string `yaml:"sha256"`
	// Timeout bounds every call without progress (a hung plugin); 0 means
	// the manager's default.
	Timeout time.Duration `yaml:"timeout"`
}

// ParseFlag reads a --plugin value: name=path[,sha256=HEX][,timeout=DURATION].
func ParseFlag(s string) (Config, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || rest == "" {
		return Config{}, fmt.Errorf("plugin %q: want name=path[,sha256=HEX][,timeout=DURATION]", s)
	}
	parts := strings.Split(rest, ",")
	c := Config{Name: name, Path: parts[0]}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "sha256":
			c.SHA256 = v
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Config{}, fmt.Errorf("plugin %s: bad timeout %q", name, v)
			}
			c.Timeout = d
		default:
			return Config{}, fmt.Errorf("plugin %s: unknown setting %q (want sha256 or timeout)", name, k)
		}
	}
	return c, c.check()
}

// File is the plugin section of a configuration file (YAML or JSON):
//
//	plugins:
//	  - name: pg
//	    path: builtin:postgres
//	  - name: geo
//	    path: /opt/plugins/geo
//	    sha256: 9f86d0...
//	    timeout: 30s
type File struct {
	Plugins []Config `yaml:"plugins"`
}

// LoadFile reads the plugins of a configuration file. Relative plugin
// paths are relative to the file's folder.
func LoadFile(path string) ([]Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plugin configuration: %w", err)
	}
	var f File
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict()).Decode(&f); err != nil {
		return nil, fmt.Errorf("plugin configuration %s: %w", path, err)
	}
	for i := range f.Plugins {
		c := &f.Plugins[i]
		if c.Path != "" && !strings.HasPrefix(c.Path, builtinPrefix) && !filepath.IsAbs(c.Path) {
			c.Path = filepath.Join(filepath.Dir(path), c.Path)
		}
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("plugin configuration %s: plugin %d: %w", path, i+1, err)
		}
	}
	return f.Plugins, nil
}

const builtinPrefix = "builtin:"

func (c *Config) check() error {
	if c.Name == "" {
		return fmt.Errorf("plugin without a name")
	}
	for _, r := range c.Name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("plugin name %q: use letters, digits, '-' and '_'", c.Name)
		}
	}
	if c.Path == "" {
		return fmt.Errorf("plugin %s has no path", c.Name)
	}
	if c.SHA256 != "" && (len(c.SHA256) != 64 || strings.Trim(strings.ToLower(c.SHA256), "0123456789abcdef") != "") {
		return fmt.Errorf("plugin %s: sha256 must be 64 hex digits", c.Name)
	}
	if c.SHA256 != "" && strings.HasPrefix(c.Path, builtinPrefix) {
		return fmt.Errorf("plugin %s: a builtin plugin cannot be pinned by checksum (pin the arbalest binary instead)", c.Name)
	}
	return nil
}

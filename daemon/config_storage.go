package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/vault/target"
)

// StorageConfig is the [storage] table.
type StorageConfig struct {
	MinFree string `toml:"min_free"`
	// KeepLocal is how long a recording's local file stays once every
	// target has a verified copy: "30d", "12h", "0" (at once); "" keeps
	// it for ever.
	KeepLocal string `toml:"keep_local"`
	// Node (0-9) tells this recorder from the others that share a
	// target: it is the first digit of its record ids' sequence and
	// names its objects (<prefix>node-<N>/records/...).
	Node   int            `toml:"node"`
	Target []TargetConfig `toml:"target"`
}

// TargetConfig is one [[storage.target]] table.
type TargetConfig struct {
	Name        string `toml:"name"`
	Kind        string `toml:"kind"`
	Endpoint    string `toml:"endpoint"`
	Region      string `toml:"region"`
	Bucket      string `toml:"bucket"`
	Path        string `toml:"path"`
	Prefix      string `toml:"prefix"`
	PathStyle   bool   `toml:"path_style"`
	Credentials string `toml:"credentials"`
}

// nodeName is the node's part of its object keys.
func nodeName(n int) string { return "node-" + strconv.Itoa(n) }

// validateStorage checks [storage] keep_local, node and the targets.
func (c Config) validateStorage(p *parsed, bad func(string, ...any)) {
	s := c.Storage
	p.keepLocal = -1
	if s.KeepLocal != "" {
		d, err := parseAge(s.KeepLocal)
		if err != nil {
			bad("storage.keep_local: %w", err)
		}
		p.keepLocal = d
	}
	if s.Node < 0 || s.Node > 9 {
		bad("storage.node: %d is outside 0-9", s.Node)
	}
	p.node = s.Node
	seen := map[string]bool{}
	for i, t := range s.Target {
		where := fmt.Sprintf("storage.target[%d]", i)
		if t.Name != "" {
			where = fmt.Sprintf("storage.target %q", t.Name)
		}
		switch {
		case t.Name == "":
			bad("%s: no name", where)
		case seen[t.Name]:
			bad("%s: a second target of that name", where)
		}
		seen[t.Name] = true
		need := func(key, v string) {
			if v == "" {
				bad("%s: kind %s needs %s", where, t.Kind, key)
			}
		}
		switch t.Kind {
		case target.KindDir:
			need("path", t.Path)
		case target.KindS3:
			need("endpoint", t.Endpoint)
			need("bucket", t.Bucket)
			need("credentials", t.Credentials)
		case target.KindAzure:
			need("endpoint", t.Endpoint)
			need("bucket", t.Bucket)
			need("credentials", t.Credentials)
		default:
			bad("%s: kind %q: want \"dir\", \"s3\" or \"azure\"", where, t.Kind)
		}
		if t.Prefix != "" && !strings.HasSuffix(t.Prefix, "/") || strings.HasPrefix(t.Prefix, "/") {
			bad("%s: prefix %q: want a path that ends in \"/\" and does not start with one, such as \"site-a/\"", where, t.Prefix)
		}
		p.targets = append(p.targets, target.Config{Name: t.Name, Kind: t.Kind, Path: t.Path, Endpoint: t.Endpoint,
			Region: t.Region, Bucket: t.Bucket, PathStyle: t.PathStyle, Prefix: t.Prefix, Credentials: t.Credentials})
	}
}

// parseAge reads a non-negative age: a Go duration ("12h", "90m"), whole
// days ("30d") or "0".
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("%q: want whole days such as \"30d\"", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want \"30d\", \"12h\" or \"0\"", s)
	}
	return d, nil
}

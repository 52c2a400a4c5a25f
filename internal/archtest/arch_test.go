package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/callvault/callvault"

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string // every package it depends on, transitively
	Imports    []string // the packages its own files import
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 7 {
		t.Fatalf("go list found %d packages, want all of callvault's", len(pkgs))
	}
	return pkgs
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// rule says what a package (by import path below the module) must not
// depend on, directly or not. A forbidden entry ending in "/" is a prefix.
type rule struct {
	pkg       string
	forbidden []string
	// notImported are packages its own files must not import (they may
	// come in through a library: media's SRTP needs AES through pion/srtp,
	// but media itself encrypts nothing).
	notImported []string
	// why is the reason for notImported, for the failure message.
	why string
	// allowed, when set, is the only non-standard dependencies permitted.
	allowed []string
}

var rules = []rule{
	{pkg: "siprec", forbidden: []string{module + "/media", module + "/vault", "github.com/dgraph-io/", "github.com/pion/rtp"}},
	{pkg: "media", forbidden: []string{module + "/vault", module + "/siprec", "github.com/dgraph-io/", "github.com/emiago/"},
		notImported: []string{"crypto/aes", "crypto/cipher"}, why: "recordings are encrypted by the vault alone"},
	{pkg: "vault", forbidden: []string{module + "/media", module + "/siprec", "github.com/emiago/", "github.com/pion/"}},
	// The recorder is the daemon's logic: it knows SIP sessions, RTP and
	// the index only through siprec, media and vault, and knows nothing of
	// the configuration file, systemd or the terminal.
	{pkg: "daemon/recorder", forbidden: []string{"github.com/rivo/", "github.com/gdamore/", "github.com/BurntSushi/toml", "github.com/coreos/go-systemd/"},
		notImported: []string{"github.com/emiago/sipgo", "github.com/emiago/sipgo/sip", "github.com/pion/rtp", "github.com/pion/srtp/v3", "github.com/dgraph-io/badger/v4"},
		why:         "SIP, RTP and the index are siprec's, media's and vault's"},
	// callvaultd's main only wires: no SIP message, RTP packet or index
	// entry is handled there.
	{pkg: "daemon", forbidden: []string{"github.com/rivo/", "github.com/gdamore/"},
		notImported: []string{"github.com/pion/rtp", "github.com/pion/srtp/v3", "github.com/dgraph-io/badger/v4"},
		why:         "callvaultd's main only wires the packages that handle them"},
	// golang.org/x/sys/unix: the Go project's own, for the socket's peer
	// credentials.
	{pkg: "daemon/control", allowed: []string{module + "/internal/vocab", "golang.org/x/sys/unix"}},
	// The console binary: the control client, its own packages and the
	// terminal UI (tview, tcell and what they need); never badger, sipgo,
	// media (cgo) or the vault.
	{pkg: "console", allowed: []string{module + "/daemon/control", module + "/internal/atomicfile", module + "/internal/manpage", module + "/internal/vocab",
		module + "/console/", "github.com/rivo/", "github.com/gdamore/", "github.com/lucasb-eyer/go-colorful",
		"golang.org/x/sys/", "golang.org/x/term", "golang.org/x/text/"}},
	{pkg: "console/format", allowed: []string{module + "/daemon/control", module + "/internal/vocab", "golang.org/x/sys/unix"}},
	{pkg: "internal/vocab", allowed: []string{}},
	{pkg: "internal/atomicfile", allowed: []string{}},
	{pkg: "internal/httpserve", allowed: []string{}},
	// The man-page writer both binaries print their pages with.
	{pkg: "internal/manpage", allowed: []string{}},
	// The console's model holds no view: views (tview) are built on it.
	{pkg: "console/model", allowed: []string{module + "/daemon/control", module + "/internal/vocab", "golang.org/x/sys/unix"}},
	{pkg: "console/calc", allowed: []string{}},
	// The phone service and the licence know nothing of SIP, media or the
	// vault: the daemon gives them a trigger and a data dir.
	{pkg: "daemon/phone", allowed: []string{module + "/internal/vocab", module + "/internal/httpserve"}},
	{pkg: "daemon/license", allowed: []string{module + "/internal/atomicfile"}},
	// Metrics read the control API's status and nothing else.
	{pkg: "daemon/metrics", forbidden: []string{module + "/daemon/recorder", module + "/siprec", module + "/media", module + "/vault"}},
}

func TestPackageBoundaries(t *testing.T) {
	pkgs := listPackages(t)
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	for _, r := range rules {
		p, ok := byPath[module+"/"+r.pkg]
		if !ok {
			t.Errorf("package %s not found", r.pkg)
			continue
		}
		for _, imp := range p.Imports {
			if slices.Contains(r.notImported, imp) {
				t.Errorf("%s imports %s: %s (ARCHITECTURE.md)", r.pkg, imp, r.why)
			}
		}
		for _, dep := range p.Deps {
			for _, f := range r.forbidden {
				if dep == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f)) || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s: it must not know it (ARCHITECTURE.md)", r.pkg, dep)
				}
			}
			if r.allowed != nil && !isStd(dep) && !allowedDep(r.allowed, dep) {
				t.Errorf("%s depends on %s: only the standard library and %v are allowed", r.pkg, dep, r.allowed)
			}
		}
	}
}

// allowedDep reports whether dep is in allowed, where an entry ending in
// "/" stands for every package below it.
func allowedDep(allowed []string, dep string) bool {
	for _, a := range allowed {
		if dep == a || strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a) {
			return true
		}
	}
	return false
}

// TestTestSupportStaysOutOfBinaries: internal/testaudio and
// internal/testservers are for tests only.
func TestTestSupportStaysOutOfBinaries(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, dep := range p.Deps {
			for _, support := range []string{"internal/testaudio", "internal/testservers"} {
				if dep == module+"/"+support {
					t.Errorf("%s depends on %s, which is test support", p.ImportPath, support)
				}
			}
		}
	}
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
	}
}

// TestConsoleHasNoCgo: the console binary builds without a C compiler:
// no package of ours or of a library it uses has cgo files (the standard
// library's optional cgo, net and os/user, aside).
func TestConsoleHasNoCgo(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .CgoFiles}}{{.ImportPath}}{{end}}", module+"/console").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if !isStd(p) {
			t.Errorf("the console depends on %s, which has cgo files", p)
		}
	}
}

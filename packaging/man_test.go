package packaging

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// plainMan is a manual page without roff escapes, for searching.
func plainMan(page string) string {
	return strings.NewReplacer(`\-`, "-", `\e`, `\`, `\&`, "", `\(dq`, `"`).Replace(page)
}

// flagNames are the flags a flag set's help lists ("  -name ...").
func flagNames(help string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-zA-Z0-9-]+)`).FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	return names
}

// checkManPage checks a page's roff with groff, which must say nothing.
func checkManPage(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("groff"); err != nil {
		t.Log("groff not found: the pages' roff is not checked")
		return
	}
	out, err := exec.Command("sh", "-c", `zcat "$1" | groff -man -ww -z`, "sh", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff on %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// TestDebManPageDaemon: callvaultd(8) names every flag `callvaultd -h`
// lists, and every subcommand in its synopsis with the flags that
// subcommand's -h lists.
func TestDebManPageDaemon(t *testing.T) {
	d := deb(t)
	manPath := filepath.Join(d.root, "usr/share/man/man8/callvaultd.8.gz")
	checkManPage(t, manPath)
	page := plainMan(gunzip(t, manPath))
	bin := filepath.Join(d.root, "usr/sbin/callvaultd")
	flags := flagNames(helpOutput(bin, "-h"))
	if len(flags) < 5 {
		t.Fatalf("callvaultd -h lists %d flags, want at least 5", len(flags))
	}
	for _, f := range flags {
		if !strings.Contains(page, "-"+f+" ") {
			t.Errorf("callvaultd(8) lacks -%s", f)
		}
	}
	subs := regexp.MustCompile(`(?m)^\.B "callvaultd ([a-z ]+)"$`).FindAllStringSubmatch(page, -1)
	if len(subs) < 4 {
		t.Fatalf("callvaultd(8) has %d subcommands in its synopsis, want verify, reindex, license keygen and issue at least", len(subs))
	}
	for _, s := range subs {
		if !strings.Contains(page, `.SS "callvaultd `+s[1]+`"`) {
			t.Errorf("callvaultd(8) does not describe %q", s[1])
		}
		for _, f := range flagNames(helpOutput(bin, append(strings.Fields(s[1]), "-h")...)) {
			if !regexp.MustCompile(`-` + regexp.QuoteMeta(f) + `[ "\]]`).MatchString(page) {
				t.Errorf("callvaultd(8) lacks %s -%s", s[1], f)
			}
		}
	}
}

// TestDebManPageConsole: callvault(1) describes every command `callvault
// help` lists, each with the flags its own -h lists.
func TestDebManPageConsole(t *testing.T) {
	d := deb(t)
	manPath := filepath.Join(d.root, "usr/share/man/man1/callvault.1.gz")
	checkManPage(t, manPath)
	page := plainMan(gunzip(t, manPath))
	bin := filepath.Join(d.root, "usr/bin/callvault")
	help := helpOutput(bin, "help")
	_, commands, ok := strings.Cut(help, "\nCommands:\n")
	if !ok {
		t.Fatalf("callvault help has no command list:\n%s", help)
	}
	commands, _, _ = strings.Cut(commands, "\n\n")
	paths := regexp.MustCompile(`(?m)^  ([a-z]+(?: [a-z]+)?)\b`).FindAllStringSubmatch(commands, -1)
	if len(paths) < 10 {
		t.Fatalf("callvault help lists %d commands, want at least 10", len(paths))
	}
	for _, p := range paths {
		path := p[1]
		if !strings.Contains(page, `.SS "callvault `+path+`"`) {
			// "record start|stop" is listed as "record start".
			first, _, _ := strings.Cut(path, " ")
			if !strings.Contains(page, `.SS "callvault `+first+`"`) {
				t.Errorf("callvault(1) does not describe %q", path)
				continue
			}
			path = first
		}
		for _, f := range flagNames(helpOutput(bin, append(strings.Fields(path), "-h")...)) {
			if !strings.Contains(page, "-"+f) {
				t.Errorf("callvault(1) lacks %s -%s", path, f)
			}
		}
	}
}

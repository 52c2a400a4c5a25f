package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// plainMan is a manual page's text without roff escapes and font changes,
// for searching.
func plainMan(page string) string {
	return strings.NewReplacer(`\-`, "-", `\e`, `\`, `\&`, "", `\(dq`, `"`,
		`\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "").Replace(page)
}

func daemonManPage(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	if err := writeDaemonMan(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestManDaemonListsEveryFlagAndCommand: the page names every flag the
// daemon's help lists, every offline subcommand and each one's flags.
func TestManDaemonListsEveryFlagAndCommand(t *testing.T) {
	page := daemonManPage(t)
	text := plainMan(page)
	if !strings.HasPrefix(page, `.TH "CALLVAULTD" "8"`) {
		t.Errorf("page starts %q, want a .TH for section 8", page[:min(len(page), 40)])
	}
	mains := parseDefaults(helpOf())
	if len(mains) < 5 {
		t.Fatalf("the daemon's help lists %d flags, want at least 5:\n%s", len(mains), helpOf())
	}
	for _, f := range mains {
		if !strings.Contains(text, "-"+f.name+" "+argOf(manSynopsis, f)) {
			t.Errorf("page lacks -%s with its argument", f.name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(offline)) {
		if !strings.Contains(text, "callvaultd "+name) {
			t.Errorf("page lacks the subcommand %q", name)
		}
	}
	for _, c := range offlineCommands() {
		for _, f := range parseDefaults(helpOf(strings.Fields(c.path)...)) {
			if !strings.Contains(text, "-"+f.name) || !strings.Contains(text, f.usage) {
				t.Errorf("page lacks %s -%s: %s", c.path, f.name, f.usage)
			}
		}
	}
}

// TestManDaemonSynopsisNamesEveryArgument: each flag that takes a value
// has its argument named in the synopsis, not a Go type.
func TestManDaemonSynopsisNamesEveryArgument(t *testing.T) {
	check := func(synopsis string, flags []manFlag) {
		for _, f := range flags {
			if f.arg != "" && argOf(synopsis, f) == strings.ToUpper(f.arg) {
				t.Errorf("synopsis %q names no argument for -%s", synopsis, f.name)
			}
		}
	}
	check(manSynopsis, parseDefaults(helpOf()))
	for _, c := range manCommands {
		check(c.synopsis, parseDefaults(helpOf(strings.Fields(c.path)...)))
	}
}

func TestManParseDefaults(t *testing.T) {
	help := "Usage of x:\n  -count int\n    \tnumber of users\n  -long-name string\n    \tfirst line\n    \tsecond line (default \"a\")\n  -v\tverbose\n  -json\n    \tprint JSON\n"
	got := parseDefaults(help)
	want := []manFlag{
		{"count", "int", "number of users"},
		{"long-name", "string", "first line second line (default \"a\")"},
		{"v", "", "verbose"},
		{"json", "", "print JSON"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseDefaults = %q, want %q", got, want)
	}
}

func TestManEscape(t *testing.T) {
	for in, want := range map[string]string{
		"-data DIR":     `\-data DIR`,
		".part files":   `\&.part files`,
		"'quoted'":      `\&'quoted'`,
		`C:\dir`:        `C:\edir`,
		"plain text ok": "plain text ok",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

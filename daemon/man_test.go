package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/manpage"
)

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
	text := manpage.Unescape(page)
	if !strings.HasPrefix(page, `.TH "CALLVAULTD" "8"`) {
		t.Errorf("page starts %q, want a .TH for section 8", page[:min(len(page), 40)])
	}
	mains := manpage.ParseDefaults(helpOf())
	if len(mains) < 5 {
		t.Fatalf("the daemon's help lists %d flags, want at least 5:\n%s", len(mains), helpOf())
	}
	for _, f := range mains {
		if !strings.Contains(text, "-"+f.Name+" "+manpage.ArgOf(manSynopsis, f)) {
			t.Errorf("page lacks -%s with its argument", f.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(offline)) {
		if !strings.Contains(text, "callvaultd "+name) {
			t.Errorf("page lacks the subcommand %q", name)
		}
	}
	for _, c := range offlineCommands() {
		for _, f := range manpage.ParseDefaults(helpOf(strings.Fields(c.path)...)) {
			if !strings.Contains(text, "-"+f.Name) || !strings.Contains(text, f.Usage) {
				t.Errorf("page lacks %s -%s: %s", c.path, f.Name, f.Usage)
			}
		}
	}
}

// TestManDaemonSynopsisNamesEveryFlag: each flag is in its synopsis,
// and one that takes a value has its argument named there, not a Go type.
func TestManDaemonSynopsisNamesEveryFlag(t *testing.T) {
	check := func(synopsis string, flags []manpage.Flag) {
		for _, f := range flags {
			if !slices.Contains(strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(synopsis)), "-"+f.Name) {
				t.Errorf("synopsis %q lacks -%s", synopsis, f.Name)
			}
			if f.Arg != "" && manpage.ArgOf(synopsis, f) == strings.ToUpper(f.Arg) {
				t.Errorf("synopsis %q names no argument for -%s", synopsis, f.Name)
			}
		}
	}
	check(manSynopsis, manpage.ParseDefaults(helpOf()))
	for _, c := range manCommands {
		check(c.synopsis, manpage.ParseDefaults(helpOf(strings.Fields(c.path)...)))
	}
}

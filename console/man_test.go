package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/manpage"
)

func consoleManPage(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	if err := writeConsoleMan(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestManConsoleListsEveryCommandAndFlag: the page has a subsection for
// every command of the table and names each flag its help lists.
func TestManConsoleListsEveryCommandAndFlag(t *testing.T) {
	page := consoleManPage(t)
	text := manpage.Unescape(page)
	if !strings.HasPrefix(page, `.TH "CALLVAULT" "1"`) {
		t.Errorf("page starts %q, want a .TH for section 1", page[:min(len(page), 40)])
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		if !strings.Contains(text, `.SS "callvault `+name) {
			t.Errorf("page has no subsection for %q", name)
		}
	}
	flags := 0
	for _, e := range consoleEntries() {
		if commands[e.path[0]] == nil {
			continue
		}
		_, own := commandHelp(e.path)
		for _, f := range own {
			flags++
			if !strings.Contains(text, manpage.DoubleDash.Spell(f.Name)) || !strings.Contains(text, f.Usage) {
				t.Errorf("page lacks %s %s: %s", strings.Join(e.path, " "), manpage.DoubleDash.Spell(f.Name), f.Usage)
			}
		}
	}
	if !strings.Contains(text, ".B \"-socket PATH\"") {
		t.Error("page lacks -socket, which every command takes")
	}
	if flags < 20 {
		t.Errorf("the commands' help listed %d flags in all, want at least 20", flags)
	}
}

// TestManConsoleEntries: the help text's entries split into path,
// synopsis and description, over several lines.
func TestManConsoleEntries(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(`  status                 daemon status (version)
  search [--from T] [--to T]
         [--limit N]
                         find recordings
  export ID -o FILE      write the MP3 to FILE; a
                         damaged one is refused
  users add USERNAME --name "Full Name" --ext EXT[,EXT]
  help                   this text
`, "\n"), "\n")
	got := parseCommands(lines)
	want := []manEntry{
		{[]string{"status"}, "status", "daemon status (version)"},
		{[]string{"search"}, "search [--from T] [--to T] [--limit N]", "find recordings"},
		{[]string{"export"}, "export ID -o FILE", "write the MP3 to FILE; a damaged one is refused"},
		{[]string{"users", "add"}, `users add USERNAME --name "Full Name" --ext EXT[,EXT]`, ""},
		{[]string{"help"}, "help", "this text"},
	}
	if len(got) != len(want) {
		t.Fatalf("parseCommands gave %d entries, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i].path, want[i].path) || got[i].synopsis != want[i].synopsis || got[i].text != want[i].text {
			t.Errorf("entry %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestManConsoleHookOnlyOnHelpMan(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--man"}, {"help", "--man", "x"}, {"status"}} {
		if manHook(args) {
			t.Errorf("manHook(%q) = true", args)
		}
	}
}

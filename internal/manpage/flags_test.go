package manpage

import (
	"slices"
	"testing"
)

func TestParseDefaults(t *testing.T) {
	help := "Usage of x:\n  -count int\n    \tnumber of users\n  -long-name string\n    \tfirst line\n    \tsecond line (default \"a\")\n  -v\tverbose\n  -json\n    \tprint JSON\n"
	got := ParseDefaults(help)
	want := []Flag{
		{"count", "int", "number of users"},
		{"long-name", "string", "first line second line (default \"a\")"},
		{"v", "", "verbose"},
		{"json", "", "print JSON"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseDefaults = %q, want %q", got, want)
	}
}

func TestParseDefaultsWithoutFlags(t *testing.T) {
	if got := ParseDefaults("usage: x\n    \tstray usage line\n"); got != nil {
		t.Errorf("ParseDefaults of a help with no flags = %q, want none", got)
	}
}

func TestArgOf(t *testing.T) {
	for _, c := range []struct {
		synopsis string
		f        Flag
		want     string
	}{
		{`users add USERNAME --name "Full Name" --ext EXT[,EXT]`, Flag{Name: "name", Arg: "name"}, `"Full Name"`},
		{`users add --ext EXT[,EXT] [--json]`, Flag{Name: "ext", Arg: "extensions"}, "EXT[,EXT]"},
		{`x [--mode always|on-demand]`, Flag{Name: "mode", Arg: "mode"}, "always|on-demand"},
		{`x [-o FILE]`, Flag{Name: "o", Arg: "string"}, "FILE"},
		{`x [-config FILE] [-data DIR]`, Flag{Name: "data", Arg: "string"}, "DIR"},
		{`x -model user|channel [-expires YYYY-MM-DD]`, Flag{Name: "expires", Arg: "string"}, "YYYY-MM-DD"},
		{`x [--json] [--limit N]`, Flag{Name: "json"}, ""},
		{`x [--from T] [--limit N]`, Flag{Name: "user", Arg: "username"}, "USERNAME"},
		{`x --to`, Flag{Name: "to", Arg: "time"}, "TIME"},
		{`x [--to -5m]`, Flag{Name: "to", Arg: "time"}, "TIME"},
		{``, Flag{Name: "n", Arg: "int"}, "INT"},
	} {
		if got := ArgOf(c.synopsis, c.f); got != c.want {
			t.Errorf("ArgOf(%q, -%s) = %q, want %q", c.synopsis, c.f.Name, got, c.want)
		}
	}
}

func TestDashesSpell(t *testing.T) {
	for _, c := range []struct {
		d          Dashes
		name, want string
	}{
		{SingleDash, "config", "-config"},
		{SingleDash, "h", "-h"},
		{DoubleDash, "json", "--json"},
		{DoubleDash, "o", "-o"},
	} {
		if got := c.d.Spell(c.name); got != c.want {
			t.Errorf("Spell(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

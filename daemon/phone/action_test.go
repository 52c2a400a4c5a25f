package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAction(t *testing.T) {
	for _, a := range allActions {
		for _, s := range []string{string(a), strings.ToUpper(string(a)), " " + string(a) + " "} {
			got, err := ParseAction(s)
			if err != nil || got != a {
				t.Errorf("ParseAction(%q) = %q, %v; want %q", s, got, err, a)
			}
		}
	}
	for _, s := range []string{"", "record", "star", "stop!", "keep pause"} {
		if got, err := ParseAction(s); err == nil || !errors.Is(err, ErrBadRequest) {
			t.Errorf("ParseAction(%q) = %q, %v; want ErrBadRequest", s, got, err)
		}
	}
}

func TestParseExt(t *testing.T) {
	for in, want := range map[string]string{
		"2501":                  "2501",
		"+4930123456":           "+4930123456",
		" 4930123456":           "+4930123456", // an unescaped '+' in a URL
		"*86#":                  "*86#",
		strings.Repeat("9", 32): strings.Repeat("9", 32),
	} {
		if got, err := ParseExt(in); err != nil || got != want {
			t.Errorf("ParseExt(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, hint := range map[string]string{
		"":                      "no extension",
		"25 01x":                "may hold only",
		"2501-1":                "may hold only",
		strings.Repeat("9", 33): "longer than 32",
		"SEP001122334455":       "#DEVICENAME#",
		"sep001122334455":       "#DEVICENAME#",
		"#DEVICENAME#":          "#DEVICENAME#",
	} {
		_, err := ParseExt(in)
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), hint) {
			t.Errorf("ParseExt(%q) error %v, want ErrBadRequest saying %q", in, err, hint)
		}
	}
}

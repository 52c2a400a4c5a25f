package vocab

import (
	"strings"
	"testing"
)

func TestCheckUser(t *testing.T) {
	if p := CheckUser("john_doe", "John Doe", []string{"2501", "+15558201", "*8#"}, ModeAlways); p != nil {
		t.Errorf("a sound user: %v", p)
	}
	p := CheckUser("john doe", strings.Repeat("x", 129), []string{"25 01", strings.Repeat("1", 33)}, "sometimes")
	want := []string{"username", "full name", `extension "25 01"`, "extension", "mode"}
	if len(p) != len(want) {
		t.Fatalf("problems = %q", p)
	}
	for i, w := range want {
		if !strings.Contains(p[i], w) {
			t.Errorf("problem %d = %q, want it to name %s", i, p[i], w)
		}
	}
	if p := CheckUser("a", "", nil, ModeLiveKeep); len(p) != 1 || p[0] != "no extension given" {
		t.Errorf("no extension: %q", p)
	}
	for _, bad := range []string{"", strings.Repeat("a", 65), "é"} {
		if CheckUsername(bad) == "" {
			t.Errorf("username %q accepted", bad)
		}
	}
	if CheckFullName("tab\there") == "" {
		t.Error("a control character in a full name accepted")
	}
}

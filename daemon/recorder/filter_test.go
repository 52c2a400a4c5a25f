package recorder

import (
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/vocab"
)

func TestFilters(t *testing.T) {
	out := parties{Username: "jdoe", Extension: "2501", Remote: "+15558201320", Direction: vocab.DirectionOut}
	in := parties{Username: "jdoe", Extension: "2501", Remote: "5558201320", Direction: vocab.DirectionIn}
	internal := parties{Username: "jdoe", Extension: "2501", Remote: "2502", Direction: vocab.DirectionOut}
	site := Filters{MinDigits: 6, Prefixes: []string{"9"}}
	for _, tc := range []struct {
		name string
		f    Filters
		u    user
		p    parties
		want bool
		why  string
	}{
		{"default records all", site, user{}, internal, true, ""},
		{"in only refuses out", Filters{Direction: FilterIn, MinDigits: 6}, user{}, out, false, "only inbound"},
		{"in only takes in", Filters{Direction: FilterIn, MinDigits: 6}, user{}, in, true, ""},
		{"user out overrides in", Filters{Direction: FilterIn, MinDigits: 6}, user{Direction: FilterOut}, out, true, ""},
		{"user both overrides in", Filters{Direction: FilterIn}, user{Direction: FilterBoth}, out, true, ""},
		{"external only refuses extension", Filters{External: FilterOnly, MinDigits: 6}, user{}, internal, false, "remote 2502 is internal"},
		{"external by length", Filters{External: FilterOnly, MinDigits: 6}, user{}, in, true, ""},
		{"external by prefix", Filters{External: FilterOnly, MinDigits: 6, Prefixes: []string{"9"}}, user{}, parties{Remote: "9123", Direction: vocab.DirectionOut}, true, ""},
		{"user any overrides only", Filters{External: FilterOnly, MinDigits: 6}, user{External: FilterAny}, internal, true, ""},
		{"user only over any", site, user{External: FilterOnly}, internal, false, "internal"},
		{"exactly N digits is internal", Filters{External: FilterOnly, MinDigits: 4}, user{}, internal, false, "internal"},
	} {
		ok, why := tc.f.admits(tc.p, tc.u)
		if ok != tc.want || !strings.Contains(why, tc.why) || (ok && why != "") {
			t.Errorf("%s: admits = %t %q, want %t %q", tc.name, ok, why, tc.want, tc.why)
		}
	}
	for _, bad := range [][2]string{{"inbound", ""}, {"", "yes"}} {
		if CheckFilter(bad[0], bad[1]) == "" {
			t.Errorf("CheckFilter(%q, %q) accepts it", bad[0], bad[1])
		}
	}
	if p := CheckFilter(FilterOut, FilterOnly); p != "" {
		t.Errorf("CheckFilter(out, only) = %q", p)
	}
}

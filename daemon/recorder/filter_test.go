package recorder

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/callvault/callvault/internal/vocab"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
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
		{"in only refuses out", Filters{Direction: vocab.FilterIn, MinDigits: 6}, user{}, out, false, "only inbound"},
		{"in only takes in", Filters{Direction: vocab.FilterIn, MinDigits: 6}, user{}, in, true, ""},
		{"user out overrides in", Filters{Direction: vocab.FilterIn, MinDigits: 6}, user{Direction: vocab.FilterOut}, out, true, ""},
		{"user both overrides in", Filters{Direction: vocab.FilterIn}, user{Direction: vocab.FilterBoth}, out, true, ""},
		{"external only refuses extension", Filters{External: vocab.FilterOnly, MinDigits: 6}, user{}, internal, false, "remote 2502 is internal"},
		{"external by length", Filters{External: vocab.FilterOnly, MinDigits: 6}, user{}, in, true, ""},
		{"external by prefix", Filters{External: vocab.FilterOnly, MinDigits: 6, Prefixes: []string{"9"}}, user{}, parties{Remote: "9123", Direction: vocab.DirectionOut}, true, ""},
		{"user any overrides only", Filters{External: vocab.FilterOnly, MinDigits: 6}, user{External: vocab.FilterAny}, internal, true, ""},
		{"user only over any", site, user{External: vocab.FilterOnly}, internal, false, "internal"},
		{"exactly N digits is internal", Filters{External: vocab.FilterOnly, MinDigits: 4}, user{}, internal, false, "internal"},
	} {
		ok, why := tc.f.admits(tc.p, tc.u)
		if ok != tc.want || !strings.Contains(why, tc.why) || (ok && why != "") {
			t.Errorf("%s: admits = %t %q, want %t %q", tc.name, ok, why, tc.want, tc.why)
		}
	}
	for _, bad := range [][2]string{{"inbound", ""}, {"", "yes"}} {
		if vocab.CheckFilter(bad[0], bad[1]) == "" {
			t.Errorf("vocab.CheckFilter(%q, %q) accepts it", bad[0], bad[1])
		}
	}
	if p := vocab.CheckFilter(vocab.FilterOut, vocab.FilterOnly); p != "" {
		t.Errorf("vocab.CheckFilter(out, only) = %q", p)
	}
}

// A call the filters exclude is refused before any answer when its
// metadata comes with the INVITE, and discarded at the end when it came
// later.
func TestFilteredCalls(t *testing.T) {
	r := newTestRecorder(t, true)
	r.filters = Filters{Direction: vocab.FilterIn, MinDigits: 6}
	outbound := parts("sip:2501@gw", "sip:5552000@gw") // john_doe calls out
	var se *siprec.StatusError
	if _, err := r.Admit(context.Background(), offer("out@x", outbound)); !errors.As(err, &se) || se.Code != 403 ||
		!strings.Contains(se.Reason, "only inbound calls") {
		t.Fatalf("outbound call under direction=in: %v, want 403 with the reason", err)
	}
	if got := r.stats.rejectedBy()["filtered"]; got != 1 {
		t.Errorf("rejected_by filtered = %d, want 1", got)
	}
	// Admitted without metadata, named outbound by an UPDATE: discarded.
	if _, err := r.Admit(context.Background(), offer("late@x", nil)); err != nil {
		t.Fatal(err)
	}
	late := offer("late@x", outbound)
	if _, err := r.Update(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	r.End(late, "bye")
	if recs, err := r.store.Search(vault.Query{}); err != nil || len(recs) != 0 {
		t.Fatalf("recordings = %+v, %v; want none", recs, err)
	}
	// The user's own setting comes first.
	if err := r.users.add(user{Username: "out_only", Extensions: []string{"2600"}, Direction: vocab.FilterOut}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admit(context.Background(), offer("own@x", parts("sip:2600@gw", "sip:5552000@gw"))); err != nil {
		t.Fatalf("outbound call of an out-only user: %v", err)
	}
	r.End(offer("own@x", parts("sip:2600@gw", "sip:5552000@gw")), "bye")
}

package recorder

import (
	"fmt"
	"strings"

	"github.com/callvault/callvault/internal/vocab"
)

// Filters are the [policy] rules of which calls are recorded; a user's own
// direction and external settings, when set, take the place of Direction
// and External.
type Filters struct {
	Direction string // vocab.FilterBoth (or ""), vocab.FilterIn or vocab.FilterOut
	External  string // vocab.FilterAny (or "") or vocab.FilterOnly
	// A remote number is external when it has more than MinDigits digits
	// or starts with one of Prefixes (an outside-line prefix such as "9",
	// or "+").
	MinDigits int
	Prefixes  []string
}

// admits reports whether a call of these parties is recorded under f and
// the owner's own settings (u's; empty for an unknown owner), and if not,
// why, in words for a SIP Warning and the log.
func (f Filters) admits(p parties, u user) (bool, string) {
	dir := f.Direction
	if u.Direction != "" {
		dir = u.Direction
	}
	switch {
	case dir == vocab.FilterIn && p.Direction != vocab.DirectionIn:
		return false, "only inbound calls are recorded"
	case dir == vocab.FilterOut && p.Direction != vocab.DirectionOut:
		return false, "only outbound calls are recorded"
	}
	ext := f.External
	if u.External != "" {
		ext = u.External
	}
	if ext == vocab.FilterOnly && !f.external(p.Remote) {
		return false, fmt.Sprintf("only external calls are recorded (remote %s is internal)", clip(p.Remote))
	}
	return true, ""
}

// external reports whether a remote number is outside the site.
func (f Filters) external(remote string) bool {
	for _, pre := range f.Prefixes {
		if pre != "" && strings.HasPrefix(remote, pre) {
			return true
		}
	}
	digits := 0
	for _, r := range remote {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits > f.MinDigits
}

// owner is the user who owns a call of these parties; empty for a call of
// no user.
func (r *Recorder) owner(p parties) user {
	if !p.known() {
		return user{}
	}
	u, _ := r.users.byExtension(p.Extension)
	return u
}

package recorder

import (
	"fmt"
	"strings"

	"github.com/callvault/callvault/internal/vocab"
)

// Filter words: a user's (and the [policy] defaults') choice of calls.
const (
	FilterBoth = "both" // direction: every call
	FilterIn   = "in"   // direction: inbound calls only
	FilterOut  = "out"  // direction: outbound calls only
	FilterAny  = "any"  // external: every remote number
	FilterOnly = "only" // external: external remote numbers only
)

// Filters are the [policy] rules of which calls are recorded; a user's own
// direction and external settings, when set, take the place of Direction
// and External.
type Filters struct {
	Direction string // FilterBoth (or ""), FilterIn or FilterOut
	External  string // FilterAny (or "") or FilterOnly
	// A remote number is external when it has more than MinDigits digits
	// or starts with one of Prefixes (an outside-line prefix such as "9",
	// or "+").
	MinDigits int
	Prefixes  []string
}

// CheckFilter returns what is wrong with a direction and an external
// setting ("" is fine: the default applies); "" when both are fine.
func CheckFilter(direction, external string) string {
	switch direction {
	case "", FilterBoth, FilterIn, FilterOut:
	default:
		return fmt.Sprintf("direction %q: want in, out or both", direction)
	}
	switch external {
	case "", FilterAny, FilterOnly:
	default:
		return fmt.Sprintf("external %q: want only or any", external)
	}
	return ""
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
	case dir == FilterIn && p.Direction != vocab.DirectionIn:
		return false, "only inbound calls are recorded"
	case dir == FilterOut && p.Direction != vocab.DirectionOut:
		return false, "only outbound calls are recorded"
	}
	ext := f.External
	if u.External != "" {
		ext = u.External
	}
	if ext == FilterOnly && !f.external(p.Remote) {
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

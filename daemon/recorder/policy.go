package recorder

import (
	"strings"
	"unicode/utf8"

	"github.com/callvault/callvault/internal/vocab"
	"github.com/callvault/callvault/siprec"
)

// parties is who a recording belongs to, as decided from the session's
// participants and the users directory.
type parties struct {
	Username  string
	FullName  string
	Extension string
	Remote    string
	Direction string // vocab.DirectionIn or vocab.DirectionOut
	// OwnerLabel is the label of the stream the owner sends ("" = unknown):
	// the left channel in stereo.
	OwnerLabel string
}

// known reports whether a user of the directory owns the call (usernames
// are never empty).
func (p parties) known() bool { return p.Username != "" }

// classify decides the owner of a call. The owner is the participant the
// client records for (Metadata.Recorded) when that is a user, else the
// first participant whose number is a user's extension (unless the client
// records for that party only, Metadata.OnlyRecorded: Cisco UCM's near
// end). The caller is the
// participant the client's call data names (Metadata.Caller), else the
// first participant (CUBE's anchor leg); the direction is OUT when the
// owner called and IN otherwise. With no matching user the party the
// client records for, else the called party, stands in the owner's place
// (username empty), so both numbers stay searchable.
func classify(md *siprec.Metadata, lookup func(ext string) (user, bool)) parties {
	var ps []siprec.Participant
	if md != nil {
		ps = md.Participants
	}
	var r parties
	if len(ps) == 0 {
		r.Direction = vocab.DirectionIn
		return r
	}
	caller := indexOf(ps, md.Caller)
	if caller < 0 {
		caller = 0
	}
	recorded := indexOf(ps, md.Recorded)
	owner := -1
	var u user
	if recorded >= 0 {
		if found, ok := lookup(ps[recorded].User()); ok {
			owner, u = recorded, found
		}
	}
	for i := 0; owner < 0 && !md.OnlyRecorded && i < len(ps); i++ {
		if found, ok := lookup(ps[i].User()); ok {
			owner, u = i, found
		}
	}
	if owner >= 0 {
		r.Username, r.FullName = u.Username, u.FullName
	} else {
		switch {
		case recorded >= 0:
			owner = recorded
		case len(ps) == 1:
			r.Direction = vocab.DirectionIn
			r.Remote = clip(ps[0].User())
			return r
		default:
			owner = 1
			if caller == 1 {
				owner = 0
			}
		}
	}
	r.Direction = vocab.DirectionIn
	if owner == caller {
		r.Direction = vocab.DirectionOut
	}
	r.Extension = clip(ps[owner].User())
	if len(ps[owner].Send) > 0 {
		r.OwnerLabel = ps[owner].Send[0]
	}
	for i, p := range ps {
		if i != owner {
			r.Remote = clip(p.User())
			break
		}
	}
	return r
}

// indexOf finds the participant an AOR or number from the client's call
// data names, by number; -1 when none does.
func indexOf(ps []siprec.Participant, aor string) int {
	if aor == "" {
		return -1
	}
	want := siprec.Participant{AOR: aor}.User()
	if want == "" {
		return -1
	}
	for i, p := range ps {
		if p.User() == want {
			return i
		}
	}
	// Numbers written with and without a country code (BroadWorks gives
	// +441632960100 for the participant sip:01632960100): the longer ends
	// with the shorter's last digits.
	for i, p := range ps {
		if u := p.User(); len(u) >= 6 && len(want) >= 6 && sameTail(u, want) {
			return i
		}
	}
	return -1
}

// sameTail reports whether a and b end in the same 9 digits (or all the
// digits of the shorter, when fewer).
func sameTail(a, b string) bool {
	a, b = strings.TrimLeft(a, "+0"), strings.TrimLeft(b, "+0")
	n := min(len(a), len(b), 9)
	return n >= 6 && a[len(a)-n:] == b[len(b)-n:]
}

// maxNumberLen bounds a number taken from the metadata, so a hostile or
// broken AOR cannot outgrow the file name, the tags or the file's head.
const maxNumberLen = 64

// clip cuts s to at most maxNumberLen bytes, on a UTF-8 boundary.
func clip(s string) string {
	if len(s) <= maxNumberLen {
		return s
	}
	s = s[:maxNumberLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

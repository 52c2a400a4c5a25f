package main

import (
	"unicode/utf8"

	"github.com/callvault/callvault/siprec"
)

// parties is who a recording belongs to, as decided from the session's
// participants and the users directory.
type parties struct {
	Username  string
	FullName  string
	Extension string
	Remote    string
	Direction string // "IN" or "OUT"
	// OwnerLabel is the label of the stream the owner sends ("" = unknown):
	// the left channel in stereo.
	OwnerLabel string
}

// known reports whether a user of the directory owns the call (usernames
// are never empty).
func (p parties) known() bool { return p.Username != "" }

// classify decides the owner of a call. The owner is the first participant
// whose AOR user part is a user's extension; the direction is OUT when the
// owner is the calling party (the first participant: CUBE's anchor leg) and
// IN otherwise. With no matching user the called party stands in the
// owner's place (username empty, direction IN), so both numbers stay
// searchable.
func classify(md *siprec.Metadata, lookup func(ext string) (user, bool)) parties {
	var ps []siprec.Participant
	if md != nil {
		ps = md.Participants
	}
	owner := -1
	var u user
	for i, p := range ps {
		if found, ok := lookup(p.User()); ok {
			owner, u = i, found
			break
		}
	}
	var r parties
	if owner >= 0 {
		r.Username, r.FullName = u.Username, u.FullName
		r.Direction = "OUT"
		if owner > 0 {
			r.Direction = "IN"
		}
	} else {
		r.Direction = "IN"
		switch len(ps) {
		case 0:
			return r
		case 1:
			r.Remote = clip(ps[0].User())
			return r
		}
		owner = 1
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

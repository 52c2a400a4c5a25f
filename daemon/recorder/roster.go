package recorder

import (
	"time"

	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// roster is every participant a call has had, in the order they came,
// with the times they joined and left: a transfer's metadata drops the
// party who left (a complete document) or marks it disassociated (a
// partial one), and the recording keeps both parties either way.
type roster struct {
	list []vault.Participant
	keys []string // participant id, else AOR: what identifies list[i] across documents
}

// note takes the participants of the session's latest metadata at now.
// A participant not seen before joins (at its associate time, else now);
// one the client disassociates leaves at that time; one the document no
// longer lists leaves now.
func (r *roster) note(md *siprec.Metadata, now time.Time) {
	if md == nil {
		return
	}
	seen := make([]bool, len(r.list))
	for _, p := range md.Participants {
		key := p.ID
		if key == "" {
			key = p.AOR
		}
		if key == "" {
			continue
		}
		i := r.index(key)
		if i < 0 {
			joined := p.Associated
			if joined.IsZero() {
				joined = now
			}
			r.list = append(r.list, vault.Participant{AOR: p.AOR, Name: p.Name, Joined: joined.UTC()})
			r.keys = append(r.keys, key)
			seen = append(seen, true)
			i = len(r.list) - 1
		}
		seen[i] = true
		e := &r.list[i]
		if p.AOR != "" {
			e.AOR = p.AOR
		}
		if p.Name != "" {
			e.Name = p.Name
		}
		switch {
		case !p.Disassociated.IsZero():
			e.Left = p.Disassociated.UTC()
		case !e.Left.IsZero() && p.Associated.After(e.Left):
			e.Left = time.Time{} // joined again
		}
	}
	for i, ok := range seen {
		if !ok && r.list[i].Left.IsZero() {
			r.list[i].Left = now.UTC()
		}
	}
}

func (r *roster) index(key string) int {
	for i, k := range r.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// participants is a copy of the roster.
func (r *roster) participants() []vault.Participant {
	return append([]vault.Participant(nil), r.list...)
}

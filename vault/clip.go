package vault

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Bounds on the free-text fields of a Recording, in bytes. Most come from
// the wire (SIP Call-ID, SIPREC participants) and may be absurd; none may
// cost the recording. Seal and Describe cut every field to its bound on a
// UTF-8 boundary before anything is stored.
const (
	maxCallIDLen    = 256 // CallID
	maxNameLen      = 128 // FullName, Participant.Name
	maxShortLen     = 64  // User, Extension, Remote, Direction, Codec, Status, EndReason
	maxAORLen       = 256 // Participant.AOR
	maxParticipants = 64  // the first ones are kept
	maxLost         = 64  // lost spans: the first ones are kept
	maxPauses       = 64  // pauses, and On Demand windows: the first ones are kept
	maxLegs         = 16  // the first ones are kept
	maxLabelLen     = 32  // LegSummary.Label, LegSummary.Codec
)

// clipRecording returns rec with every free-text field cut to its bound
// and at most maxParticipants participants. The caller's participant
// slice is never modified.
func clipRecording(rec Recording) Recording {
	rec.CallID = clipString(rec.CallID, maxCallIDLen)
	rec.FullName = clipString(rec.FullName, maxNameLen)
	rec.User = clipString(rec.User, maxShortLen)
	rec.Extension = clipString(rec.Extension, maxShortLen)
	rec.Remote = clipString(rec.Remote, maxShortLen)
	rec.Direction = clipString(rec.Direction, maxShortLen)
	rec.Codec = clipString(rec.Codec, maxShortLen)
	rec.Status = clipString(rec.Status, maxShortLen)
	rec.EndReason = clipString(rec.EndReason, maxShortLen)
	ps := rec.Participants[:min(len(rec.Participants), maxParticipants)]
	copied := false
	for i, p := range ps {
		if len(p.AOR) <= maxAORLen && len(p.Name) <= maxNameLen {
			continue
		}
		if !copied {
			ps = append([]Participant(nil), ps...)
			copied = true
		}
		ps[i].AOR, ps[i].Name = clipString(p.AOR, maxAORLen), clipString(p.Name, maxNameLen)
	}
	rec.Participants = ps
	if len(rec.Lost) > maxLost {
		rec.Lost = rec.Lost[:maxLost]
	}
	if len(rec.Pauses) > maxPauses {
		rec.Pauses = rec.Pauses[:maxPauses]
	}
	if len(rec.Windows) > maxPauses {
		rec.Windows = rec.Windows[:maxPauses]
	}
	if len(rec.Legs) > 0 {
		legs := append([]LegSummary(nil), rec.Legs[:min(len(rec.Legs), maxLegs)]...)
		for i := range legs {
			legs[i].Label = clipString(legs[i].Label, maxLabelLen)
			legs[i].Codec = clipString(legs[i].Codec, maxLabelLen)
		}
		rec.Legs = legs
	}
	return rec
}

// clipString cuts s to at most n bytes without splitting a UTF-8 sequence.
func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fitRecording marshals rec (already clipped) to JSON of at most budget
// bytes. While it does not fit it drops, in this order, the leg counters,
// participants from the end, the Call-ID, then the full name: the audio,
// the identity and the owner always stay. It returns the recording as it will be stored and
// its JSON, or an error wrapping ErrHeadSlotFull when even the minimal
// record exceeds budget.
func fitRecording(rec Recording, budget int) (Recording, []byte, error) {
	meta, err := json.Marshal(rec)
	if err != nil {
		return rec, nil, fmt.Errorf("metadata: %w", err)
	}
	if len(meta) <= budget {
		return rec, meta, nil
	}
	if rec.Legs != nil {
		rec.Legs = nil
		return fitRecording(rec, budget)
	}
	// The JSON grows with the number of participants kept: find the most
	// that fit by bisection (a handful of marshals even for 64).
	all := rec.Participants
	keep, fit := 0, []byte(nil)
	for lo, hi := 0, len(all)-1; lo <= hi; { // all[:hi+1] does not fit
		mid := (lo + hi) / 2
		rec.Participants = all[:mid]
		m, err := json.Marshal(rec)
		if err != nil {
			return rec, nil, fmt.Errorf("metadata: %w", err)
		}
		if len(m) <= budget {
			keep, fit, lo = mid, m, mid+1
		} else {
			hi = mid - 1
		}
	}
	if fit != nil {
		rec.Participants = all[:keep]
		return rec, fit, nil
	}
	rec.Participants = nil
	for _, drop := range []func(*Recording){
		func(r *Recording) { r.CallID = "" },
		func(r *Recording) { r.FullName = "" },
	} {
		drop(&rec)
		if meta, err = json.Marshal(rec); err != nil {
			return rec, nil, fmt.Errorf("metadata: %w", err)
		}
		if len(meta) <= budget {
			return rec, meta, nil
		}
	}
	return rec, nil, fmt.Errorf("metadata of %d bytes without participants, call id and full name exceeds the %d bytes left: %w",
		len(meta), max(budget, 0), ErrHeadSlotFull)
}

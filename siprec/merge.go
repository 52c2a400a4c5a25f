package siprec

import "slices"

// Merge returns the metadata state after applying upd to old, without
// changing either. A nil old gives a copy of upd; a nil upd gives old.
//
// RFC 7865 section 6: a "partial" document carries only what changed, so
// its participants and streams are merged into old by id and the others
// are kept. A "complete" document (what CUBE sends) replaces the lists: the
// result holds exactly its participants and streams, in its order. In both
// modes a field the update leaves empty keeps its old value, so a BYE that
// only carries end and disassociate times does not erase names or the
// start time. The result is never Partial.
func Merge(old, upd *Metadata) *Metadata {
	if upd == nil {
		return old
	}
	out := &Metadata{
		SessionID: upd.SessionID,
		Start:     upd.Start,
		End:       upd.End,
		Caller:    upd.Caller,
		Recorded:  upd.Recorded,
		// Only a UCM call's own metadata sets it, and that is never merged.
		OnlyRecorded: upd.OnlyRecorded || old != nil && old.OnlyRecorded,
	}
	if old == nil {
		out.Participants = slices.Clone(upd.Participants)
		out.Streams = slices.Clone(upd.Streams)
		return out
	}
	if out.SessionID == "" {
		out.SessionID = old.SessionID
	}
	if out.Start.IsZero() {
		out.Start = old.Start
	}
	if out.End.IsZero() {
		out.End = old.End
	}
	if out.Caller == "" {
		out.Caller = old.Caller
	}
	if out.Recorded == "" {
		out.Recorded = old.Recorded
	}

	oldP := make(map[string]Participant, len(old.Participants))
	for _, p := range old.Participants {
		if p.ID != "" {
			oldP[p.ID] = p
		}
	}
	oldS := make(map[string]StreamInfo, len(old.Streams))
	for _, s := range old.Streams {
		if s.ID != "" {
			oldS[s.ID] = s
		}
	}

	if upd.Partial {
		out.Participants = slices.Clone(old.Participants)
		out.Streams = slices.Clone(old.Streams)
		for _, p := range upd.Participants {
			i := slices.IndexFunc(out.Participants, func(q Participant) bool { return p.ID != "" && q.ID == p.ID })
			if i < 0 {
				out.Participants = append(out.Participants, p)
				continue
			}
			out.Participants[i] = mergeParticipant(out.Participants[i], p)
		}
		for _, s := range upd.Streams {
			i := slices.IndexFunc(out.Streams, func(q StreamInfo) bool { return s.ID != "" && q.ID == s.ID })
			if i < 0 {
				out.Streams = append(out.Streams, s)
				continue
			}
			if s.Label != "" {
				out.Streams[i].Label = s.Label
			}
		}
		// A partial update may name streams sent in an earlier document.
		labels := make(map[string]string, len(out.Streams))
		for _, s := range out.Streams {
			if s.ID != "" && s.Label != "" {
				labels[s.ID] = s.Label
			}
		}
		for i := range out.Participants {
			out.Participants[i].Send = resolveLabels(out.Participants[i].Send, labels)
			out.Participants[i].Recv = resolveLabels(out.Participants[i].Recv, labels)
		}
		return out
	}

	out.Participants = make([]Participant, 0, len(upd.Participants))
	for _, p := range upd.Participants {
		if o, ok := oldP[p.ID]; ok && p.ID != "" {
			p = mergeParticipant(o, p)
		}
		out.Participants = append(out.Participants, p)
	}
	out.Streams = make([]StreamInfo, 0, len(upd.Streams))
	for _, s := range upd.Streams {
		if o, ok := oldS[s.ID]; ok && s.ID != "" && s.Label == "" {
			s.Label = o.Label
		}
		out.Streams = append(out.Streams, s)
	}
	return out
}

// mergeParticipant applies the non-empty fields of upd to old.
func mergeParticipant(old, upd Participant) Participant {
	if upd.AOR != "" {
		old.AOR = upd.AOR
	}
	if upd.Name != "" {
		old.Name = upd.Name
	}
	if len(upd.Send) > 0 {
		old.Send = upd.Send
	}
	if len(upd.Recv) > 0 {
		old.Recv = upd.Recv
	}
	if !upd.Associated.IsZero() {
		old.Associated = upd.Associated
	}
	if !upd.Disassociated.IsZero() {
		old.Disassociated = upd.Disassociated
	}
	return old
}

package model

import (
	"time"

	"github.com/callvault/callvault/daemon/control"
)

// RecentMax is how many recent recordings a Model keeps.
const RecentMax = 20

// Recent is a recording that ended lately: sealed (Recording set), failed
// or destroyed (Call set, Error saying why it failed). Type is the event's
// type (control.EventRecordingSealed, ...).
type Recent struct {
	Type      string
	At        time.Time
	Recording *control.Recording
	Call      *control.Call
	Error     string
}

// key names the recording an event is about, so that an event seen twice
// is kept once.
func (r Recent) key() string {
	if r.Recording != nil {
		return "rec:" + r.Recording.ID
	}
	if r.Call != nil {
		if r.Call.RecordID != "" {
			return "rec:" + r.Call.RecordID
		}
		return "call:" + r.Call.ID
	}
	return ""
}

// addRecent puts r first in list, replacing an entry about the same
// recording, and keeps at most RecentMax. The same event seen again (after
// a snapshot) replaces its entry where it stands.
func addRecent(list []Recent, r Recent) []Recent {
	k := r.key()
	for i, o := range list {
		if k != "" && o.key() == k && o.Type == r.Type {
			out := append([]Recent(nil), list...)
			out[i] = r
			return out
		}
	}
	out := make([]Recent, 0, min(len(list)+1, RecentMax))
	out = append(out, r)
	for _, o := range list {
		if len(out) == RecentMax {
			break
		}
		if k != "" && o.key() == k {
			continue
		}
		out = append(out, o)
	}
	return out
}

package vault

import (
	"errors"
	"fmt"
)

// restoreHolds puts back the legal holds the audit trail says are in
// force (each recording's last held or released entry) on the reindexed
// recordings that have none: the trail, a file of its own, outlives an
// index that is lost with no old copy to carry holds over from, and a
// purge after a reindex must still skip what a court holds. A hold the
// old index carried over stands. It returns how many it restored.
func (s *Store) restoreHolds() (int, error) {
	holds := map[string]*Hold{}
	err := s.AuditEntries(AuditQuery{}, func(e AuditEntry) error {
		switch e.Action {
		case AuditRecordingHeld:
			if h := holds[e.ID]; h != nil {
				h.Reason = e.Detail // held again: the first date stays
			} else {
				holds[e.ID] = &Hold{Reason: e.Detail, Since: e.Time, Actor: e.Actor}
			}
		case AuditRecordingReleased, AuditRecordingErased, AuditRecordingPurged, AuditRecordingDeleted:
			delete(holds, e.ID)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the audit trail: %w", err)
	}
	n := 0
	for id, h := range holds {
		rec, err := s.Get(id)
		if errors.Is(err, ErrNotFound) || (err == nil && rec.Hold != nil) {
			continue
		}
		if err != nil {
			return n, err
		}
		if _, err := s.SetHold(id, h); err != nil {
			return n, fmt.Errorf("hold %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

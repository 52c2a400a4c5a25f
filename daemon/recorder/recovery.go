package recorder

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/vault"
)

// Salvager brings back what a crash or a failed seal left: .part files
// are sealed as recovered recordings, and sealed files the index lacks are
// indexed. It runs before SIP is served and again when disk space returns
// (a seal that failed on a full disk left its .part). One run at a time.
type Salvager struct {
	store *vault.Store
	loc   *time.Location
	log   *slog.Logger
	mu    sync.Mutex
}

// NewSalvager salvages store's files, tagging them in loc.
func NewSalvager(store *vault.Store, loc *time.Location, log *slog.Logger) *Salvager {
	return &Salvager{store: store, loc: loc, log: log}
}

// Run salvages everything there is and logs each file; it returns how many
// recordings it recovered and indexed, and how many files it could not.
func (s *Salvager) Run() (recovered, indexed, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.store.RecoverParts(s.rebuild) {
		if r.Err != nil {
			failed++
			s.log.Error("recording not recovered: its .part stays where it is", "path", r.Path, "err", r.Err)
			continue
		}
		recovered++
		s.log.Warn("recording recovered", "record_id", r.Recording.ID, "file", r.Recording.File,
			"status", r.Recording.Status, "duration_ms", r.Recording.DurationMS, "segments", r.Segments, "from", r.Path)
	}
	recs, errs := s.store.IndexUnindexed()
	for _, rec := range recs {
		s.log.Warn("sealed recording was missing from the index: indexed", "record_id", rec.ID, "file", rec.File)
	}
	for _, err := range errs {
		s.log.Error("sealed file not indexed", "err", err)
	}
	return recovered, len(recs), failed + len(errs)
}

// rebuild turns the audio salvaged from a .part into a playable MP3: the
// complete frames, a fresh Info frame and the ID3 tag of the draft the
// daemon wrote while the call ran.
func (s *Salvager) rebuild(draft vault.Recording, audio io.Reader, out io.Writer) (vault.Recording, []byte, error) {
	sv, err := media.SalvageMP3(audio, out)
	if err != nil {
		return draft, nil, fmt.Errorf("salvage mp3 frames: %w", err)
	}
	rec := draft
	rec.Status = vault.StatusRecovered
	if sv.Frames == 0 {
		rec.Status = vault.StatusFailed
		rec.DurationMS = 0
		return rec, nil, nil
	}
	// The stream was cut without LAME's flush: its last DecoderDelay
	// samples come out of no decoder, so they count as padding.
	rec.DurationMS = sv.Duration(media.EncoderDelay, media.DecoderDelay).Milliseconds()
	info, err := media.InfoFrame(sv, media.EncoderDelay, media.DecoderDelay)
	if err != nil {
		return rec, nil, fmt.Errorf("info frame: %w", err)
	}
	id3, err := tagsOf(rec, s.loc, time.Duration(rec.DurationMS)*time.Millisecond).ID3()
	if err != nil {
		s.log.Warn("id3 tag of a recovered recording: left out", "record_id", rec.ID, "err", err)
	}
	return rec, append(id3, info...), nil
}

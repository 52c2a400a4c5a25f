package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/callvault/callvault/vault/target"
)

// TargetSource is a target a reindex reads recordings back from: every
// object under Prefix, whichever node wrote it.
type TargetSource struct {
	Target target.Target
	Prefix string
}

// ReindexFromTargets is Reindex, then every sealed recording the targets
// hold: one the local files lack is indexed as evicted (its copy stands
// for it), one they have gets its copy listed. Objects are fetched whole
// and authenticated under this store's KEK, so the recordings of other
// nodes come back only when the nodes share the KEK; the others are
// reported as failed.
func ReindexFromTargets(cfg Config, log *slog.Logger, sources []TargetSource) (ReindexReport, error) {
	return reindexWith(cfg, log, time.Now(), sources)
}

// reindexTargets indexes what the sources hold (see ReindexFromTargets).
func (s *Store) reindexTargets(ctx context.Context, sources []TargetSource, rep *ReindexReport, now time.Time) error {
	if err := s.mergeTargetSecrets(ctx, sources); err != nil {
		return err
	}
	highest := map[int]uint64{}
	for _, src := range sources {
		err := src.Target.List(ctx, src.Prefix, func(o target.Object) error {
			id, rel, ok := objectRecording(o.Key, src.Prefix)
			if !ok {
				return nil
			}
			n, _ := parseID(id)
			year := int(n / 1_000_000_000)
			highest[year] = max(highest[year], n%nodeSpan)
			c := Copy{Target: src.Target.Name(), State: CopyCopied, Key: o.Key, At: now.UTC()}
			rec, err := s.recordOfObject(ctx, src.Target, o.Key, id)
			if err != nil {
				status, detail := classify(err)
				s.log.Warn("reindex: object not indexed", "target", src.Target.Name(), "key", o.Key, "status", status, "detail", detail)
				rep.Failed = append(rep.Failed, Check{ID: id, File: src.Target.Name() + ":" + o.Key, Status: status, Detail: detail})
				return nil
			}
			c.SHA256 = rec.SHA256
			if local, err := s.Get(id); err == nil {
				if local.SHA256 != rec.SHA256 {
					rep.Failed = append(rep.Failed, Check{ID: id, File: src.Target.Name() + ":" + o.Key, Status: CheckTampered,
						Detail: "the copy is not the local file (SHA-256 " + rec.SHA256 + ", local " + local.SHA256 + ")"})
					return nil
				}
				_, err := s.SetCopy(id, c, nil)
				return err
			}
			rec.File, rec.Evicted, rec.Copies = rel, now.UTC(), []Copy{c}
			if err := s.indexNew([]Recording{rec}); err != nil {
				return err
			}
			rep.Indexed++
			return nil
		})
		if err != nil {
			return fmt.Errorf("target %s: %w", src.Target.Name(), err)
		}
	}
	return s.raiseSequences(highest)
}

// mergeTargetSecrets adds to keys/secrets the erasure secrets the
// sources hold (<prefix><node>/keys/secrets/<day>, every node's) that it
// lacks, before any recording is read back.
func (s *Store) mergeTargetSecrets(ctx context.Context, sources []TargetSource) error {
	for _, src := range sources {
		err := src.Target.List(ctx, src.Prefix, func(o target.Object) error {
			day, ok := objectSecrets(o.Key, src.Prefix)
			if !ok {
				return nil
			}
			rc, _, err := src.Target.Open(ctx, o.Key)
			if err != nil {
				return fmt.Errorf("erasure secrets %s: %w", o.Key, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, 1<<30))
			rc.Close()
			if err != nil {
				return fmt.Errorf("erasure secrets %s: %w", o.Key, err)
			}
			if _, err := s.kek.secrets.merge(day, b); err != nil {
				s.log.Warn("reindex: erasure secrets not read", "target", src.Target.Name(), "key", o.Key, "err", err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reindex from target %s: %w", src.Target.Name(), err)
		}
	}
	return nil
}

// objectSecrets reports whether key is a day file of erasure secrets
// under prefix (<prefix><node>/keys/secrets/<day>), and its day.
func objectSecrets(key, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	_, rel, ok := strings.Cut(rest, "/") // the node
	day, ok2 := strings.CutPrefix(rel, "keys/"+secretsDirName+"/")
	if !ok || !ok2 || !isSecretsDay(day) {
		return "", false
	}
	return day, true
}

// objectRecording reads an object key <prefix><node>/records/...: the
// record id of its file name and the recording's path in a data dir.
func objectRecording(key, prefix string) (id, rel string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || !strings.HasSuffix(key, sealedSuffix) {
		return "", "", false
	}
	_, rel, ok = strings.Cut(rest, "/") // the node
	if !ok || !strings.HasPrefix(rel, "records/") {
		return "", "", false
	}
	id, ok = idOfName(path.Base(rel))
	return id, rel, ok
}

// recordOfObject fetches an object whole into an unlinked temporary file
// and reads it as a sealed file of recording id.
func (s *Store) recordOfObject(ctx context.Context, t target.Target, key, id string) (Recording, error) {
	dir := filepath.Join(s.dir, "fetch")
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return Recording{}, err
	}
	f, err := os.CreateTemp(dir, id+"-*")
	if err != nil {
		return Recording{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	src, _, err := t.Open(ctx, key)
	if err != nil {
		return Recording{}, err
	}
	_, err = io.Copy(f, src)
	src.Close()
	if err != nil {
		return Recording{}, fmt.Errorf("fetch %s: %w", key, err)
	}
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		return Recording{}, err
	}
	rec, err := s.recordOfFile(f.Name(), id)
	if err == nil {
		rec.EvictedKEK, _ = fileKEK(f.Name())
	}
	return rec, err
}

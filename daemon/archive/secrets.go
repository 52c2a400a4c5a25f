package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"path"

	"github.com/callvault/callvault/vault"
)

// The erasure secrets of a day's recordings (keys/secrets/<day>) go to
// each target beside them, under <prefix><node>/keys/secrets/<day>: a
// recording copied without its secret could not be read back after the
// local disk is lost. A day file goes before the first recording of the
// day that needs it, and again after an erase rewrote it (the store's
// pending days), so the target's copy of the secret is gone too.

// secretsKey is the object key of a day file on t.
func (a *Archiver) secretsKey(t *Target, day string) string {
	return t.Prefix + vault.SecretsKey(path.Clean(a.o.Node), day)
}

// sendSecrets puts day's file on t unless t got it at its current
// version in this run (always with force); the version is read from the
// file's header and size, the file whole only to send it. A day with no
// file (recordings of format versions before 3) is no error.
func (a *Archiver) sendSecrets(ctx context.Context, t *Target, day string, force bool) error {
	k := t.Name() + "/" + day
	if !force {
		v, err := a.o.Store.SecretsVersionOf(day)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		a.mu.Lock()
		got, ok := a.sent[k]
		a.mu.Unlock()
		if err == nil && ok && got == v {
			return nil
		}
	}
	b, v, err := a.o.Store.Secrets(day)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if _, err := t.Put(ctx, a.secretsKey(t, day), bytes.NewReader(b), int64(len(b)), hex.EncodeToString(sum[:])); err != nil {
		return err
	}
	a.mu.Lock()
	a.sent[k] = v
	a.mu.Unlock()
	return nil
}

// sendPendingSecrets puts the day files an erase changed on every target
// and clears their marks once all have them; a target that is down gets
// them at a later pass.
func (a *Archiver) sendPendingSecrets(ctx context.Context) {
	days, err := a.o.Store.PendingSecrets()
	if err != nil {
		a.o.Log.Warn("pending erasure secrets not read", "err", err)
		return
	}
	for _, day := range days {
		v, err := a.o.Store.SecretsVersionOf(day)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.o.Log.Warn("erasure secrets not read", "day", day, "err", err)
			continue
		}
		all := true
		for i := range a.o.Targets {
			t := &a.o.Targets[i]
			now := a.o.Now()
			if !a.up(t.Name(), now) {
				all = false
				continue
			}
			if err := a.sendSecrets(ctx, t, day, true); err != nil {
				a.down(t.Name(), err, now)
				a.o.Log.Warn("erasure secrets not copied after an erase", "day", day, "target", t.Name(), "err", err)
				all = false
			}
		}
		if all {
			if err := a.o.Store.SecretsSent(day, v); err != nil {
				a.o.Log.Warn("erasure secrets mark not cleared", "day", day, "err", err)
			}
		}
	}
}

package recorder

import (
	"context"
	"errors"
	"fmt"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/vault"
)

// audit appends an entry to the vault's audit trail for an action taken by
// the caller of ctx (the unix user of the control socket's peer), or by
// the daemon itself when ctx has none. The entry is on disk when it
// returns; an error says it is not, and is logged.
func (r *Recorder) audit(ctx context.Context, action, id, detail string) error {
	actor, uid := vault.ActorSystem, -1
	if c, ok := control.CallerFrom(ctx); ok {
		actor, uid = c.User, int(c.UID)
	}
	_, err := r.store.AuditAppend(vault.AuditEntry{Action: action, ID: id, Actor: actor, UID: uid, Detail: detail})
	if err != nil {
		r.log.Error("audit entry not kept", "action", action, "id", id, "actor", actor, "err", err)
		return fmt.Errorf("audit trail: %w", err)
	}
	return nil
}

// sealedDetail describes a sealed recording in its audit entry.
func sealedDetail(rec vault.Recording) string {
	return fmt.Sprintf("%s, %d ms, %s, %d bytes, sha256 %s", rec.Status, rec.DurationMS, rec.File, rec.Size, rec.SHA256)
}

func (b *backend) Audit(ctx context.Context, q control.AuditQuery, fn func(control.AuditEntry) error) error {
	return b.store.AuditEntries(vault.AuditQuery(q), func(e vault.AuditEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(control.AuditEntry(e))
	})
}

func (b *backend) AuditVerify(ctx context.Context) (control.AuditReport, error) {
	rep, err := b.store.AuditVerify()
	if err != nil {
		return control.AuditReport{}, err
	}
	return control.AuditReport{Entries: rep.Entries, FirstBroken: rep.FirstBroken, Problem: rep.Problem, HeadSeq: rep.Head.Seq}, nil
}

// RotateKey rotates the vault's key-encryption key for ctx's caller (the
// vault audits it).
func (b *backend) RotateKey(ctx context.Context) (control.KeyRotation, error) {
	actor, uid := actorOf(ctx)
	old, cur, err := b.store.RotateKEK(actor, uid)
	if errors.Is(err, vault.ErrCredentialKEK) {
		return control.KeyRotation{}, fmt.Errorf("%w: %w", control.ErrNotAllowed, err)
	}
	return control.KeyRotation{Old: old, New: cur}, err
}

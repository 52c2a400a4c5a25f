package control

import (
	"context"
	"io"
)

// Backend is what the handler needs from the daemon. Errors wrapping
// ErrNotFound, ErrInvalid, ErrExists or ErrDamaged become 404, 400, 409 and
// 422; any other error becomes 500 with its message. Methods are called concurrently.
type Backend interface {
	Status(ctx context.Context) (Status, error)
	// Calls returns the live calls.
	Calls(ctx context.Context) ([]Call, error)
	// Search returns the recordings matching q, newest first; q is valid
	// and its Limit is between 1 and MaxLimit+1 (the handler asks for one
	// more than the page to learn whether a next page follows).
	Search(ctx context.Context, q Query) ([]Recording, error)
	Recording(ctx context.Context, id string) (Recording, error)
	// Export writes the decrypted MP3 of recording id to w. An error
	// returned before anything was written gets its own status (say 404);
	// after the first write it can only be reported in the trailer, so a
	// backend authenticates the whole file before it writes (ErrDamaged).
	Export(ctx context.Context, id string, w io.Writer) error
	// Verify checks one recording's file against its index entry.
	Verify(ctx context.Context, id string) (Check, error)
	// VerifyAll checks every recording, then reports sealed files the
	// index lacks; it calls fn once per file and stops at fn's error.
	VerifyAll(ctx context.Context, fn func(Check) error) error
	Users(ctx context.Context) ([]User, error)
	// AddUser adds a user that passed User.Validate.
	AddUser(ctx context.Context, u User) error
	RemoveUser(ctx context.Context, username string) error
	// UpdateUser replaces the name, extensions, mode and filters of an
	// existing user (u passed User.Validate): ErrNotFound when there is no
	// such user, ErrExists when an extension is another user's.
	UpdateUser(ctx context.Context, u User) error
	// Audit calls fn with each entry of the audit trail that matches q,
	// oldest first, and stops at fn's error.
	Audit(ctx context.Context, q AuditQuery, fn func(AuditEntry) error) error
	// AuditVerify checks the audit trail's hash chain end to end.
	AuditVerify(ctx context.Context) (AuditReport, error)
	// Purge removes what the request selects, never a held recording.
	Purge(ctx context.Context, req PurgeRequest) (PurgeResult, error)
	// Hold puts the selected recordings under legal hold, or releases
	// them, and returns them.
	Hold(ctx context.Context, req HoldRequest) ([]Recording, error)
	// RotateKey makes a new key-encryption key current; older
	// recordings stay readable under the retired one.
	RotateKey(ctx context.Context) (KeyRotation, error)
	// Erase erases one recording for good (refused under hold).
	Erase(ctx context.Context, req EraseRequest) error
	// Subscribe returns the events that happen from now on. The channel is
	// closed when ctx is done; the backend may also close it earlier (on
	// shutdown), which ends the client's stream. A slow subscriber must not
	// slow the recorder down: drop or coalesce instead of blocking.
	Subscribe(ctx context.Context) <-chan Event
	// Record applies a record action to a live call (req is valid): it
	// fails with ErrNotFound when no live call has that owner's extension
	// or record id, and with ErrNotAllowed when the action is refused.
	Record(ctx context.Context, req RecordRequest) (RecordResult, error)
	// InstallLicense verifies a licence file and puts it in force; it
	// fails with ErrInvalid (saying why) when the file does not verify,
	// and the licence in force stays.
	InstallLicense(ctx context.Context, file []byte) (License, error)
}

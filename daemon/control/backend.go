package control

import (
	"context"
	"io"
)

// Backend is what the handler needs from the daemon. Errors wrapping
// ErrNotFound, ErrInvalid or ErrExists become 404, 400 and 409; any other
// error becomes 500 with its message. Methods are called concurrently.
type Backend interface {
	Status(ctx context.Context) (Status, error)
	// Calls returns the live calls.
	Calls(ctx context.Context) ([]Call, error)
	// Search returns the recordings matching q; q is valid and its Limit is
	// between 1 and MaxLimit.
	Search(ctx context.Context, q Query) ([]Recording, error)
	Recording(ctx context.Context, id string) (Recording, error)
	// Export writes the decrypted MP3 of recording id to w. An error
	// returned before anything was written gets its own status (say 404);
	// after the first write it can only be reported in the trailer.
	Export(ctx context.Context, id string, w io.Writer) error
	Users(ctx context.Context) ([]User, error)
	// AddUser adds a user that passed User.Validate.
	AddUser(ctx context.Context, u User) error
	RemoveUser(ctx context.Context, username string) error
	// Subscribe returns the events that happen from now on. The channel is
	// closed when ctx is done; the backend may also close it earlier (on
	// shutdown), which ends the client's stream. A slow subscriber must not
	// slow the recorder down: drop or coalesce instead of blocking.
	Subscribe(ctx context.Context) <-chan Event
}

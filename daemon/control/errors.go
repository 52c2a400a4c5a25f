package control

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Errors that a Backend wraps (fmt.Errorf("user %q: %w", name, ErrNotFound))
// to choose the HTTP status; the client returns errors that match them
// with errors.Is.
var (
	ErrNotFound = errors.New("not found")       // 404
	ErrInvalid  = errors.New("invalid request") // 400
	ErrExists   = errors.New("already exists")  // 409
	// ErrNotAllowed: the request is understood but refused (a record
	// action the owner's mode has no use for, a licence with no channel
	// free) (403).
	ErrNotAllowed = errors.New("not allowed")
	// ErrDamaged: a recording file failed authentication (tampered,
	// truncated, missing); nothing of it is sent (422).
	ErrDamaged = errors.New("recording damaged")
	// ErrUnavailable matches the client's error when callvaultd cannot be
	// reached on its socket.
	ErrUnavailable = errors.New("callvaultd unavailable")
)

// Error is an error reported by callvaultd. Its text is the server's
// message; errors.Is matches the sentinel behind its status code.
type Error struct {
	StatusCode int
	Message    string
}

func (e *Error) Error() string { return e.Message }

// Is reports whether the status code stands for target.
func (e *Error) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusBadRequest:
		return target == ErrInvalid
	case http.StatusConflict:
		return target == ErrExists
	case http.StatusForbidden:
		return target == ErrNotAllowed
	case http.StatusUnprocessableEntity:
		return target == ErrDamaged
	}
	return false
}

// statusOf maps a backend error to its HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrExists):
		return http.StatusConflict
	case errors.Is(err, ErrNotAllowed):
		return http.StatusForbidden
	case errors.Is(err, ErrDamaged):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// invalid joins validation problems into one error wrapping ErrInvalid,
// or returns nil when there are none.
func invalid(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
}

// unreachableError is the client's error when the socket cannot be dialled.
type unreachableError struct {
	socket string
	err    error // the dial error, without the "dial unix PATH" prefix
	hint   string
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach callvaultd at %s: %s (%v)", e.socket, e.hint, e.err)
}

func (e *unreachableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

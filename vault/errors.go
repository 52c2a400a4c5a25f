package vault

import "errors"

// Sentinel errors. Returned errors wrap them with the operation and the
// specifics, so test with errors.Is.
var (
	// ErrNotFound: no recording with that id in the index.
	ErrNotFound = errors.New("recording not found")
	// ErrCorrupt: a file failed to parse or to authenticate (a flipped bit,
	// a reordered or foreign segment, a damaged header).
	ErrCorrupt = errors.New("recording file corrupt")
	// ErrTruncated: a file ends before its final segment (or mid-segment).
	ErrTruncated = errors.New("recording file truncated")
	// ErrWrongKey: a file was written under another key-encryption key.
	ErrWrongKey = errors.New("recording file encrypted under another key")
	// ErrHeadSlotFull: the metadata JSON and the audio head do not fit in
	// the head slot. The Writer stays usable: Seal again with less, or Abort.
	ErrHeadSlotFull = errors.New("head slot full")
	// ErrClosed: the Store or the Writer is closed.
	ErrClosed = errors.New("closed")
)

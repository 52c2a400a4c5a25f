// Package vault stores callvault's recordings: encrypted files on disk, the
// keys that protect them, their names, and the Badger index that finds them.
//
// A recording is written while the call runs. [Store.Create] allocates the
// next record id and opens records/YYYY/MM/DD/<id>.part; [Writer.Describe]
// writes the metadata known so far (who, when) into one of two draft slots;
// [Writer.Write] buffers MP3 bytes and appends one AES-256-GCM segment per
// 4096 bytes (about a second of 32 kbps audio), so a crash of the process
// loses at most the unsealed tail. [Writer.Seal] appends the final segment,
// writes the encrypted head slot (the recording's metadata as JSON, the ID3
// tag and the LAME Info frame), fsyncs, hashes the file, renames it to its
// contract name and indexes it with its SHA-256 in one Badger transaction.
// [Store.Export] decrypts and authenticates a file; any tampering,
// truncation or reordering is an error.
//
// Audio is never deleted on failure. After a failed write (a full disk)
// Seal finishes the file in place with what was written; a Seal that fails
// anyway, or [Writer.Close], leaves the .part on disk, and
// [Store.RecoverParts] salvages every .part (after a crash, at start) into a
// sealed recording with status "recovered". Only [Writer.Abort] removes
// one. Values from the wire are clipped so that they never cost a
// recording.
//
// Every recording has its own random data key, wrapped by the
// key-encryption key (KEK). The KEK comes from a systemd credential
// (callvault.kek) or is created once in <Dir>/keys/kek. The byte layout is
// documented in FORMAT.md beside this file.
//
// A [Store] is safe for concurrent use; a [Writer] belongs to one goroutine.
package vault

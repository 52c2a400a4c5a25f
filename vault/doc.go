// Package vault stores callvault's recordings: encrypted files on disk, the
// keys that protect them, their names, and the Badger index that finds them.
//
// A recording is written while the call runs. [Store.Create] allocates the
// next record id and opens records/YYYY/MM/DD/<id>.part; [Writer.Write]
// buffers MP3 bytes and appends one AES-256-GCM segment per 4096 bytes
// (about a second of 32 kbps audio), so a crash of the process loses at most
// the unsealed tail. [Writer.Seal] appends the final segment, writes the
// encrypted head slot (the recording's metadata as JSON, the ID3 tag and the
// LAME Info frame), fsyncs, renames the file to its contract name and indexes
// it in one Badger transaction. [Store.Export] decrypts and authenticates a
// file; any tampering, truncation or reordering is an error.
//
// Every recording has its own random data key, wrapped by the
// key-encryption key (KEK). The KEK comes from a systemd credential
// (callvault.kek) or is created once in <Dir>/keys/kek. The byte layout is
// documented in FORMAT.md beside this file.
//
// A [Store] is safe for concurrent use; a [Writer] belongs to one goroutine.
package vault

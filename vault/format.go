package vault

import (
	"encoding/binary"
	"fmt"
)

// On-disk format, version 1. FORMAT.md documents it byte by byte; keep the
// two in step.
const (
	formatMagic   = "CVAULT"
	formatVersion = 1

	identitySize = 32                     // bytes 0..31: the segment AAD
	wrapAADSize  = 52                     // bytes 0..51: AAD of the key wrap
	headerSize   = 100                    // identity + KEK id + wrap nonce + wrapped key
	keySize      = 32                     // AES-256
	tagSize      = 16                     // GCM tag
	nonceSize    = 12                     // GCM nonce
	kekIDSize    = 8                      // first 8 bytes of SHA-256(KEK)
	wrappedSize  = keySize + tagSize      // wrapped data key
	lenSize      = 4                      // u32 big-endian length prefix
	headSlotSize = 8192                   // head slot plaintext, written once by Seal
	segmentSize  = 4096                   // audio plaintext per segment
	maxSlotSize  = 1 << 20                // reader bound for either size field
	slotCTSize   = headSlotSize + tagSize // head slot ciphertext on disk
	dataOffset   = headerSize + slotCTSize

	flagFinal    = 0x01
	flagHeadSlot = 0x02
)

// header is the plain file header. Bytes 0..31 (the identity) never change
// for the life of a file and are the AAD of the head slot and every segment.
// Bytes 32..99 (the key block) may be rewritten in place by a future key
// rotation, which is why they are not part of the segment AAD.
type header struct {
	recordID   uint64
	start      int64 // unix nanoseconds, UTC
	headSlot   uint32
	segment    uint32
	kekID      [kekIDSize]byte
	wrapNonce  [nonceSize]byte
	wrappedKey [wrappedSize]byte
}

func (h *header) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b[0:6], formatMagic)
	b[6] = formatVersion
	b[7] = 0
	binary.BigEndian.PutUint64(b[8:16], h.recordID)
	binary.BigEndian.PutUint64(b[16:24], uint64(h.start))
	binary.BigEndian.PutUint32(b[24:28], h.headSlot)
	binary.BigEndian.PutUint32(b[28:32], h.segment)
	copy(b[32:40], h.kekID[:])
	copy(b[40:52], h.wrapNonce[:])
	copy(b[52:100], h.wrappedKey[:])
	return b
}

func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerSize {
		return h, fmt.Errorf("header: %d bytes: %w", len(b), ErrTruncated)
	}
	if string(b[0:6]) != formatMagic {
		return h, fmt.Errorf("header: bad magic %q: %w", b[0:6], ErrCorrupt)
	}
	if b[6] != formatVersion {
		return h, fmt.Errorf("header: unsupported version %d: %w", b[6], ErrCorrupt)
	}
	if b[7] != 0 {
		return h, fmt.Errorf("header: unknown flags %#x: %w", b[7], ErrCorrupt)
	}
	h.recordID = binary.BigEndian.Uint64(b[8:16])
	h.start = int64(binary.BigEndian.Uint64(b[16:24]))
	h.headSlot = binary.BigEndian.Uint32(b[24:28])
	h.segment = binary.BigEndian.Uint32(b[28:32])
	if h.headSlot < 2*lenSize || h.headSlot > maxSlotSize {
		return h, fmt.Errorf("header: head slot size %d out of range: %w", h.headSlot, ErrCorrupt)
	}
	if h.segment == 0 || h.segment > maxSlotSize {
		return h, fmt.Errorf("header: segment size %d out of range: %w", h.segment, ErrCorrupt)
	}
	copy(h.kekID[:], b[32:40])
	copy(h.wrapNonce[:], b[40:52])
	copy(h.wrappedKey[:], b[52:100])
	return h, nil
}

// segmentNonce is the GCM nonce of the head slot (counter 0, flagHeadSlot)
// or of audio segment counter (from 1; flagFinal on the last one): the
// counter as 8 bytes big-endian, 3 zero bytes, the flag byte.
func segmentNonce(dst *[nonceSize]byte, counter uint64, flag byte) {
	binary.BigEndian.PutUint64(dst[0:8], counter)
	dst[8], dst[9], dst[10] = 0, 0, 0
	dst[11] = flag
}

// encodeHeadSlot lays out the head slot plaintext: u32 len + meta JSON,
// u32 len + audio head, zero fill to size.
func encodeHeadSlot(meta, head []byte, size int) ([]byte, error) {
	need := 2*lenSize + len(meta) + len(head)
	if need > size {
		return nil, fmt.Errorf("head slot: metadata %d + audio head %d bytes exceed %d: %w",
			len(meta), len(head), size-2*lenSize, ErrHeadSlotFull)
	}
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p[0:4], uint32(len(meta)))
	n := 4 + copy(p[4:], meta)
	binary.BigEndian.PutUint32(p[n:n+4], uint32(len(head)))
	copy(p[n+4:], head)
	return p, nil
}

// decodeHeadSlot splits an authenticated head slot plaintext.
func decodeHeadSlot(p []byte) (meta, head []byte, err error) {
	if len(p) < lenSize {
		return nil, nil, fmt.Errorf("head slot: too short: %w", ErrCorrupt)
	}
	m := binary.BigEndian.Uint32(p[0:4])
	if uint64(m) > uint64(len(p)-lenSize) {
		return nil, nil, fmt.Errorf("head slot: metadata length %d out of range: %w", m, ErrCorrupt)
	}
	meta = p[4 : 4+m]
	rest := p[4+m:]
	if len(rest) < lenSize {
		return nil, nil, fmt.Errorf("head slot: no audio head length: %w", ErrCorrupt)
	}
	a := binary.BigEndian.Uint32(rest[0:4])
	if uint64(a) > uint64(len(rest)-lenSize) {
		return nil, nil, fmt.Errorf("head slot: audio head length %d out of range: %w", a, ErrCorrupt)
	}
	return meta, rest[4 : 4+a], nil
}

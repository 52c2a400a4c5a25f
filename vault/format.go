package vault

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
)

// On-disk format. New files are version 3; versions 2 (the same layout,
// the data key wrapped unmasked) and 1 (no draft slots either) are still
// read. FORMAT.md documents them byte by byte; keep the two in step.
const (
	formatMagic    = "CVAULT"
	formatVersion  = 3 // written: the wrapped data key is masked by an erasure secret (secrets.go)
	formatVersion2 = 2 // read: data key wrapped as it is
	formatVersion1 = 1 // read: no draft slots

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

	// Version 2: two draft slots, A then B, after the head slot.
	draftSlotSize  = 4096                                   // on disk, each
	draftSeqSize   = 8                                      // u64 seq in clear
	draftPlainSize = draftSlotSize - draftSeqSize - tagSize // 4072: u32 m + JSON + zero fill
	draftOffset    = headerSize + slotCTSize                // 8308 in a written file
	dataOffset     = draftOffset + 2*draftSlotSize          // 16500 in a written file

	flagFinal    = 0x01
	flagHeadSlot = 0x02
	flagDraft    = 0x03
)

// header is the plain file header. Bytes 0..31 (the identity) never change
// for the life of a file and are the AAD of the head slot, of the draft
// slots and of every segment. Bytes 32..99 (the key block) may be rewritten
// in place by a future key rotation, which is why they are not part of that
// AAD.
type header struct {
	version    byte // as read; 0 in a header being made: marshal writes formatVersion
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
	b[6] = h.version
	if b[6] == 0 {
		b[6] = formatVersion
	}
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
	if b[6] != formatVersion && b[6] != formatVersion2 && b[6] != formatVersion1 {
		return h, fmt.Errorf("header: unsupported version %d: %w", b[6], ErrCorrupt)
	}
	if b[7] != 0 {
		return h, fmt.Errorf("header: unknown flags %#x: %w", b[7], ErrCorrupt)
	}
	h.version = b[6]
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

// masked reports whether the header's wrapped data key is masked by an
// erasure secret (version 3, and a header being made).
func (h *header) masked() bool { return h.version == 0 || h.version >= formatVersion }

// layout is where the parts of a file begin, from its header.
type layout struct {
	drafts int64 // offset of draft slot A (B follows); 0 in version 1: none
	data   int64 // offset of the first audio segment
}

func (h *header) layout() layout {
	slotEnd := int64(headerSize) + int64(h.headSlot) + tagSize
	if h.version == formatVersion1 {
		return layout{data: slotEnd}
	}
	return layout{drafts: slotEnd, data: slotEnd + 2*draftSlotSize}
}

// segmentNonce is the GCM nonce of the head slot (counter 0, flagHeadSlot),
// of audio segment counter (from 1; flagFinal on the last one) or of draft
// seq (flagDraft): the counter as 8 bytes big-endian, 3 zero bytes, the
// flag byte.
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
	p := make([]byte, size, size+tagSize) // room for the tag: sealed in place
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

// draftSlot is the slot (0: A, 1: B) that draft seq goes to: odd seqs to
// A, even ones to B, so a torn write never destroys the last good draft.
func draftSlot(seq uint64) int64 { return int64(1 - seq%2) }

// sealDraft fills dst (draftSlotSize bytes) with draft seq: u64 seq, then
// GCM(nonce(seq, flagDraft), u32 m | meta | zero fill, aad). meta must be
// at most draftPlainSize-lenSize bytes.
func sealDraft(dst []byte, aead cipher.AEAD, aad []byte, seq uint64, meta []byte) {
	binary.BigEndian.PutUint64(dst[:draftSeqSize], seq)
	p := dst[draftSeqSize : draftSeqSize+draftPlainSize]
	binary.BigEndian.PutUint32(p[:lenSize], uint32(len(meta)))
	clear(p[lenSize+copy(p[lenSize:], meta):])
	var nonce [nonceSize]byte
	segmentNonce(&nonce, seq, flagDraft)
	aead.Seal(p[:0], nonce[:], p, aad)
}

// openDraft returns the seq and metadata JSON of draft slot i (0: A, 1: B)
// when it authenticates and sits in the slot its seq belongs to; ok is
// false for an empty (all zero), torn or foreign slot. slot is decrypted in
// place.
func openDraft(slot []byte, i int64, aead cipher.AEAD, aad []byte) (seq uint64, meta []byte, ok bool) {
	if len(slot) != draftSlotSize {
		return 0, nil, false
	}
	seq = binary.BigEndian.Uint64(slot[:draftSeqSize])
	if seq == 0 || draftSlot(seq) != i {
		return 0, nil, false
	}
	var nonce [nonceSize]byte
	segmentNonce(&nonce, seq, flagDraft)
	p, err := aead.Open(slot[draftSeqSize:draftSeqSize], nonce[:], slot[draftSeqSize:], aad)
	if err != nil {
		return 0, nil, false
	}
	m := binary.BigEndian.Uint32(p[:lenSize])
	if uint64(m) > uint64(len(p)-lenSize) {
		return 0, nil, false
	}
	return seq, p[lenSize : lenSize+m], true
}

// bestDraft returns the metadata of the authentic draft with the highest
// seq in drafts (both slots, 2·draftSlotSize bytes, decrypted in place), or
// nil.
func bestDraft(drafts []byte, aead cipher.AEAD, aad []byte) []byte {
	if len(drafts) != 2*draftSlotSize {
		return nil
	}
	var best []byte
	var bestSeq uint64
	for i := range int64(2) {
		seq, meta, ok := openDraft(drafts[i*draftSlotSize:(i+1)*draftSlotSize], i, aead, aad)
		if ok && seq > bestSeq {
			best, bestSeq = meta, seq
		}
	}
	return best
}

package vault

import (
	"bufio"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// decryptFile reads a whole sealed file (format version 1 or 2) from r,
// authenticating every part, and writes the audio head and audio to w.
// wantID, when not 0, is the record id the header must carry. It returns
// the metadata JSON of the head slot. k opens the data key: the store's key
// ring (which picks the KEK the header names) or one KEK. It never trusts a
// length before bounding it.
func decryptFile(r io.Reader, k unwrapper, wantID uint64, w io.Writer) ([]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	h, raw, aead, err := readHeader(br, k, wantID)
	if err != nil {
		return nil, err
	}
	aad := raw[:identitySize]
	var nonce [nonceSize]byte

	pt, err := readHeadSlot(br, &h, aead, aad)
	if err != nil {
		return nil, err
	}
	meta, head, err := decodeHeadSlot(pt)
	if err != nil {
		return nil, err
	}
	if h.layout().drafts != 0 {
		// Seal clears the draft slots once the head slot is written.
		b, err := br.Peek(2 * draftSlotSize)
		if err != nil {
			return nil, readErr("draft slots", err)
		}
		if !allZero(b) {
			return nil, fmt.Errorf("draft slots of a sealed file not cleared: %w", ErrCorrupt)
		}
		br.Discard(len(b))
	}
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}

	full := int(h.segment) + tagSize
	ct := make([]byte, full)
	out := make([]byte, 0, h.segment)
	for counter := uint64(1); ; counter++ {
		seg, err := readSegment(br, ct, counter)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no final segment after segment %d: %w", counter-1, ErrTruncated)
		}
		if err != nil {
			return nil, err
		}
		_, perr := br.Peek(1)
		last := errors.Is(perr, io.EOF)
		if perr != nil && !last {
			return nil, fmt.Errorf("read after segment %d: %w", counter, perr)
		}
		var p []byte
		if last {
			p, err = openSegment(aead, &nonce, counter, flagFinal, out, seg, aad)
			if err != nil {
				if _, err2 := openSegment(aead, &nonce, counter, 0, out, seg, aad); err2 == nil {
					return nil, fmt.Errorf("no final segment after segment %d: %w", counter, ErrTruncated)
				}
				return nil, fmt.Errorf("segment %d (last): authentication failed (tampered, reordered, truncated or from another file): %w", counter, ErrCorrupt)
			}
		} else {
			p, err = openSegment(aead, &nonce, counter, 0, out, seg, aad)
			if err != nil {
				if _, err2 := openSegment(aead, &nonce, counter, flagFinal, out, seg, aad); err2 == nil {
					return nil, fmt.Errorf("data after final segment %d: %w", counter, ErrCorrupt)
				}
				return nil, fmt.Errorf("segment %d: authentication failed (tampered, reordered or from another file): %w", counter, ErrCorrupt)
			}
			if len(seg) != full {
				return nil, fmt.Errorf("segment %d: short segment before the final one: %w", counter, ErrCorrupt)
			}
		}
		if _, err := w.Write(p); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
		if last {
			return meta, nil
		}
	}
}

// readHeader reads the 100-byte header from r, checks it (and the record
// id, when wantID is not 0) and unwraps the data key with the KEK its key
// block names (ErrWrongKey, naming the id, when k lacks it). It returns the
// parsed header, its raw bytes (raw[:identitySize] is the AAD of every
// slot and segment) and the data key's AEAD.
func readHeader(r io.Reader, k unwrapper, wantID uint64) (header, []byte, cipher.AEAD, error) {
	raw := make([]byte, headerSize)
	if _, err := io.ReadFull(r, raw); err != nil {
		return header{}, nil, nil, readErr("header", err)
	}
	h, err := parseHeader(raw)
	if err != nil {
		return h, nil, nil, err
	}
	if wantID != 0 && h.recordID != wantID {
		return h, nil, nil, fmt.Errorf("header: record id %d, want %d: %w", h.recordID, wantID, ErrCorrupt)
	}
	aead, err := k.unwrap(&h, raw)
	if err != nil {
		return h, nil, nil, err
	}
	return h, raw, aead, nil
}

// readHeadSlot reads the head slot of h from r and opens it. All zeros
// means the file was never sealed (ErrTruncated); anything else that does
// not authenticate is ErrCorrupt.
func readHeadSlot(r io.Reader, h *header, aead cipher.AEAD, aad []byte) ([]byte, error) {
	slot := make([]byte, int(h.headSlot)+tagSize)
	if _, err := io.ReadFull(r, slot); err != nil {
		return nil, readErr("head slot", err)
	}
	var nonce [nonceSize]byte
	segmentNonce(&nonce, 0, flagHeadSlot)
	pt, err := aead.Open(slot[:0], nonce[:], slot, aad)
	if err != nil {
		if allZero(slot) {
			return nil, fmt.Errorf("head slot empty: file never sealed: %w", ErrTruncated)
		}
		return nil, fmt.Errorf("head slot: authentication failed: %w", ErrCorrupt)
	}
	return pt, nil
}

// readSegment reads segment counter from r: its u32 length, bounded by
// len(ct), then that many bytes of ciphertext into ct, which it returns.
// It returns io.EOF itself when r ends before the length.
func readSegment(r io.Reader, ct []byte, counter uint64) ([]byte, error) {
	if _, err := io.ReadFull(r, ct[:lenSize]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, readErr(fmt.Sprintf("segment %d length", counter), err)
	}
	n := binary.BigEndian.Uint32(ct[:lenSize])
	if n < tagSize || uint64(n) > uint64(len(ct)) {
		return nil, fmt.Errorf("segment %d: length %d out of range: %w", counter, n, ErrCorrupt)
	}
	seg := ct[:n]
	if _, err := io.ReadFull(r, seg); err != nil {
		return nil, readErr(fmt.Sprintf("segment %d", counter), err)
	}
	return seg, nil
}

func openSegment(aead cipher.AEAD, nonce *[nonceSize]byte, counter uint64, flag byte, dst, seg, aad []byte) ([]byte, error) {
	segmentNonce(nonce, counter, flag)
	return aead.Open(dst[:0], nonce[:], seg, aad)
}

// readErr maps a short read to ErrTruncated.
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w", what, ErrTruncated)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

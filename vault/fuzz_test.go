package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// buildFile is a second, deliberately naive implementation of FORMAT.md,
// used to cross-check the reader and to make small fuzz seeds (head slot
// and segment sizes are header fields, so tiny ones are legal).
func buildFile(t testing.TB, kekRaw, dataKey []byte, id uint64, slotSize, segSize int, meta, head, audio []byte) []byte {
	t.Helper()
	gcm := func(key []byte) cipher.AEAD {
		b, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		a, err := cipher.NewGCM(b)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	sum := sha256.Sum256(kekRaw)
	h := []byte("CVAULT\x01\x00")
	h = binary.BigEndian.AppendUint64(h, id)
	h = binary.BigEndian.AppendUint64(h, 1_700_000_000_000_000_000)
	h = binary.BigEndian.AppendUint32(h, uint32(slotSize))
	h = binary.BigEndian.AppendUint32(h, uint32(segSize))
	h = append(h, sum[:8]...)
	h = append(h, bytes.Repeat([]byte{9}, 12)...) // wrap nonce
	h = gcm(kekRaw).Seal(h, h[40:52], dataKey, h[:52])
	aad := h[:32]
	a := gcm(dataKey)
	nonce := func(c uint64, flag byte) []byte {
		return append(binary.BigEndian.AppendUint64(nil, c), 0, 0, 0, flag)
	}
	slot := binary.BigEndian.AppendUint32(nil, uint32(len(meta)))
	slot = append(slot, meta...)
	slot = binary.BigEndian.AppendUint32(slot, uint32(len(head)))
	slot = append(slot, head...)
	slot = append(slot, make([]byte, slotSize-len(slot))...)
	f := a.Seal(h, nonce(0, 0x02), slot, aad)
	for c := uint64(1); ; c++ {
		n := min(segSize, len(audio))
		var flag byte
		if n == len(audio) {
			flag = 0x01
		}
		ct := a.Seal(nil, nonce(c, flag), audio[:n], aad)
		f = binary.BigEndian.AppendUint32(f, uint32(len(ct)))
		f = append(f, ct...)
		audio = audio[n:]
		if flag == 0x01 {
			return f
		}
	}
}

var fuzzKEK = bytes.Repeat([]byte{7}, 32)

func TestFormatIndependentEncoder(t *testing.T) {
	k, err := newKEK(fuzzKEK, "test")
	if err != nil {
		t.Fatal(err)
	}
	head, audio := fakeMP3(10_000)
	for _, sz := range []struct{ slot, seg int }{{headSlotSize, segmentSize}, {512, 16}, {400, 1}} {
		f := buildFile(t, fuzzKEK, bytes.Repeat([]byte{3}, 32), 2026000000042, sz.slot, sz.seg, []byte(`{"id":"2026000000042"}`), head, audio)
		var out bytes.Buffer
		meta, err := decryptFile(bytes.NewReader(f), k, 2026000000042, &out)
		if err != nil {
			t.Fatalf("sizes %v: %v", sz, err)
		}
		if string(meta) != `{"id":"2026000000042"}` || !bytes.Equal(out.Bytes(), append(bytes.Clone(head), audio...)) {
			t.Errorf("sizes %v: decrypted content differs", sz)
		}
		if _, err := decryptFile(bytes.NewReader(f), k, 2026000000043, io.Discard); !errors.Is(err, ErrCorrupt) {
			t.Errorf("sizes %v: wrong expected id: %v", sz, err)
		}
	}
}

// FuzzOpenFile checks that decrypting arbitrary bytes never panics, and
// that nothing but an authentic file decrypts.
func FuzzOpenFile(f *testing.F) {
	k, err := newKEK(fuzzKEK, "test")
	if err != nil {
		f.Fatal(err)
	}
	dk := bytes.Repeat([]byte{3}, 32)
	// Small sizes keep seeds short, so the fuzzer mutates structure
	// rather than spending its time minimising 8 KB head slots.
	f.Add(buildFile(f, fuzzKEK, dk, 2026000000001, 64, 16, []byte(`{"id":"2026000000001"}`), []byte("ID3"), []byte("some audio bytes, three segments")))
	f.Add(buildFile(f, fuzzKEK, dk, 2026000000002, 16, 8, nil, nil, nil))
	f.Add(buildFile(f, fuzzKEK, dk, 2026000000003, 8, 1, nil, nil, []byte("ab")))
	f.Add([]byte("CVAULT\x01\x00"))
	f.Add(make([]byte, headerSize+8))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		meta, err := decryptFile(bytes.NewReader(data), k, 0, &out)
		if err == nil && meta == nil && out.Len() > 0 && len(data) < headerSize {
			t.Fatalf("decrypted %d bytes from a %d-byte input", out.Len(), len(data))
		}
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrWrongKey) {
			t.Fatalf("unclassified error: %v", err)
		}
		_, _, _ = decodeHeadSlot(data)
	})
}

// FuzzVerifyFile puts arbitrary bytes where a real sealed recording lies
// and runs Verify and Export over them. Nothing may panic; any bytes but
// the original ones must be found tampered or truncated and export
// nothing. The index holds no SHA-256 for the file, so authentication
// alone must tell.
func FuzzVerifyFile(f *testing.F) {
	s := openTest(f, f.TempDir())
	head, audio := fakeMP3(6000)
	rec := record(f, s, Recording{User: "fuzz"}, head, audio)
	rec.SHA256 = ""
	if err := s.index(rec); err != nil {
		f.Fatal(err)
	}
	path := s.Path(rec)
	orig := readFile(f, path)
	f.Add(orig)
	f.Add(orig[:len(orig)-1])
	f.Add(append(bytes.Clone(orig), 0))
	f.Add(flipAt(func(n int) int { return n / 2 })(bytes.Clone(orig)))
	f.Add(orig[:headerSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		writeFile(t, path, data)
		c, err := s.Verify(rec.ID)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		var w countingWriter
		xerr := s.Export(rec.ID, &w)
		if bytes.Equal(data, orig) {
			if c.Status != CheckIntact || xerr != nil || w.n != len(head)+len(audio) {
				t.Fatalf("the original file: %+v, export %d bytes, %v", c, w.n, xerr)
			}
			return
		}
		if c.Status != CheckTampered && c.Status != CheckTruncated {
			t.Fatalf("a changed file verified as %+v", c)
		}
		if xerr == nil || w.n != 0 {
			t.Fatalf("a changed file exported %d bytes, error %v", w.n, xerr)
		}
		if !errors.Is(xerr, ErrCorrupt) && !errors.Is(xerr, ErrTruncated) && !errors.Is(xerr, ErrWrongKey) {
			t.Fatalf("unclassified export error: %v", xerr)
		}
	})
}

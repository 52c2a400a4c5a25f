package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// salvageBufSize is SalvageMP3's read buffer: many frames (at most 1441
// bytes each), so that frames are written in runs.
const salvageBufSize = 64 << 10

// Salvaged describes the frames SalvageMP3 kept.
type Salvaged struct {
	Frames int64 // complete MPEG audio frames copied
	Bytes  int64 // their total size
	// Header is the header of the first frame (the format of the stream),
	// zero when Frames is 0.
	Header [4]byte
	// Dropped counts the bytes not copied: an incomplete last frame and
	// bytes that are not frames of the stream.
	Dropped int64
	// MusicCRC is the CRC-16 of the frames copied, the LAME tag's music CRC.
	MusicCRC uint16
}

// Samples returns the samples per channel the frames decode to once the
// decoder drops delay samples at the start and padding at the end (see
// InfoFrame); 0 when there are fewer.
func (s Salvaged) Samples(delay, padding int) int64 {
	f, err := parseFrameHeader(s.Header)
	if s.Frames <= 0 || err != nil {
		return 0
	}
	return max(s.Frames*int64(f.samples)-int64(delay)-int64(padding), 0)
}

// Duration returns Samples(delay, padding) as time.
func (s Salvaged) Duration(delay, padding int) time.Duration {
	f, err := parseFrameHeader(s.Header)
	if err != nil {
		return 0
	}
	return time.Duration(s.Samples(delay, padding)) * time.Second / time.Duration(f.sampleRate)
}

// SalvageMP3 copies the complete MPEG Layer III frames of r to w: the
// stream of an unfinished recording, which may end mid-frame. The first
// frame, confirmed by the header of the next one (or by the end of r right
// after it), fixes the format; from then on a position that does not hold a
// header of that stream (sameStream) is skipped byte by byte up to the next
// one, and the skipped bytes, like an incomplete last frame, are counted in
// Dropped. Consecutive frames go to w in one Write per 64 KiB read; memory
// is bounded whatever the length and nothing is allocated per frame. On a
// read or write error the counts are those of the frames read so far.
//
// To build a file, run it once into io.Discard for the counts, then write
// Tags.ID3(), InfoFrame(s, EncoderDelay, DecoderDelay) and the frames of a
// second run (which gives the same Salvaged).
func SalvageMP3(r io.Reader, w io.Writer) (Salvaged, error) {
	var s Salvaged
	buf := make([]byte, salvageBufSize)
	n, eof := 0, false
	for !eof {
		k, err := io.ReadFull(r, buf[n:])
		n += k
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			eof = true
		case err != nil:
			return s, fmt.Errorf("salvage mp3: read: %w", err)
		}
		p, err := s.frames(buf[:n], eof, w)
		if err != nil {
			return s, fmt.Errorf("salvage mp3: write: %w", err)
		}
		n = copy(buf, buf[p:n])
	}
	s.Dropped += int64(n)
	return s, nil
}

// frames copies the complete frames at the head of b to w and returns how
// many bytes of b it consumed; the rest (an incomplete frame or header) is
// for the next call, or dropped when eof says no more bytes come. Runs of
// consecutive frames go to w in one Write.
func (s *Salvaged) frames(b []byte, eof bool, w io.Writer) (int, error) {
	p, run := 0, 0 // next position; start of the run not yet written
	for len(b)-p >= 4 {
		size, need, ok := s.frameAt(b[p:], eof)
		if !ok {
			if _, err := write(w, b[run:p]); err != nil {
				return 0, err
			}
			skip := bytes.IndexByte(b[p+1:], 0xFF) + 1
			if skip == 0 {
				skip = len(b) - p
			}
			s.Dropped += int64(skip)
			p += skip
			run = p
			continue
		}
		if need > len(b)-p {
			break
		}
		if s.Frames == 0 {
			s.Header = [4]byte(b[p:])
		}
		s.MusicCRC = lameCRC(s.MusicCRC, b[p:p+size])
		s.Frames++
		s.Bytes += int64(size)
		p += size
	}
	_, err := write(w, b[run:p])
	return p, err
}

// frameAt reports whether b starts with a frame header of the stream, the
// size of that frame, and how many bytes of b it takes to copy it. Before
// the first frame, any Layer III header qualifies whose frame is followed
// by a header of the same stream, or by the end of the input (or part of a
// header and the end): the next header must be in b too.
func (s *Salvaged) frameAt(b []byte, eof bool) (size, need int, ok bool) {
	h := [4]byte(b)
	if s.Frames > 0 && !sameStream(s.Header, h[:]) {
		return 0, 0, false
	}
	size, err := frameSize(h)
	if err != nil {
		return 0, 0, false
	}
	if s.Frames > 0 {
		return size, size, true
	}
	next := b[min(size, len(b)):min(size+4, len(b))]
	if len(next) < 4 && !eof {
		return size, size + 4, true // more bytes will tell
	}
	return size, size, sameStream(h, next)
}

// write writes p to w unless it is empty.
func write(w io.Writer, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return w.Write(p)
}

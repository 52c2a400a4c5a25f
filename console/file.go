package main

import (
	"io"

	"github.com/callvault/callvault/internal/atomicfile"
)

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeFileAtomic writes path through fill (atomicfile.Write) and returns
// how many bytes went in. The file is readable by its owner only: it holds
// a decrypted call.
func writeFileAtomic(path string, fill func(w *countingWriter) error) (int64, error) {
	var n int64
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		err := fill(cw)
		n = cw.n
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

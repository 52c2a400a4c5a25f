package target_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/callvault/callvault/vault/target"
)

// BenchmarkDirPut is one copy to a dir target on the local disk: the
// temporary file, fsync, rename, directory fsync and the read-back hash.
func BenchmarkDirPut(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			d, err := target.NewDir(target.Config{Name: "nas", Path: filepath.Join(b.TempDir(), "nas")})
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, size)
			rand.Read(data)
			h := sha256.Sum256(data)
			sum := hex.EncodeToString(h[:])
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				if _, err := d.Put(context.Background(), fmt.Sprintf("k/%d", i%4), bytes.NewReader(data), int64(size), sum); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

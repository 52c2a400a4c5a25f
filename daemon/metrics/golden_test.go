package metrics_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.txt from the handler's output")

// TestGolden: testdata/metrics.txt is the whole exposition of richStatus,
// for a reader to see. Rewrite it with go test ./daemon/metrics -run
// TestGolden -update.
func TestGolden(t *testing.T) {
	s := start(t, fixed(richStatus()))
	code, body, _ := get(t, client, "GET", s.url+"/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	path := filepath.Join("testdata", "metrics.txt")
	if *update {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if body != string(golden) {
		t.Errorf("the exposition differs from %s (rewrite it with -update if the change is meant):\n%s", path, body)
	}
	// The golden file is itself a valid exposition of the same figures.
	got, err := parse(string(golden))
	if err != nil {
		t.Fatal(err)
	}
	compare(t, got, want(richStatus()))
}

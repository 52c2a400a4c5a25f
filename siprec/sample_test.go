package siprec

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// loadSample reads testdata/name, replaces the {{KEY}} placeholders with
// vars (defaults for HOST, TRANSPORT, BRANCH, CALLID, TOTAG) and fills in
// the Content-Length.
func loadSample(t testing.TB, name string, vars map[string]string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	def := map[string]string{
		"HOST": "192.0.2.99", "TRANSPORT": "UDP", "BRANCH": "z9hG4bK-sample",
		"CALLID": "sample-call@10.10.1.20", "TOTAG": "tag-sample",
	}
	for k, v := range vars {
		def[k] = v
	}
	for k, v := range def {
		raw = bytes.ReplaceAll(raw, []byte("{{"+k+"}}"), []byte(v))
	}
	_, body := splitSample(raw)
	return bytes.Replace(raw, []byte("{{LEN}}"), []byte(strconv.Itoa(len(body))), 1)
}

// splitSample splits a raw SIP message into its header fields (lower-case
// names, first value wins) and its body.
func splitSample(raw []byte) (map[string]string, []byte) {
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	h := make(map[string]string)
	for i, l := range strings.Split(string(head), "\r\n") {
		if i == 0 {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := h[k]; !dup {
			h[k] = strings.TrimSpace(v)
		}
	}
	return h, body
}

// sampleBody returns the Content-Type and body of a testdata sample.
func sampleBody(t testing.TB, name string) (string, []byte) {
	t.Helper()
	h, body := splitSample(loadSample(t, name, nil))
	return h["content-type"], body
}

// sampleFiles lists every testdata/*/*.sip file.
func sampleFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.sip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var vendors []string
	for _, f := range files {
		rel, _ := filepath.Rel("testdata", f)
		// The RFC 4475 torture messages and fuzz corpora are not vendor
		// samples: they have tests of their own.
		if dir := filepath.Dir(rel); dir != "rfc4475" && dir != "fuzz" {
			vendors = append(vendors, rel)
		}
	}
	return vendors
}

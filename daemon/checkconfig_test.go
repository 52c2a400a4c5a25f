package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cred := write("s3.cred", "AK:SECRET\n")
	good := write("good.toml", `[sip]
allow = ["10.0.0.0/8"]
[storage]
keep_local = "30d"
[[storage.target]]
name = "archive"
kind = "s3"
endpoint = "https://s3.example.net"
bucket = "recordings"
credentials = "`+cred+`"
`)
	var out, errOut bytes.Buffer
	if err := runCheckConfig([]string{"-config", good}, &out, &errOut); err != nil {
		t.Fatalf("a valid file: %v", err)
	}
	for _, want := range []string{"is valid", `allow = ["10.0.0.0/8"]`, `keep_local = "30d"`, "[[storage.target]]", `name = "archive"`, `min_free = "1GiB, 1%"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("effective configuration lacks %q:\n%s", want, out.String())
		}
	}

	bad := write("bad.toml", `[storage]
node = 12
keep_local = "soon"
[[storage.target]]
name = "archive"
kind = "s3"
endpoint = "https://s3.example.net"
bucket = "recordings"
credentials = "`+filepath.Join(dir, "missing.cred")+`"
`)
	out.Reset()
	err := runCheckConfig([]string{"-config", bad}, &out, &errOut)
	if err == nil || out.Len() != 0 {
		t.Fatalf("an invalid file: %v, printed %q", err, out.String())
	}
	for _, want := range []string{"storage.node: 12", "storage.keep_local", "missing.cred"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if err := runCheckConfig([]string{"-config", write("unknown.toml", "bogus = 1\n")}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `unknown key "bogus"`) {
		t.Errorf("an unknown key: %v", err)
	}
}

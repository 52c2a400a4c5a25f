package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxExposure is the highest `systemd-analyze security` score the unit may
// have (issue 15: the best-confined Debian daemons reach 2.0 or less).
const maxExposure = 2.0

const unitPath = "lib/systemd/system/callvaultd.service"

// TestDebUnitStartsTheDaemonFromSbin: the unit runs /usr/sbin/callvaultd
// with the packaged configuration, as the service user.
func TestDebUnitStartsTheDaemonFromSbin(t *testing.T) {
	d := deb(t)
	unit, err := os.ReadFile(filepath.Join(d.root, unitPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nExecStart=/usr/sbin/callvaultd -config /etc/callvault/callvaultd.toml\n",
		"\nUser=callvault\n",
		"\nType=notify\n",
		"\n#LoadCredential=callvault.kek:/etc/callvault/kek\n",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestDebUnitVerifies: systemd-analyze verify finds nothing to say of the
// unit, run against the packaged binary and man page (ExecStart pointed at
// the unpacked binary, MANPATH at the unpacked pages).
func TestDebUnitVerifies(t *testing.T) {
	d := deb(t)
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: the unit is not verified here")
	}
	unit, err := os.ReadFile(filepath.Join(d.root, unitPath))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	local := strings.Replace(string(unit), "\nExecStart=/usr/sbin/", "\nExecStart="+filepath.Join(d.root, "usr/sbin")+"/", 1)
	path := filepath.Join(dir, "callvaultd.service")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(d.root, "usr/share/man"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDebUnitExposure: systemd-analyze security rates the packaged unit
// at most maxExposure.
func TestDebUnitExposure(t *testing.T) {
	d := deb(t)
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: the unit's exposure is not measured here")
	}
	out, err := exec.Command(analyze, "security", "--offline=true", filepath.Join(d.root, unitPath)).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for callvaultd\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v, no exposure level in:\n%s", err, out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security --offline=true: exposure %.1f (at most %.1f)", score, maxExposure)
	if score > maxExposure {
		t.Errorf("the unit's exposure is %.1f, above %.1f:\n%s", score, maxExposure, out)
	}
}

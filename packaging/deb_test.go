package packaging

import (
	"compress/gzip"
	"debug/buildinfo"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// controlFields parses the package's control file; a continuation line
// is added to its field.
func controlFields(t *testing.T, d *debPackage) map[string]string {
	t.Helper()
	fields := map[string]string{}
	var last string
	for line := range strings.SplitSeq(run(t, "dpkg-deb", "-f", d.path), "\n") {
		if strings.HasPrefix(line, " ") && last != "" {
			fields[last] += "\n" + strings.TrimSpace(line)
			continue
		}
		if name, value, ok := strings.Cut(line, ":"); ok {
			last = name
			fields[name] = strings.TrimSpace(value)
		}
	}
	return fields
}

// dependsOn lists the packages a Depends field names, alternatives
// included, without versions.
func dependsOn(depends string) []string {
	var names []string
	for _, alt := range strings.FieldsFunc(depends, func(r rune) bool { return r == ',' || r == '|' }) {
		name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
		names = append(names, name)
	}
	return names
}

func TestDebControlFields(t *testing.T) {
	d := deb(t)
	f := controlFields(t, d)
	want := map[string]string{"Package": "callvault", "Architecture": runtime.GOARCH, "Section": "net", "Priority": "optional"}
	for name, value := range want {
		if f[name] != value {
			t.Errorf("%s: %q, want %q", name, f[name], value)
		}
	}
	if !strings.HasSuffix(d.path, "/callvault_"+f["Version"]+"_"+runtime.GOARCH+".deb") || !regexp.MustCompile(`^[0-9][0-9A-Za-z.+~-]*$`).MatchString(f["Version"]) {
		t.Errorf("Version %q: not a Debian version, or not the one in the file name %s", f["Version"], filepath.Base(d.path))
	}
	if !regexp.MustCompile(`^.+ <[^@ ]+@[^@ ]+>$`).MatchString(f["Maintainer"]) {
		t.Errorf("Maintainer %q: want a name and an address", f["Maintainer"])
	}
	if synopsis, long, _ := strings.Cut(f["Description"], "\n"); synopsis == "" || len(long) < 80 {
		t.Errorf("Description %q: want a synopsis and a long description", f["Description"])
	}
	deps := dependsOn(f["Depends"])
	for _, p := range []string{"libmp3lame0", "libbcg729-0", "libc6", "adduser"} {
		if !slices.Contains(deps, p) {
			t.Errorf("Depends %q lacks %s", f["Depends"], p)
		}
	}
	t.Logf("Version: %s; Depends: %s", f["Version"], f["Depends"])
}

// TestDebDependsOnEveryLinkedLibrary: the package of each shared library
// the binaries load here is in Depends.
func TestDebDependsOnEveryLinkedLibrary(t *testing.T) {
	d := deb(t)
	needTool(t, "ldd")
	deps := dependsOn(controlFields(t, d)["Depends"])
	for _, bin := range []string{"usr/sbin/callvaultd", "usr/bin/callvault"} {
		for _, lib := range linkedLibraries(t, filepath.Join(d.root, bin)) {
			out, err := exec.Command("dpkg-query", "-S", lib).Output()
			if err != nil { // merged /usr: dpkg may know the other path
				out, err = exec.Command("dpkg-query", "-S", otherUsrPath(lib)).Output()
			}
			if err != nil {
				t.Errorf("%s links %s, which no installed package holds", bin, lib)
				continue
			}
			pkg, _, _ := strings.Cut(string(out), ":")
			if !slices.Contains(deps, pkg) {
				t.Errorf("%s links %s from %s, which Depends lacks", bin, lib, pkg)
			}
		}
	}
}

// linkedLibraries are the shared libraries ldd resolves for bin (not the
// vDSO nor the dynamic loader, which libc6 holds).
func linkedLibraries(t *testing.T, bin string) []string {
	var libs []string
	for line := range strings.SplitSeq(run(t, "ldd", bin), "\n") {
		_, path, ok := strings.Cut(line, "=> ")
		if !ok {
			continue
		}
		path, _, _ = strings.Cut(path, " (")
		libs = append(libs, strings.TrimSpace(path))
	}
	if len(libs) == 0 {
		t.Fatalf("ldd %s: no library found", bin)
	}
	return libs
}

// otherUsrPath is /lib/x for /usr/lib/x and the other way round.
func otherUsrPath(path string) string {
	if rest, ok := strings.CutPrefix(path, "/usr"); ok {
		return rest
	}
	return "/usr" + path
}

// debFile is a line of dpkg-deb -c.
type debFile struct{ mode, owner string }

// TestDebFilesModesAndOwners: the package holds exactly these files, each
// root's, with these modes; its directories are 0755.
func TestDebFilesModesAndOwners(t *testing.T) {
	d := deb(t)
	want := map[string]string{
		"./usr/sbin/callvaultd":                         "-rwxr-xr-x",
		"./usr/bin/callvault":                           "-rwxr-xr-x",
		"./etc/callvault/callvaultd.toml":               "-rw-r--r--",
		"./lib/systemd/system/callvaultd.service":       "-rw-r--r--",
		"./usr/lib/sysusers.d/callvault.conf":           "-rw-r--r--",
		"./usr/lib/tmpfiles.d/callvault.conf":           "-rw-r--r--",
		"./usr/share/man/man8/callvaultd.8.gz":          "-rw-r--r--",
		"./usr/share/man/man1/callvault.1.gz":           "-rw-r--r--",
		"./usr/share/doc/callvault/copyright":           "-rw-r--r--",
		"./usr/share/doc/callvault/changelog.Debian.gz": "-rw-r--r--",
		"./usr/share/doc/callvault/README.md":           "-rw-r--r--",
	}
	got := map[string]debFile{}
	for line := range strings.SplitSeq(strings.TrimSpace(run(t, "dpkg-deb", "-c", d.path)), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c line %q", line)
		}
		got[f[5]] = debFile{mode: f[0], owner: f[1]}
	}
	for path, f := range got {
		if f.owner != "root/root" {
			t.Errorf("%s is owned by %s, want root/root", path, f.owner)
		}
		if strings.HasPrefix(f.mode, "d") {
			if f.mode != "drwxr-xr-x" {
				t.Errorf("directory %s has mode %s, want drwxr-xr-x", path, f.mode)
			}
			continue
		}
		if _, ok := want[path]; !ok {
			t.Errorf("the package holds %s (%s), which it should not", path, f.mode)
		}
	}
	for path, mode := range want {
		if got[path].mode != mode {
			t.Errorf("%s: mode %q, want %q", path, got[path].mode, mode)
		}
	}
}

// TestDebConffilesAndScripts: the configuration is the one conffile, as
// shipped in daemon/; the maintainer scripts are executable POSIX sh
// scripts that stop on errors.
func TestDebConffilesAndScripts(t *testing.T) {
	d := deb(t)
	conffiles, err := os.ReadFile(filepath.Join(d.control, "conffiles"))
	if err != nil || string(conffiles) != "/etc/callvault/callvaultd.toml\n" {
		t.Errorf("conffiles = %q, %v; want /etc/callvault/callvaultd.toml", conffiles, err)
	}
	packaged, _ := os.ReadFile(filepath.Join(d.root, "etc/callvault/callvaultd.toml"))
	source, _ := os.ReadFile("../daemon/callvaultd.toml")
	if len(packaged) == 0 || string(packaged) != string(source) {
		t.Error("the packaged /etc/callvault/callvaultd.toml is not daemon/callvaultd.toml")
	}
	for _, name := range []string{"postinst", "prerm", "postrm"} {
		path := filepath.Join(d.control, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("no %s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s has mode %v, want 0755", name, fi.Mode().Perm())
		}
		script, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(script), "#!/bin/sh\n") || !strings.Contains(string(script), "\nset -e\n") {
			t.Errorf("%s: want a #!/bin/sh script with set -e", name)
		}
		if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", name, err, out)
		}
	}
}

// TestDebChangelogAndCopyright: the changelog's newest entry is the
// package's version; the copyright file is machine-readable, puts
// callvault under the GPL 3 or later and has a paragraph for every Go
// module compiled into the binaries.
func TestDebChangelogAndCopyright(t *testing.T) {
	d := deb(t)
	version := controlFields(t, d)["Version"]
	changelog := gunzip(t, filepath.Join(d.root, "usr/share/doc/callvault/changelog.Debian.gz"))
	if first, _, _ := strings.Cut(changelog, "\n"); !strings.HasPrefix(first, "callvault ("+version+") ") {
		t.Errorf("changelog starts %q, want callvault (%s)", first, version)
	}
	raw, err := os.ReadFile(filepath.Join(d.root, "usr/share/doc/callvault/copyright"))
	if err != nil {
		t.Fatal(err)
	}
	copyright := string(raw)
	for _, want := range []string{
		"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
		"\nFiles: *\nCopyright: the callvault developers\nLicense: GPL-3+\n",
		"\nLicense: GPL-3+\n",
		"/usr/share/common-licenses/GPL-3",
	} {
		if !strings.Contains(copyright, want) {
			t.Errorf("copyright lacks %q", want)
		}
	}
	for _, bin := range []string{"usr/sbin/callvaultd", "usr/bin/callvault"} {
		info, err := buildinfo.ReadFile(filepath.Join(d.root, bin))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range info.Deps {
			if !strings.Contains(copyright, "\nFiles: vendor/"+m.Path+"/*\n") {
				t.Errorf("copyright has no paragraph for %s, compiled into %s", m.Path, bin)
			}
		}
	}
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}

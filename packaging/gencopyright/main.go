// Command gencopyright writes the Debian copyright file of the callvault
// package (machine-readable format 1.0) for the binaries it is given:
// callvault itself under the GPL 3 or later, then one paragraph per Go
// module compiled into them, read from the binaries' build information,
// with the licence and notices found in the Go module cache.
//
// Usage:
//
//	go run ./packaging/gencopyright BINARY... > copyright
//
// It fails on a module whose licence it cannot tell, so that a new
// dependency is looked at before it ships.
package main

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gencopyright BINARY...")
		os.Exit(2)
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gencopyright:", err)
		os.Exit(1)
	}
}

func run(binaries []string, w io.Writer) error {
	mods, err := modulesOf(binaries)
	if err != nil {
		return err
	}
	cache, err := modCache()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(header)
	used := map[string]bool{}
	for _, m := range mods {
		p, err := readModule(cache, m)
		if err != nil {
			return err
		}
		for name := range strings.SplitSeq(p.license, " and ") {
			used[name] = true
		}
		b.WriteString("\n" + p.String())
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range used {
			if _, ok := commonLicenses[n]; ok && !yield(n) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "\nLicense: %s\n On Debian systems, the full text of this licence is in\n /usr/share/common-licenses/%s.\n", name, commonLicenses[name])
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// header is the file's header and callvault's own paragraphs.
const header = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: callvault
Upstream-Contact: callvault developers <dev@callvault.invalid>
Comment: The binaries link LAME (LGPL-2+) and bcg729 (GPL-3+) dynamically,
 from their own Debian packages. They contain the Go standard library and
 the Go modules below, compiled in: go/src/ is the Go distribution's
 source, and a vendor/ path is where "go mod vendor" puts a module's.

Files: *
Copyright: the callvault developers
License: GPL-3+

Files: go/src/*
Copyright: 2009 The Go Authors
License: BSD-3-clause
 Copyright 2009 The Go Authors.
 .
 Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions are
 met:
 .
    * Redistributions of source code must retain the above copyright
 notice, this list of conditions and the following disclaimer.
    * Redistributions in binary form must reproduce the above
 copyright notice, this list of conditions and the following disclaimer
 in the documentation and/or other materials provided with the
 distribution.
    * Neither the name of Google LLC nor the names of its
 contributors may be used to endorse or promote products derived from
 this software without specific prior written permission.
 .
 THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
 "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
 LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
 A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
 OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
 SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
 LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
 DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
 THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
 (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
 OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

License: GPL-3+
 This program is free software: you can redistribute it and/or modify
 it under the terms of the GNU General Public License as published by
 the Free Software Foundation, either version 3 of the License, or
 (at your option) any later version.
 .
 This program is distributed in the hope that it will be useful,
 but WITHOUT ANY WARRANTY; without even the implied warranty of
 MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 GNU General Public License for more details.
 .
 On Debian systems, the full text of the GNU General Public License
 version 3 is in /usr/share/common-licenses/GPL-3.
`

// commonLicenses are the licences Debian ships in
// /usr/share/common-licenses: their paragraphs point there instead of
// repeating the text.
var commonLicenses = map[string]string{
	"Apache-2.0": "Apache-2.0",
	"MPL-2.0":    "MPL-2.0",
}

// module is a Go module compiled into a binary.
type module struct{ path, version string }

// modulesOf returns the modules the binaries were built with (replaced
// ones as their replacements), each once, by path.
func modulesOf(binaries []string) ([]module, error) {
	seen := map[module]bool{}
	for _, bin := range binaries {
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		for _, d := range info.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			seen[module{d.Path, d.Version}] = true
		}
	}
	mods := slices.Collect(func(yield func(module) bool) {
		for m := range seen {
			if !yield(m) {
				return
			}
		}
	})
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.path+"@"+a.version, b.path+"@"+b.version) })
	return mods, nil
}

func modCache() (string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// escapePath is a module path as the module cache spells it: each
// capital letter as "!" and the letter in lower case.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// paragraph is one Files paragraph of the copyright file.
type paragraph struct {
	module    module
	copyright []string
	license   string // short name
	text      string // the licence text, unless it is a common licence
	notice    string // a NOTICE file's text (Apache-2.0 asks to pass it on)
}

func (p paragraph) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Files: vendor/%s/*\n", p.module.path)
	fmt.Fprintf(&b, "Copyright: %s\n", strings.Join(p.copyright, "\n "))
	b.WriteString("License: " + p.license + "\n")
	if p.text != "" {
		b.WriteString(indent(p.text))
	}
	comment := p.module.path + " " + p.module.version
	if p.notice != "" {
		comment += "; its NOTICE file:\n" + p.notice
	}
	b.WriteString("Comment: " + strings.TrimPrefix(indent(comment), " "))
	return b.String()
}

// indent makes text a field's continuation lines: each line indented by
// one space, an empty line as " .".
func indent(text string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimSpace(strings.ReplaceAll(text, "\r", "")), "\n") {
		if line = strings.TrimRight(line, " \t"); line == "" {
			line = "."
		}
		b.WriteString(" " + line + "\n")
	}
	return b.String()
}

// licenceFiles are the names a module's licence goes by, in order.
var licenceFiles = []string{"LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING", "LICENCE"}

// readModule reads a module's licence (and NOTICE) from the module cache.
func readModule(cache string, m module) (paragraph, error) {
	dir := filepath.Join(cache, escapePath(m.path)+"@"+m.version)
	var text []byte
	var err error
	for _, name := range licenceFiles {
		if text, err = os.ReadFile(filepath.Join(dir, name)); err == nil {
			break
		}
	}
	if err != nil {
		return paragraph{}, fmt.Errorf("%s@%s: no licence file in %s (run go mod download)", m.path, m.version, dir)
	}
	name, err := classify(string(text))
	if err != nil {
		return paragraph{}, fmt.Errorf("%s@%s: %w", m.path, m.version, err)
	}
	p := paragraph{module: m, license: name, copyright: copyrightLines(string(text))}
	if len(p.copyright) == 0 || strings.Contains(name, "Apache-2.0") {
		// The Apache licence's text names no holder.
		p.copyright = append(p.copyright, "the authors of "+m.path)
	}
	if _, common := commonLicenses[name]; !common {
		p.text = string(text) // it names its holders, and may hold several licences
	}
	if notice, err := os.ReadFile(filepath.Join(dir, "NOTICE")); err == nil {
		p.notice = string(notice)
	}
	return p, nil
}

// licencePhrases tell licences apart: the phrase of each, in the order
// the short names are written.
var licencePhrases = []struct{ name, phrase string }{
	{"Apache-2.0", "Apache License Version 2.0"},
	{"MPL-2.0", "Mozilla Public License Version 2.0"},
	{"Expat", "Permission is hereby granted, free of charge"},
	{"BSD-3-clause", "endorse or promote products derived"},
	{"BSD-2-clause", "Redistribution and use in source and binary forms"},
	{"ISC", "Permission to use, copy, modify, and/or distribute this software for any purpose"},
}

// classify names the licences a licence file holds, as a DEP-5 licence
// expression ("Apache-2.0 and BSD-3-clause" for a file with both).
func classify(text string) (string, error) {
	flat := strings.Join(strings.Fields(strings.ReplaceAll(text, ",", ", ")), " ")
	flat = strings.ReplaceAll(flat, " ,", ",")
	var names []string
	for _, l := range licencePhrases {
		if strings.Contains(flat, l.phrase) && !(l.name == "BSD-2-clause" && slices.Contains(names, "BSD-3-clause")) {
			names = append(names, l.name)
		}
	}
	if len(names) == 0 {
		return "", errors.New("licence not recognised: look at it and teach classify its name")
	}
	return strings.Join(names, " and "), nil
}

// copyrightLines are a licence's own copyright statements (a line that
// starts with "Copyright" and names a year), without that word.
func copyrightLines(text string) []string {
	var lines []string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(strings.ToLower(line), "copyright") || !strings.ContainsAny(line, "0123456789") ||
			strings.ContainsAny(line, "[{") {
			continue
		}
		line = strings.TrimSpace(line[len("copyright"):])
		for _, mark := range []string{"(c)", "(C)", "©"} {
			line = strings.TrimSpace(strings.TrimPrefix(line, mark))
		}
		if !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
	}
	return lines
}

package main

import (
	"slices"
	"strings"
	"testing"
)

const mitText = `MIT License

Copyright (c) 2018 Jane Doe

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software ...`

const bsdText = `Copyright 2009 The Go Authors.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
   * Redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer.
   * Neither the name of Google LLC nor the names of its
contributors may be used to endorse or promote products derived from
this software without specific prior written permission.`

const apacheText = `
                                 Apache License
                           Version 2.0, January 2004
   2. Grant of Copyright License. Subject to the terms and conditions of
   Copyright [yyyy] [name of copyright owner]
`

func TestClassify(t *testing.T) {
	for text, want := range map[string]string{
		mitText:                     "Expat",
		bsdText:                     "BSD-3-clause",
		apacheText:                  "Apache-2.0",
		apacheText + "\n" + bsdText: "Apache-2.0 and BSD-3-clause",
		strings.Replace(bsdText, "endorse or promote products derived", "x", 1): "BSD-2-clause",
	} {
		if got, err := classify(text); err != nil || got != want {
			t.Errorf("classify(%.30q...) = %q, %v; want %q", text, got, err, want)
		}
	}
	if got, err := classify("All rights reserved. Do not copy."); err == nil {
		t.Errorf("classify of an unknown licence = %q, want an error", got)
	}
}

func TestCopyrightLines(t *testing.T) {
	for text, want := range map[string][]string{
		mitText:    {"2018 Jane Doe"},
		bsdText:    {"2009 The Go Authors."},
		apacheText: nil,
	} {
		if got := copyrightLines(text); !slices.Equal(got, want) {
			t.Errorf("copyrightLines(%.30q...) = %q, want %q", text, got, want)
		}
	}
}

func TestIndentMakesContinuationLines(t *testing.T) {
	got := indent("first\r\n\n  second  \n")
	if want := " first\n .\n   second\n"; got != want {
		t.Errorf("indent = %q, want %q", got, want)
	}
}

func TestEscapePath(t *testing.T) {
	if got := escapePath("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapePath = %q", got)
	}
}

// Package vocab is the one definition of the words callvault's contracts
// use: recording statuses, recording modes, call directions, and what a
// user name, full name and extension may hold. The vault's file format,
// the control API and the daemon all take them from here (the control
// package re-exports them to its clients), so they cannot drift apart.
// It depends on the standard library only.
package vocab

import (
	"fmt"
	"strings"
)

// Recording statuses (ARCHITECTURE.md).
const (
	// StatusComplete: sealed normally.
	StatusComplete = "complete"
	// StatusRecovered: salvaged from a .part after a crash, or sealed in
	// place after a failed write: what was written is kept.
	StatusRecovered = "recovered"
	// StatusFailed: no audio (the session ended before any arrived).
	StatusFailed = "failed"
)

// Recording modes of a user (ARCHITECTURE.md, "Recording modes").
const (
	ModeAlways   = "always"    // every call is recorded
	ModeOnDemand = "on-demand" // audio kept between the user's start and stop
	ModeLiveKeep = "live-keep" // the whole call is kept if the user presses Keep
)

// Record actions: what a user asks of the recording of their live call
// (`callvault record ACTION`, the control API, the phone service).
const (
	ActionStart  = "start"  // On Demand: keep the audio from now on
	ActionStop   = "stop"   // On Demand: stop keeping it
	ActionKeep   = "keep"   // Live Keep: store the whole call
	ActionPause  = "pause"  // PCI: silence from now on, nothing written
	ActionResume = "resume" // PCI: audio again
)

// Actions are the record actions, in the order menus offer them.
func Actions() []string {
	return []string{ActionStart, ActionStop, ActionKeep, ActionPause, ActionResume}
}

// States of a live call's recording, after an action.
const (
	StateRecording = "recording"         // audio is being kept
	StateWaiting   = "waiting for start" // On Demand, outside a start..stop window
	StatePaused    = "paused"            // PCI pause: silence is being written
	StateUnkept    = "waiting for keep"  // Live Keep, keep not pressed yet
	StateKept      = "kept"              // Live Keep, keep pressed
)

// Call filters: which calls of a user are recorded (users.json, the
// control API, [policy]). An empty word keeps the default.
const (
	FilterBoth = "both" // direction: every call
	FilterIn   = "in"   // direction: inbound calls only
	FilterOut  = "out"  // direction: outbound calls only
	FilterAny  = "any"  // external: every remote number
	FilterOnly = "only" // external: external remote numbers only
)

// CheckFilter returns what is wrong with a direction filter and an
// external filter ("" is fine: the default applies); "" when both are.
func CheckFilter(direction, external string) string {
	switch direction {
	case "", FilterBoth, FilterIn, FilterOut:
	default:
		return fmt.Sprintf("direction %q: want in, out or both", direction)
	}
	switch external {
	case "", FilterAny, FilterOnly:
	default:
		return fmt.Sprintf("external %q: want only or any", external)
	}
	return ""
}

// Call directions, seen from the owner.
const (
	DirectionIn  = "IN"
	DirectionOut = "OUT"
)

// Limits of a user's fields.
const (
	MaxUsername  = 64
	MaxFullName  = 128
	MaxExtension = 32
)

// CheckUsername returns what is wrong with a user name: 1 to 64 of
// letters, digits, '.', '_' and '-'; "" when it is fine.
func CheckUsername(s string) string {
	switch {
	case s == "":
		return "username is empty"
	case len(s) > MaxUsername:
		return fmt.Sprintf("username is longer than %d characters", MaxUsername)
	case strings.ContainsFunc(s, func(r rune) bool { return !isWordChar(r) }):
		return fmt.Sprintf("username %q may hold only letters, digits, '.', '_' and '-'", s)
	}
	return ""
}

func isWordChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// CheckFullName returns what is wrong with a full name: at most 128
// bytes, no control characters; "" when it is fine.
func CheckFullName(s string) string {
	switch {
	case len(s) > MaxFullName:
		return fmt.Sprintf("full name is longer than %d characters", MaxFullName)
	case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "full name holds control characters"
	}
	return ""
}

// CheckExtension returns what is wrong with an extension: 1 to 32 of
// digits, '+', '*' and '#'; "" when it is fine.
func CheckExtension(e string) string {
	if e == "" || len(e) > MaxExtension || strings.ContainsFunc(e, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '+' || r == '*' || r == '#')
	}) {
		return fmt.Sprintf("extension %q may hold only digits, '+', '*' and '#' (1 to %d)", e, MaxExtension)
	}
	return ""
}

// CheckMode returns what is wrong with a recording mode; "" for one of
// the three.
func CheckMode(m string) string {
	switch m {
	case ModeAlways, ModeOnDemand, ModeLiveKeep:
		return ""
	}
	return fmt.Sprintf("mode %q must be %s, %s or %s", m, ModeAlways, ModeOnDemand, ModeLiveKeep)
}

// CheckUser returns every problem with a user's fields (at least one
// extension is needed); nil when there is none.
func CheckUser(username, fullName string, extensions []string, mode string) []string {
	var problems []string
	add := func(p string) {
		if p != "" {
			problems = append(problems, p)
		}
	}
	add(CheckUsername(username))
	add(CheckFullName(fullName))
	if len(extensions) == 0 {
		add("no extension given")
	}
	for _, e := range extensions {
		add(CheckExtension(e))
	}
	add(CheckMode(mode))
	return problems
}

// MaxRetentionMonths bounds a retention: 100 years.
const MaxRetentionMonths = 1200

// CheckRetention returns what is wrong with a retention in months (0 is
// fine: the default applies); "" when it is fine.
func CheckRetention(months int) string {
	if months < 0 || months > MaxRetentionMonths {
		return fmt.Sprintf("retention %d months: want 1 to %d, or 0 for [retention] months", months, MaxRetentionMonths)
	}
	return ""
}

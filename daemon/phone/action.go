package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/callvault/callvault/internal/vocab"
)

// Action is what a phone asks of the recording of its call.
type Action string

// The five actions, as they appear in the action query parameter
// (vocab's words).
const (
	ActionStart  Action = vocab.ActionStart
	ActionStop   Action = vocab.ActionStop
	ActionKeep   Action = vocab.ActionKeep
	ActionPause  Action = vocab.ActionPause
	ActionResume Action = vocab.ActionResume
)

// allActions lists the actions in the order the menu offers them.
var allActions = []Action{ActionStart, ActionStop, ActionKeep, ActionPause, ActionResume}

// ErrBadRequest is wrapped by ParseAction and ParseExt: the request does
// not say which extension or which action.
var ErrBadRequest = errors.New("bad phone request")

// ParseAction returns the Action named s (case does not matter).
func ParseAction(s string) (Action, error) {
	a := Action(strings.ToLower(strings.TrimSpace(s)))
	switch a {
	case ActionStart, ActionStop, ActionKeep, ActionPause, ActionResume:
		return a, nil
	case "":
		return "", fmt.Errorf("%w: no action: the URL needs action=start, stop, keep, pause or resume", ErrBadRequest)
	}
	return "", fmt.Errorf("%w: unknown action %q: use start, stop, keep, pause or resume", ErrBadRequest, clip(s, 24))
}

// label is the action's softkey name (at most 6 characters, which every
// phone with softkeys shows whole).
func (a Action) label() string {
	switch a {
	case ActionStart:
		return "Start"
	case ActionStop:
		return "Stop"
	case ActionKeep:
		return "Keep"
	case ActionPause:
		return "Pause"
	case ActionResume:
		return "Resume"
	}
	return string(a)
}

// ParseExt returns the extension named by the ext query parameter: 1 to
// 32 of digits, '+', '*' and '#', the rule of a user's extensions. A '+'
// written unescaped in a hand-made service URL reaches the server as a
// space (form decoding), and is read back as the '+' it was; '#' must be
// written %23 in a URL, or the phone takes it for a fragment.
func ParseExt(s string) (string, error) {
	ext := strings.ReplaceAll(s, " ", "+")
	if ext == "" {
		return "", fmt.Errorf("%w: no extension: the service URL needs ext=<extension>", ErrBadRequest)
	}
	if p := vocab.CheckExtension(ext); p != "" {
		msg := p
		if len(ext) > vocab.MaxExtension {
			msg = fmt.Sprintf("extension is longer than %d characters", vocab.MaxExtension)
		}
		if looksLikeDeviceName(ext) {
			msg += "; this is a device name: the service URL must carry the extension, not #DEVICENAME#"
		}
		return "", fmt.Errorf("%w: %s", ErrBadRequest, msg)
	}
	return ext, nil
}

// looksLikeDeviceName reports whether s is what a CUCM service URL's
// #DEVICENAME# becomes (SEP and the phone's MAC address), or the tag
// itself, left as it is by a browser.
func looksLikeDeviceName(s string) bool {
	u := strings.ToUpper(s)
	return len(u) == 15 && strings.HasPrefix(u, "SEP") || strings.Contains(u, "DEVICENAME")
}

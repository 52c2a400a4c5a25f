package phone

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pages of the service, built from what was asked and what the
// trigger answered. They are pure: the handler renders and sends them.

const title = "Call recording"

// links builds the service's URLs under base, an absolute URL without a
// trailing slash.
type links struct{ base string }

// record is the URL that applies a to ext's call.
func (l links) record(ext string, a Action) string {
	return l.base + RecordPath + "?ext=" + url.QueryEscape(ext) + "&action=" + url.QueryEscape(string(a))
}

// menu is the URL of ext's menu; with ext empty, the one the extension
// form completes.
func (l links) menu(ext string) string {
	if ext == "" {
		return l.base + MenuPath
	}
	return l.base + MenuPath + "?ext=" + url.QueryEscape(ext)
}

// headline says what a successful action did.
func headline(a Action) string {
	switch a {
	case ActionStart:
		return "Recording started."
	case ActionStop:
		return "Recording stopped."
	case ActionKeep:
		return "This call will be kept."
	case ActionPause:
		return "Recording paused."
	case ActionResume:
		return "Recording resumed."
	}
	return "Done."
}

// nextActions are the actions worth a softkey once the recording is in
// state after action a: the state decides when it is a known one.
func nextActions(state string, a Action) []Action {
	switch state {
	case StateRecording:
		return []Action{ActionStop, ActionPause}
	case StateWaiting, StateStopped:
		return []Action{ActionStart}
	case StatePaused:
		return []Action{ActionResume}
	case StateUnkept:
		return []Action{ActionKeep, ActionPause}
	case StateKept:
		return []Action{ActionPause}
	}
	switch a {
	case ActionStart:
		return []Action{ActionStop, ActionPause}
	case ActionStop:
		return []Action{ActionStart}
	case ActionPause:
		return []Action{ActionResume}
	}
	return []Action{ActionPause} // keep, resume
}

// resultPage is the answer to an action: what happened and the softkeys
// to go on, or why nothing happened.
func resultPage(l links, ext string, a Action, res Result, err error) textObject {
	exit := softKey{Name: "Exit", URL: softKeyExit}
	retry := softKey{Name: "Retry", URL: l.record(ext, a)}
	page := textObject{Title: title}
	switch {
	case err == nil:
		state := res.State
		if state == "" {
			state = "done"
		}
		page.Prompt = line("Ext "+ext+": "+state, maxPrompt)
		text := headline(a)
		if res.Call != "" {
			text += "\nCall: " + res.Call
		}
		if res.State != "" {
			text += "\nState: " + res.State
		}
		page.Text = block(text)
		var keys []softKey
		for _, next := range nextActions(res.State, a) {
			keys = append(keys, softKey{Name: next.label(), URL: l.record(ext, next)})
		}
		page.SoftKeys = softKeys(append(keys, exit)...)
	case errors.Is(err, ErrNoCall):
		page.Prompt = line("Ext "+ext+": no call", maxPrompt)
		page.Text = block("No call of extension " + ext + " is being recorded.\nTry again once the call is connected.")
		page.SoftKeys = softKeys(retry, exit)
	case errors.Is(err, ErrNotAllowed):
		page.Prompt = line("Ext "+ext+": not allowed", maxPrompt)
		page.Text = block(sentence(err.Error()))
		page.SoftKeys = softKeys(exit)
	case errors.Is(err, context.DeadlineExceeded):
		page.Prompt = line("Ext "+ext+": no answer", maxPrompt)
		page.Text = block("The recorder did not answer in time; the " + string(a) + " may still take effect.")
		page.SoftKeys = softKeys(retry, exit)
	default:
		page.Prompt = line("Ext "+ext+": failed", maxPrompt)
		page.Text = block("Could not " + string(a) + " the recording: " + sentence(err.Error()))
		page.SoftKeys = softKeys(retry, exit)
	}
	return page
}

// badRequestPage answers a request that does not say which extension or
// which action: the phone shows why.
func badRequestPage(err error) textObject {
	msg := strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": ")
	return textObject{
		Title:    title,
		Prompt:   "Bad request",
		Text:     block(sentence(msg)),
		SoftKeys: softKeys(softKey{Name: "Exit", URL: softKeyExit}),
	}
}

// menuPage offers ext's phone the five actions.
func menuPage(l links, ext string) menuObject {
	names := map[Action]string{
		ActionStart:  "Start recording",
		ActionStop:   "Stop recording",
		ActionKeep:   "Keep this call",
		ActionPause:  "Pause recording",
		ActionResume: "Resume recording",
	}
	m := menuObject{Title: title, Prompt: line("Ext "+ext, maxPrompt)}
	for _, a := range allActions {
		m.Items = append(m.Items, menuItem{Name: line(names[a], maxName), URL: l.record(ext, a)})
	}
	m.SoftKeys = softKeys(
		softKey{Name: "Select", URL: softKeySelect},
		softKey{Name: "Exit", URL: softKeyExit},
	)
	return m
}

// extInputPage asks for the extension when the menu's URL does not carry
// one (CME's single services URL, a shared phone): the phone calls the
// menu again with ext=<what was typed>. It keeps the phone's own
// softkeys (Submit, delete, Cancel).
func extInputPage(l links) inputObject {
	return inputObject{
		Title:  title,
		Prompt: "Enter your extension",
		URL:    l.menu(""),
		Items: []inputItem{{
			DisplayName:      "Extension",
			QueryStringParam: "ext",
			InputFlags:       "T",
		}},
	}
}

// sentence starts msg with a capital and ends it with a full stop.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.ContainsRune(".!?", rune(msg[len(msg)-1])) {
		msg += "."
	}
	return msg
}

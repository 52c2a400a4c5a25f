// Package tui is callvault's interactive console: a full-screen terminal
// dashboard (tview on tcell) that `callvault` opens when it is run on a
// terminal without a command.
//
// It has six screens: 1 Dashboard (live calls, call rate with a sparkline,
// licence, disk, alarms), 2 Recordings (search, detail, verify, export),
// 3 Users, 4 Licence, 5 Calculator (console/calc, offline) and 6 Alarms.
// F1–F6 or 1–6 switch screens, / opens the recordings search, ? the help,
// q quits and Esc closes a dialog or leaves a field. The mouse works too,
// but every action has a key.
//
// The live state is console/model's alone: model.Follow keeps it up to
// date from the daemon's event stream and reconnects by itself, and a
// model Listener, plus a one-second tick for the durations, queues each
// redraw with Application.QueueUpdateDraw. A redraw only sets the content
// of primitives built once (text, a virtual table over the model's calls),
// so the layout never flickers. The text of every pane comes from pure
// functions of the model's figures and a time (text.go, sparkline.go),
// testable without a terminal or a clock. Requests to the daemon (search,
// users, licence, export) run off the UI goroutine; their errors, such as
// the daemon's 403 for a NOC member, show in a modal with the daemon's
// message.
//
// Colours are tcell's basic sixteen, so the console reads the same on the
// Linux virtual console as in a terminal emulator; the layout fits 80x24.
package tui

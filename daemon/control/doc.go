// Package control is callvaultd's local control API and the client that the
// callvault console and CLI use to reach it.
//
// The API is HTTP/1.1 with JSON bodies over a unix socket (by default
// /run/callvault/control.sock, mode 0660), under versioned paths:
//
//	GET    /v1/status                 Status
//	GET    /v1/calls                  []Call, the live calls
//	GET    /v1/recordings?QUERY       []Recording matching a Query
//	GET    /v1/recordings/{id}        Recording
//	GET    /v1/recordings/{id}/audio  the decrypted MP3 (audio/mpeg)
//	GET    /v1/users                  []User
//	POST   /v1/users                  add a User (JSON body); 201 with the User
//	DELETE /v1/users/{username}       remove a user; 204
//	GET    /v1/events                 a stream of Events, one JSON object a line
//
// Errors are JSON objects {"error": "message"} with status 400 (ErrInvalid),
// 404 (ErrNotFound), 409 (ErrExists) or 500. The audio of a recording is
// streamed as it is decrypted, so a failure can happen after the 200 status
// has been sent: the response then ends with the trailer named by
// [TrailerError] carrying the message, and [Client.Export] reports it.
//
// The daemon implements [Backend] and serves [NewHandler] on the listener
// from [Listen]. The package imports only the standard library, so the
// console can depend on it without pulling in the recorder.
package control

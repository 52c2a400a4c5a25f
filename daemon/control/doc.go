// Package control is callvaultd's local control API and the client that the
// callvault console and CLI use to reach it.
//
// The API is HTTP/1.1 with JSON bodies over a unix socket (by default
// /run/callvault/control.sock), under versioned paths:
//
//	GET    /v1/status                 Status
//	GET    /v1/calls                  []Call, the live calls
//	GET    /v1/recordings?QUERY       []Recording matching a Query
//	GET    /v1/recordings/{id}        Recording
//	GET    /v1/recordings/{id}/audio  the decrypted MP3 (audio/mpeg)
//	GET    /v1/users                  []User
//	POST   /v1/users                  add a User (JSON body); 201 with the User
//	DELETE /v1/users/{username}       remove a user; 204
//	GET    /v1/recordings/{id}/verify Check of one recording's file
//	GET    /v1/verify                 a stream of Checks, every file
//	POST   /v1/record                 a record action (RecordRequest); RecordResult
//	PUT    /v1/license                install a licence file (the body); License
//	GET    /v1/events                 a stream of Events, one JSON object a line:
//	                                  a snapshot first (seq 1), then every event
//	                                  numbered; "resync" and a new snapshot when
//	                                  events were dropped for a slow reader
//
// Who may do what comes from the socket's peer credentials (SO_PEERCRED),
// checked by the daemon ([WithRoles], [ConnContext]): root, the daemon's
// user and members of group callvault administer; members of
// callvault-noc may watch and search but not export, change users,
// install a licence or act on recordings; anyone else is refused. Every
// request is logged with the caller's uid, user name and role.
//
// Errors are JSON objects {"error": "message"} with status 400 (ErrInvalid),
// 403 (ErrNotAllowed), 404 (ErrNotFound), 409 (ErrExists) or 500. The audio of a recording is
// streamed as it is decrypted, so a failure can happen after the 200 status
// has been sent: the response then ends with the trailer named by
// [TrailerError] carrying the message, and [Client.Export] reports it.
//
// The daemon implements [Backend] and serves [NewHandler] on the listener
// from [ListenMode]. The package imports the standard library,
// internal/vocab and golang.org/x/sys/unix only, so the console can depend
// on it without pulling in the recorder.
package control

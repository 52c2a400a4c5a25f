// Package testaudio makes and measures the known signals callvault's tests
// and load tools send: sine tones and a deterministic speech-like signal
// (Speech), G.711 and G.729A encoding of them (G.729A through bcg729's
// encoder, via cgo), RTP streams over real UDP sockets, clean or SRTP
// (SendPaced), send schedules with seeded network trouble - loss, jitter,
// reordering, duplicates - played in real time (Impairment, Play), a
// Goertzel filter to find a tone in decoded audio, a segmental-SNR score
// of a recording against its reference (Compare), a C heap gauge to catch
// leaks in cgo code, and Require for the real peers a test needs (sipp,
// ffmpeg). It is test support: no production binary imports it.
package testaudio

// Package testaudio makes and measures the known signals callvault's tests
// and load tools send: sine tones, G.711 encoding of them, RTP streams over
// real UDP sockets, and a Goertzel filter to find a tone in decoded audio.
// It is test support: no production binary imports it.
package testaudio

package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// pprofEnv names the environment variable that, set to an address
// (127.0.0.1:6060), serves Go's profiles under /debug/pprof/ there: for
// profiling the daemon under load. It has no access control: loopback
// only. Unset: nothing listens.
const pprofEnv = "CALLVAULT_PPROF"

// servePprof starts the profile listener when $CALLVAULT_PPROF is set; it
// refuses an address that is not loopback.
func servePprof(log *slog.Logger) {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Error("profiles not served: "+pprofEnv+" must be a loopback address and port", "addr", addr)
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("profiles not served", "addr", addr, "err", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Warn("serving Go profiles (unauthenticated)", "addr", ln.Addr().String())
	go http.Serve(ln, mux)
}

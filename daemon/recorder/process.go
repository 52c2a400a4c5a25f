package recorder

import (
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/callvault/callvault/daemon/control"
)

// processUse reads the daemon's goroutines, open files and resident
// memory (Linux /proc; zeros elsewhere).
func processUse() control.Process {
	p := control.Process{Goroutines: runtime.NumGoroutine()}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.OpenFiles = len(fds)
	}
	if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(statm)); len(f) > 1 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				p.RSSBytes = pages * int64(os.Getpagesize())
			}
		}
	}
	return p
}

package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// statusTimeout bounds the status call of one scrape.
const statusTimeout = 5 * time.Second

// Path is where the handler serves the metrics.
const Path = "/metrics"

// NewHandler returns the handler of GET /metrics (and HEAD): each scrape
// asks status once, with the request's context bounded to 5 s, and
// answers its figures in the Prometheus text format (see the package
// doc). When status fails the scrape is answered 503 with the error, and
// log (nil: discarded) gets a warning. Other paths are 404, other methods
// 405.
func NewHandler(status func(ctx context.Context) (control.Status, error), log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{status: status, log: log, d: newDescs(), errLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, h)
	return mux
}

// handler serves one scrape per request.
type handler struct {
	status statusFunc
	log    *slog.Logger
	d      *descs
	errLog promhttp.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
	defer cancel()
	// A registry per scrape holds the scrape's collector: nothing is shared
	// between scrapes but the descriptions, and Collect gets the request's
	// context, which a Collector cannot otherwise see.
	reg := prometheus.NewPedanticRegistry()
	c := &collector{ctx: ctx, status: h.status, d: h.d}
	if err := reg.Register(c); err != nil {
		h.log.Error("metrics: register collector", "err", err)
		http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	families, err := reg.Gather()
	if c.err != nil {
		h.log.Warn("metrics: status failed", "err", c.err)
		http.Error(w, "callvault status: "+c.err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		h.log.Error("metrics: gather", "err", err)
		http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	gathered := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return families, nil })
	promhttp.HandlerFor(gathered, promhttp.HandlerOpts{ErrorLog: h.errLog}).ServeHTTP(w, r)
}

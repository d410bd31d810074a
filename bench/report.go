package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// Report is what a run measured; `parley bench --json` prints it.
type Report struct {
	// Store is the database filled: "sqlite" or "postgres".
	Store      string  `json:"store"`
	N          int     `json:"n"`
	Mode       string  `json:"mode"` // "throughput" or "paced"
	Rate       float64 `json:"rate,omitempty"`
	Model      string  `json:"model"`
	Rules      int     `json:"rules"`
	Stored     int64   `json:"stored"`
	Duplicates int64   `json:"duplicates"`
	Drafts     int64   `json:"drafts"`
	People     int     `json:"people"`
	Threads    int     `json:"threads"`

	Seconds         float64 `json:"seconds"`
	MentionsPerSec  float64 `json:"mentions_per_sec"`
	CPUMicrosPerMsg float64 `json:"cpu_us_per_mention"`
	LatencyP50Ms    float64 `json:"latency_p50_ms"`
	LatencyP99Ms    float64 `json:"latency_p99_ms"`
	LatencyMaxMs    float64 `json:"latency_max_ms"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	PeakHeapBytes   uint64  `json:"peak_go_heap_bytes"`
	DBBytes         int64   `json:"db_bytes"`
	DBBytesPer1000  float64 `json:"db_bytes_per_1000"`

	Queries map[string]float64 `json:"queries_ms,omitempty"`

	RawMentionsPerSec float64 `json:"raw_mentions_per_sec,omitempty"`
	RawSeconds        float64 `json:"raw_seconds,omitempty"`
	RawRatio          float64 `json:"raw_ratio,omitempty"`

	Machine Machine `json:"machine"`
}

// Machine is where and when the run happened, for comparing figures.
type Machine struct {
	CPUs        int       `json:"cpus"`
	LoadStart   []float64 `json:"load_average_start"`
	LoadEnd     []float64 `json:"load_average_end"`
	GoVersion   string    `json:"go"`
	GOOS        string    `json:"goos"`
	GOARCH      string    `json:"goarch"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	StartedUnix int64     `json:"started_unix"`
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC()
	err = pprof.WriteHeapProfile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// ParseRate reads "1000/s", "1000", "60/m" or "1000/ms".
func ParseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("want a positive number of mentions per second, e.g. 1000/s")
	}
	switch strings.TrimSpace(unit) {
	case "", "s":
		return v, nil
	case "m", "min":
		return v / 60, nil
	case "ms":
		return v * 1000, nil
	}
	return 0, fmt.Errorf("unknown unit %q: want /s, /m or /ms", unit)
}

// Print writes the report for people.
func (r Report) Print(w io.Writer) {
	mode := "as fast as possible"
	if r.Mode == "paced" {
		mode = fmt.Sprintf("paced at %s/s", thousands(r.Rate))
	}
	fmt.Fprintf(w, "parley bench: %s mentions %s (model %s, %d rules)\n", thousands(float64(r.N)), mode, r.Model, r.Rules)
	fmt.Fprintf(w, "  stored       %s mentions, %s duplicates skipped, %s drafts, %s people, %s threads\n",
		thousands(float64(r.Stored)), thousands(float64(r.Duplicates)), thousands(float64(r.Drafts)),
		thousands(float64(r.People)), thousands(float64(r.Threads)))
	fmt.Fprintf(w, "  throughput   %s mentions/s (%.2f s; %.0f µs of CPU per mention)\n",
		thousands(r.MentionsPerSec), r.Seconds, r.CPUMicrosPerMsg)
	fmt.Fprintf(w, "  latency      p50 %.1f ms, p99 %.1f ms, max %.1f ms (arrival to stored, drafts queued)\n",
		r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs)
	fmt.Fprintf(w, "  memory       %.1f MB peak RSS (Go heap peak %.1f MB)\n", float64(r.PeakRSSBytes)/1e6, float64(r.PeakHeapBytes)/1e6)
	if r.DBBytes > 0 {
		fmt.Fprintf(w, "  database     %s bytes per 1,000 mentions (%.1f MB)\n", thousands(r.DBBytesPer1000), float64(r.DBBytes)/1e6)
	}
	if len(r.Queries) > 0 {
		fmt.Fprintf(w, "  queries      inbox %.2f ms, person history %.2f ms, thread %.2f ms, week digest %.1f ms (slowest of 5)\n",
			r.Queries["inbox"], r.Queries["person_history"], r.Queries["thread"], r.Queries["week_digest"])
	}
	if r.RawMentionsPerSec > 0 {
		raw := "raw SQLite inserts"
		if r.Store == "postgres" {
			raw = "raw COPY into PostgreSQL"
		}
		fmt.Fprintf(w, "  raw inserts  %s mentions/s (%.2f s): the pipeline runs at %.0f%% of %s\n",
			thousands(r.RawMentionsPerSec), r.RawSeconds, 100*r.RawRatio, raw)
	}
	m := r.Machine
	fmt.Fprintf(w, "  machine      %d CPUs, load average %s at start, %s at end; %s %s/%s\n", m.CPUs,
		fmtLoad(m.LoadStart), fmtLoad(m.LoadEnd), m.GoVersion, m.GOOS, m.GOARCH)
}

func fmtLoad(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}

// thousands formats v rounded, with commas.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func percentileMs(sorted []int32, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return float64(sorted[max(0, min(i, len(sorted)-1))]) / 1000
}

func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	var out []float64
	for i := 0; i < 3 && i < len(f); i++ {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// heapWatch samples the Go heap while the pipeline runs.
type heapWatch struct {
	done chan struct{}
	peak chan uint64
}

func startHeapWatch() *heapWatch {
	h := &heapWatch{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-h.done:
				h.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapWatch) stop() uint64 {
	close(h.done)
	return <-h.peak
}

func fileSizes(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

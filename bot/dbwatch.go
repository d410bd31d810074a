package bot

import (
	"context"
	"log/slog"
	"time"
)

// DatabaseWatchOptions tune WatchDatabase. The zero value is usable.
type DatabaseWatchOptions struct {
	// Interval is how often the database is asked; default 2s.
	Interval time.Duration
	// Timeout bounds one check; default 5s.
	Timeout time.Duration
	Logger  *slog.Logger
	Metrics *Metrics
}

// WatchDatabase runs check (parley.HealthChecker.Check) every Interval
// until ctx ends, and reports an outage where operators look: an error in
// the log when the database stops answering, an info line with how long it
// was down when it answers again, and the metrics parley_database_up and
// parley_database_outages_total. The parts that write keep retrying on
// their own; this only tells.
func WatchDatabase(ctx context.Context, check func(context.Context) error, o DatabaseWatchOptions) error {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var downSince time.Time
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, o.Timeout)
		err := check(cctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && downSince.IsZero():
			downSince = time.Now()
			o.Logger.Error("database unreachable: writes wait and retry until it is back", "err", err)
			o.Metrics.observeDatabase(false)
		case err == nil && !downSince.IsZero():
			o.Logger.Info("database reachable again", "down_for", time.Since(downSince).Round(time.Millisecond).String())
			downSince = time.Time{}
			o.Metrics.observeDatabase(true)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

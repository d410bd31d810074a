package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/parleybot/parley"
)

// DefaultLeaseTTL is how long a lease lasts without renewal: a process
// that dies holding one is replaced within it (plus one retry interval).
const DefaultLeaseTTL = 20 * time.Second

// LeaseOptions tune RunLeased. The zero value is usable.
type LeaseOptions struct {
	// TTL is the lease's length (default DefaultLeaseTTL); it is renewed
	// every TTL/4, and a process without a lease asks again as often.
	TTL    time.Duration
	Logger *slog.Logger
	// OnHolder, when set, is told who holds the lease each time that
	// changes as this process sees it: mine when this process took it;
	// another's holder (l.Holder) while it waits; mine false with an
	// empty holder when this process lost or released it.
	OnHolder func(l parley.Lease, mine bool)
}

// Holder names this process for leases: host, process id and a random
// suffix, so two processes on one host differ.
func Holder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "parley"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// RunLeased runs fn while holder holds the lease name, so that of the
// processes sharing l exactly one at a time runs it. Without the lease it
// asks again every TTL/4; holding it, it renews it as often, and when the
// lease is lost (another took it, or the database stayed unreachable until
// the lease ran out) fn's context is cancelled and RunLeased asks again.
// It returns when ctx ends (releasing the lease, so another takes over at
// once) or when fn returns by itself, with fn's error.
func RunLeased(ctx context.Context, l parley.Leaser, name, holder string, o LeaseOptions, fn func(context.Context) error) error {
	if o.TTL <= 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	every := o.TTL / 4
	log := o.Logger.With("lease", name, "holder", holder)
	tell := func(l parley.Lease, mine bool) {
		if o.OnHolder != nil {
			o.OnHolder(l, mine)
		}
	}
	waiting := ""
	for {
		lease, ok, err := l.TakeLease(ctx, name, holder, o.TTL)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			log.Warn("cannot take lease", "err", err)
		case !ok:
			if waiting != lease.Holder {
				waiting = lease.Holder
				log.Info("lease held by another process; waiting", "held_by", lease.Holder, "until", lease.Until)
				tell(lease, false)
			}
		default:
			waiting = ""
			log.Info("took lease", "epoch", lease.Epoch)
			tell(lease, true)
			lost, err := holdLease(ctx, l, lease, o.TTL, every, log, fn)
			tell(parley.Lease{Name: name}, false)
			if !lost {
				release(l, name, holder, log)
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// holdLease runs fn while renewing lease; lost says fn was stopped because
// the lease was lost (then err is nothing to report).
func holdLease(ctx context.Context, l parley.Leaser, lease parley.Lease, ttl, every time.Duration, log *slog.Logger,
	fn func(context.Context) error) (lost bool, err error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(runCtx) }()
	renewed := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return false, err
		case <-tick.C:
		}
		cur, ok, err := l.TakeLease(ctx, lease.Name, lease.Holder, ttl)
		switch {
		case ctx.Err() != nil:
			continue // fn stops with ctx; its return ends the loop
		case err == nil && ok:
			renewed = time.Now()
			continue
		case err == nil:
			log.Warn("lost lease: another process holds it", "held_by", cur.Holder, "epoch", cur.Epoch)
		case time.Since(renewed) < ttl-every:
			log.Warn("cannot renew lease; still holding it", "err", err)
			continue
		default:
			log.Error("cannot renew lease before it runs out: stopping", "err", err)
		}
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("stopped on losing the lease", "err", err)
		}
		return true, nil
	}
}

// release gives the lease up so another process takes over at once.
func release(l parley.Leaser, name, holder string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.ReleaseLease(ctx, name, holder); err != nil {
		log.Warn("cannot release lease; it runs out by itself", "err", err)
	}
}

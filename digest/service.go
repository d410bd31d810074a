package digest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley"
)

// Store is what a Service needs: the digest store and, for the
// scheduler's memory of when it first ran, the cursors. store.Store has
// both.
type Store interface {
	parley.DigestStore
	parley.CursorStore
}

// ServiceOptions tune a Service. The zero value is usable.
type ServiceOptions struct {
	// Brand names the digest.
	Brand string
	// Posters deliver to chat targets, by target type (TargetDiscord,
	// TargetMastodon). A target whose type has no poster fails (EINVALID).
	Posters map[string]Poster
	Logger  *slog.Logger
	// Getenv reads the secrets the targets name; default os.Getenv.
	Getenv func(string) string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Attempts is how many times a target is tried (default 3); Backoff is
	// the first wait between tries, doubled each time (default 5s).
	Attempts int
	Backoff  time.Duration
	// EmailTimeout bounds one SMTP conversation; default 30s.
	EmailTimeout time.Duration
	// EmailTLS is the base TLS configuration for email targets (a private
	// CA, say); default the system roots. ServerName is filled in.
	EmailTLS *tls.Config
	// Lease is how long a claim on a week holds before another process
	// may take the week over (its sender presumed dead); default 1h.
	Lease time.Duration
	// Owner names this process in claims; default host-pid-random.
	Owner string
}

// Service builds, stores and delivers digests with one configuration.
// It is safe for concurrent use.
type Service struct {
	st   Store
	cfg  Config
	loc  *time.Location
	opts ServiceOptions
	log  *slog.Logger
	now  func() time.Time
}

// NewService checks cfg (after its defaults) and returns a Service. The
// error (EINVALID) lists every problem in the config.
func NewService(st Store, cfg Config, opts ServiceOptions) (*Service, error) {
	cfg = cfg.WithDefaults()
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if errs := cfg.Validate(nil); len(errs) > 0 {
		return nil, parley.Errorf(parley.EINVALID, "digest config: %w", errors.Join(errs...))
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	if opts.EmailTimeout <= 0 {
		opts.EmailTimeout = 30 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Hour
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		opts.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return &Service{st: st, cfg: cfg, loc: loc, opts: opts, log: opts.Logger.With("component", "digest"), now: opts.Now}, nil
}

// Config returns the configuration in use, with its defaults.
func (s *Service) Config() Config { return s.cfg }

// Location returns the digest's time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Build computes week's digest as of now, without storing or sending it.
func (s *Service) Build(ctx context.Context, week Week) (*Digest, error) {
	return Build(ctx, s.st, week, Options{Brand: s.opts.Brand, Location: s.loc,
		ResponseTarget: s.cfg.ResponseTarget, AsOf: s.now()})
}

// LastWeek returns the week `--week LAST` means: the last complete week
// in the digest's time zone. When that week has no mentions and the
// newest mention is older than it or in the future (a replayed sample,
// say), it is the week of the newest mention instead, and fellBack is
// true. A week with mentions in it is never skipped for being quiet: a
// live store whose last week was empty gets that empty week.
func (s *Service) LastWeek(ctx context.Context) (w Week, fellBack bool, err error) {
	now := s.now()
	w = LastComplete(now, s.loc)
	times, err := s.st.MentionTimes(ctx, w.Start(s.loc), w.End(s.loc))
	if err != nil || len(times) > 0 {
		return w, false, err
	}
	latest, err := s.st.LatestMention(ctx)
	if err != nil || latest.IsZero() {
		return w, false, err
	}
	if lw := WeekOf(latest, s.loc); lw != WeekOf(now, s.loc) {
		return lw, true, nil
	}
	return w, false, nil
}

// Send builds week's digest, stores it and delivers it to every target
// that does not have it yet, each with retries, all at once (one failing
// target does not stop the others). The week is claimed in the store
// first, so it is sent once even by several processes; force sends a
// week that was sent before again, to every target.
//
// It returns the stored record. Errors: ECONFLICT when the week was sent
// already or another process is sending it; EUNAVAILABLE when some
// targets failed (the record says which; the others got it).
func (s *Service) Send(ctx context.Context, week Week, force bool) (parley.DigestRecord, error) {
	rec := parley.DigestRecord{Week: week.String(), TimeZone: s.loc.String(), Start: week.Start(s.loc), End: week.End(s.loc)}
	claimed, err := s.st.ClaimDigest(ctx, rec, s.opts.Owner, s.now().Add(s.opts.Lease), force)
	if err != nil {
		return claimed, err
	}
	d, err := s.Build(ctx, week)
	if err == nil {
		var r *rendered
		if r, err = render(d); err == nil {
			return s.deliverAll(ctx, claimed, r, force)
		}
	}
	// Release the claim: nothing was sent, a later try may build it.
	claimed.Status = parley.DigestFailed
	if serr := s.st.SaveDigest(context.WithoutCancel(ctx), claimed, s.opts.Owner); serr != nil {
		s.log.Error("release digest claim", "week", rec.Week, "err", serr)
	}
	return claimed, err
}

func (s *Service) deliverAll(ctx context.Context, claimed parley.DigestRecord, r *rendered, force bool) (parley.DigestRecord, error) {
	rec := claimed
	rec.Status = parley.DigestBuilding
	rec.BuiltAt = s.now()
	rec.Summary, rec.Markdown, rec.HTML, rec.Text = r.d.Summary(), r.markdown, r.html, r.text
	// One outcome per target, in config order; earlier outcomes are kept
	// for the targets that have the digest.
	rec.Deliveries = make([]parley.DigestDelivery, len(s.cfg.Targets))
	var todo []int
	for i, t := range s.cfg.Targets {
		rec.Deliveries[i] = parley.DigestDelivery{Target: t.Key(), Type: t.Type}
		if !force && claimed.Delivered(t.Key()) {
			for _, old := range claimed.Deliveries {
				if old.Target == t.Key() {
					rec.Deliveries[i] = old
				}
			}
			continue
		}
		todo = append(todo, i)
	}
	// Stores are written with a context that outlives a cancelled ctx, so
	// what was delivered is recorded even during shutdown.
	saveCtx := context.WithoutCancel(ctx)
	if err := s.st.SaveDigest(saveCtx, rec, s.opts.Owner); err != nil {
		return rec, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, i := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := s.deliver(ctx, s.cfg.Targets[i], r)
			mu.Lock()
			defer mu.Unlock()
			rec.Deliveries[i] = out
			if err := s.st.SaveDigest(saveCtx, rec, s.opts.Owner); err != nil {
				s.log.Error("record digest delivery", "week", rec.Week, "target", out.Target, "err", err)
			}
		}()
	}
	wg.Wait()

	var failed []string
	for _, d := range rec.Deliveries {
		if !d.OK {
			failed = append(failed, d.Target+": "+d.Error)
		}
	}
	switch {
	case len(rec.Deliveries) == 0:
		rec.Status = parley.DigestStored
	case len(failed) == 0:
		rec.Status = parley.DigestSent
	case len(failed) == len(rec.Deliveries):
		rec.Status = parley.DigestFailed
	default:
		rec.Status = parley.DigestPartial
	}
	if err := s.st.SaveDigest(saveCtx, rec, s.opts.Owner); err != nil {
		return rec, err
	}
	s.log.Info("digest done", "week", rec.Week, "status", rec.Status, "targets", len(rec.Deliveries), "failed", len(failed))
	if len(failed) > 0 {
		return rec, parley.Errorf(parley.EUNAVAILABLE, "digest %s: %d of %d targets failed: %s", rec.Week, len(failed),
			len(rec.Deliveries), strings.Join(failed, "; "))
	}
	return rec, nil
}

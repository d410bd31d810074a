package digest

import (
	"context"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/parleybot/parley"
)

// sinceKey is the cursor holding when the scheduler first ran: digests
// due before that were never missed, so they are not caught up.
const sinceKey = "digest:scheduler:since"

// maxWait bounds one sleep of the scheduler, so a clock that jumps (a
// suspended laptop, a corrected clock) is noticed within a minute.
const maxWait = time.Minute

// Scheduler sends the digest on the configured cron schedule, in the
// configured time zone. Each run sends the last complete ISO week. A run
// missed while Parley was down is made once when the scheduler starts
// again (only the latest missed run), and a week is never sent twice:
// Service.Send claims it in the store first.
type Scheduler struct {
	svc   *Service
	sched cron.Schedule
	log   *slog.Logger
	now   func() time.Time
}

// NewScheduler returns a scheduler for svc's configuration; EINVALID when
// the schedule does not parse. A schedule of "off" gives a scheduler whose
// Run returns at once.
func NewScheduler(svc *Service) (*Scheduler, error) {
	s := &Scheduler{svc: svc, log: svc.log, now: svc.now}
	if svc.cfg.Disabled() {
		return s, nil
	}
	sched, err := parseSchedule(svc.cfg.Schedule, svc.loc)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "digest.schedule %q: %w", svc.cfg.Schedule, err)
	}
	s.sched = sched
	return s, nil
}

// Next returns when the schedule runs next after t (zero when off).
func (s *Scheduler) Next(t time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	return s.sched.Next(t)
}

// Run sends digests on the schedule until ctx ends, then returns nil
// after any send in progress has finished (a send is cut short by ctx:
// its outcome so far is recorded). It starts no goroutine that outlives
// it. Run returns at once when the schedule is off, and an error only
// when the store fails at the start.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.sched == nil {
		s.log.Info("digest schedule is off")
		return nil
	}
	now := s.now()
	since, err := s.since(ctx, now)
	if err != nil {
		return err
	}
	if due := s.lastDue(since, now); !due.IsZero() {
		s.log.Info("digest run missed while down; sending it now", "due", due)
		s.fire(ctx, due)
	}
	next := s.sched.Next(s.now())
	s.log.Info("digest scheduled", "next", next, "timezone", s.svc.loc.String())
	for {
		wait := min(next.Sub(s.now()), maxWait)
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if now := s.now(); now.Before(next) {
			continue
		}
		s.fire(ctx, next)
		next = s.sched.Next(s.now())
	}
}

// since returns when the scheduler first ran, recording now when it
// never has.
func (s *Scheduler) since(ctx context.Context, now time.Time) (time.Time, error) {
	v, err := s.svc.st.Cursor(ctx, sinceKey)
	if err != nil {
		return time.Time{}, err
	}
	if t, perr := time.Parse(time.RFC3339Nano, v); v != "" && perr == nil {
		return t, nil
	}
	if err := s.svc.st.SetCursor(ctx, sinceKey, now.UTC().Format(time.RFC3339Nano)); err != nil {
		return time.Time{}, err
	}
	return now, nil
}

// lastDue returns the latest scheduled time in (since, now], or zero.
func (s *Scheduler) lastDue(since, now time.Time) time.Time {
	from := since
	if limit := now.AddDate(-1, 0, 0); from.Before(limit) {
		from = limit
	}
	var due time.Time
	for t, n := s.sched.Next(from), 0; !t.IsZero() && !t.After(now) && n < 100000; t, n = s.sched.Next(t), n+1 {
		due = t
	}
	return due
}

// fire sends the digest of the last week complete at `at`.
func (s *Scheduler) fire(ctx context.Context, at time.Time) {
	week := LastComplete(at, s.svc.loc)
	rec, err := s.svc.Send(ctx, week, false)
	switch {
	case err == nil:
		s.log.Info("digest sent", "week", week.String(), "status", rec.Status)
	case parley.ErrorCode(err) == parley.ECONFLICT:
		s.log.Info("digest already sent or being sent", "week", week.String(), "reason", parley.ErrorMessage(err))
	default:
		s.log.Error("digest not sent", "week", week.String(), "err", err)
	}
}

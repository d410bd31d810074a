package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
)

// OutboxOptions tune an Outbox. The zero value is sensible.
type OutboxOptions struct {
	Logger *slog.Logger
	// Interval is how often the outbox looks for approved drafts when it
	// has nothing to do; default 1s.
	Interval time.Duration
	// MaxAttempts is how many times a draft is tried before it is failed
	// for good; default 8.
	MaxAttempts int
	// RetryBase is the first retry delay; it doubles with each attempt, with
	// jitter, up to 10 minutes. Default 5s.
	RetryBase time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnResult, when set, is called after every attempt (for metrics).
	OnResult func(d parley.Draft, err error)
	// OnOutcome, when set, is called once a draft is recorded sent (err
	// nil, d.PostedID set) or failed for good (err the reason): the
	// draft.sent and draft.failed webhook events.
	OnOutcome func(d parley.Draft, err error)
	// HoldPrompt, when set, is asked before a prompt goes out: a prompt a
	// manager approved during the person's quiet hours waits until they
	// end (hold true, until when).
	HoldPrompt func(d parley.Draft, to parley.Person, now time.Time) (until time.Time, hold bool)
}

// Outbox posts approved drafts through the sender of their platform.
//
// Every attempt carries the draft's idempotency key, so a draft retried
// after a crash between the platform accepting it and the store recording
// it appears once. Only one outbox may run on a database at a time (the
// caller holds the process lock): at start it takes over drafts a crashed
// run left "sending".
type Outbox struct {
	store    parley.Store
	senders  map[string]parley.Sender    // by platform: the first sender of each
	accounts map[[2]string]parley.Sender // by platform and account
	list     []parley.Sender
	opts     OutboxOptions
	logger   *slog.Logger
	wake     chan struct{}
}

// NewOutbox builds an outbox for the given senders (one per platform).
func NewOutbox(store parley.Store, senders []parley.Sender, opts OutboxOptions) *Outbox {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	o := &Outbox{store: store, senders: map[string]parley.Sender{}, accounts: map[[2]string]parley.Sender{},
		opts: opts, logger: opts.Logger, wake: make(chan struct{}, 1), list: senders}
	for _, s := range senders {
		if _, ok := o.senders[s.Platform()]; !ok {
			o.senders[s.Platform()] = s
		}
		if as, ok := s.(parley.AccountSender); ok && as.Account() != "" {
			o.accounts[[2]string{s.Platform(), as.Account()}] = s
		}
	}
	return o
}

// sender picks the sender for a draft: the account that heard the mention
// it answers, else the platform's first.
func (o *Outbox) sender(platform, account string) (parley.Sender, bool) {
	if s, ok := o.accounts[[2]string{platform, account}]; ok {
		return s, true
	}
	s, ok := o.senders[platform]
	return s, ok
}

// Wake asks the outbox to look for approved drafts now (after an approval
// in this process). It never blocks.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// CheckDraft asks the draft's sender whether the platform will take it
// (e.g. the server's character limit); nil when no sender can tell.
func (o *Outbox) CheckDraft(ctx context.Context, d parley.Draft) error {
	return SenderCheck(o.store, o.list)(ctx, d)
}

// Run sends approved drafts until ctx ends. A draft being sent when ctx
// ends is finished first (its send is not cut off halfway).
func (o *Outbox) Run(ctx context.Context) error {
	// The first pass takes over drafts left "sending" by a crashed run, at
	// once rather than after their lease.
	takeOver := true
	for {
		now := o.opts.Now()
		claimAt := now
		if takeOver {
			claimAt = now.Add(storeLease)
			takeOver = false
		}
		n, err := o.sendDue(ctx, claimAt)
		if err != nil {
			o.logger.Error("outbox", "err", err)
		}
		if n > 0 && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.wake:
		case <-time.After(o.opts.Interval):
		}
	}
}

// storeLease is longer than any store's send lease, so a recovering
// outbox claims every draft left sending.
const storeLease = 24 * time.Hour

// sendDue claims the drafts due at claimAt and sends them; it returns how
// many it handled.
func (o *Outbox) sendDue(ctx context.Context, claimAt time.Time) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	drafts, err := o.store.ClaimDrafts(ctx, 16, claimAt)
	if err != nil {
		return 0, fmt.Errorf("claim drafts: %w", err)
	}
	for _, d := range drafts {
		// Not cut off by ctx: a send in flight finishes and is recorded.
		o.send(context.WithoutCancel(ctx), d)
	}
	return len(drafts), nil
}

func (o *Outbox) send(ctx context.Context, d parley.Draft) {
	log := o.logger.With("draft_id", d.ID, "platform", d.Platform, "attempt", d.Attempts)
	out := parley.Outgoing{Draft: d}
	var err error
	if d.MentionID != 0 {
		var m parley.Mention
		if m, err = o.store.Mention(ctx, d.MentionID); err == nil {
			out.InReplyTo = &m
		}
	}
	account := ""
	if out.InReplyTo != nil {
		account = out.InReplyTo.Account
	}
	sender, ok := o.sender(d.Platform, account)
	if !ok {
		// No connector for this platform in this run: put it back for a
		// run that has one.
		retry := o.opts.Now().Add(o.opts.Interval * 30)
		log.Warn("no connector for the draft's platform; it waits", "retry_at", retry)
		if err := o.store.MarkFailed(ctx, d.ID, "no "+d.Platform+" connector is configured", retry); err != nil {
			log.Error("put draft back", "err", err)
		}
		return
	}
	if err == nil {
		out.To, err = o.store.Person(ctx, d.PersonID)
	}
	if err == nil && d.Kind == parley.KindPrompt && o.opts.HoldPrompt != nil {
		if until, hold := o.opts.HoldPrompt(d, out.To, o.opts.Now()); hold {
			log.Info("prompt held for the person's quiet hours", "until", until)
			if err := o.store.MarkFailed(ctx, d.ID, "quiet hours for the person until "+until.Format(time.RFC3339), until); err != nil {
				log.Error("hold prompt", "err", err)
			}
			return
		}
	}
	var posted string
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
		posted, err = sender.Send(sendCtx, out)
		cancel()
	}
	if o.opts.OnResult != nil {
		o.opts.OnResult(d, err)
	}
	if err == nil {
		if err := o.store.MarkSent(ctx, d.ID, posted, o.opts.Now()); err != nil {
			log.Error("record sent draft", "posted_id", posted, "err", err)
			return
		}
		log.Info("draft sent", "posted_id", posted)
		if o.opts.OnOutcome != nil {
			d.State, d.PostedID, d.SentAt = parley.DraftSent, posted, o.opts.Now()
			o.opts.OnOutcome(d, nil)
		}
		return
	}
	var retry time.Time
	if parley.ErrorCode(err) == parley.EUNAVAILABLE && d.Attempts < o.opts.MaxAttempts {
		retry = o.opts.Now().Add(backoff.Policy{Base: o.opts.RetryBase, Max: 10 * time.Minute, Jitter: 0.2}.Delay(d.Attempts - 1))
	}
	if retry.IsZero() {
		log.Error("draft failed", "err", err)
	} else {
		log.Warn("draft not sent; will retry", "retry_at", retry, "err", err)
	}
	if merr := o.store.MarkFailed(ctx, d.ID, err.Error(), retry); merr != nil {
		log.Error("record failed draft", "err", merr)
		return
	}
	if retry.IsZero() && o.opts.OnOutcome != nil {
		d.State, d.LastError = parley.DraftFailed, err.Error()
		o.opts.OnOutcome(d, err)
	}
}

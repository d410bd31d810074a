package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/advocate"
)

// AdvocatesOptions tune Advocates. The zero value is sensible.
type AdvocatesOptions struct {
	Logger *slog.Logger
	// Interval overrides the engine's (advocates.interval) when set.
	Interval time.Duration
	// NoPrompts rescores people without queueing prompts.
	NoPrompts bool
	// Now is the clock; default time.Now. A replay "as of" a past date
	// sets it to that date.
	Now func() time.Time
	// Timeout bounds the store work of one OnStored call; default 30s.
	Timeout time.Duration
	// NoAcknowledge records opt-outs without queueing the acknowledgement
	// reply: for imports of old posts, where an answer would come late.
	NoAcknowledge bool
	// Emit, when set, is told each advocate state change
	// (parley.EventAdvocateChanged) and prompt outcome
	// (parley.EventPromptOutcome): Webhooks.Emit. It must not block.
	Emit func(typ string, personID int64, data any)
}

// Advocates is the advocate worker: Run rescores everyone on a schedule,
// moves advocate states, expires silent prompts and queues new prompts
// (the store enforces consent); OnStored, called by the pipeline after
// each committed batch, opts people out when they ask and records prompt
// outcomes.
type Advocates struct {
	store  parley.AdvocateStore
	eng    *advocate.Engine
	opts   AdvocatesOptions
	logger *slog.Logger
}

// NewAdvocates builds the worker. Call Run to start the schedule, and pass
// OnStored to bot.PipelineOptions.OnStored (chaining any other hook).
func NewAdvocates(store parley.AdvocateStore, eng *advocate.Engine, opts AdvocatesOptions) *Advocates {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = eng.Interval()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	return &Advocates{store: store, eng: eng, opts: opts, logger: opts.Logger}
}

// Run runs a pass at once and then every interval until ctx ends; it
// returns nil then. A failed pass is logged and retried at the next tick.
func (a *Advocates) Run(ctx context.Context) error {
	for {
		if _, err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("advocates pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.opts.Interval):
		}
	}
}

// AdvocatePass is what one pass did.
type AdvocatePass struct {
	At      time.Time               `json:"at"`
	People  int                     `json:"people"`  // scored
	Changes []parley.AdvocateChange `json:"changes"` // state changes saved
	Expired int                     `json:"expired"` // prompts that met silence
	Prompts []parley.Prompt         `json:"prompts"` // queued
	// Refused counts the prompts the store refused, by reason
	// (parley.Refused...).
	Refused map[string]int `json:"refused,omitempty"`
	// Explanations holds every person's scoring, by person id.
	Explanations map[int64]advocate.Explanation `json:"-"`
}

// RunOnce runs one pass at the clock's now: expire prompts whose watch
// window closed, rescore everyone who posted in the window or has a state,
// save scores and state changes, then offer each person the first prompt
// their rules choose that the store accepts.
func (a *Advocates) RunOnce(ctx context.Context) (AdvocatePass, error) {
	now := a.opts.Now()
	pass := AdvocatePass{At: now, Refused: map[string]int{}, Explanations: map[int64]advocate.Explanation{}}
	n, err := a.store.ExpirePrompts(ctx, now)
	if err != nil {
		return pass, err
	}
	pass.Expired = n
	// until is exclusive: include a post made at now.
	hs, err := a.store.AdvocateHistories(ctx, now.Add(-a.eng.Window()), now.Add(time.Millisecond))
	if err != nil {
		return pass, err
	}
	pass.People = len(hs)
	var updates []parley.AdvocateUpdate
	for _, h := range hs {
		x := a.eng.Explain(h, now)
		pass.Explanations[h.Person.ID] = x
		if x.Changed() || !near(x.Score, h.Person.AdvocateScore) || x.Note != h.Note {
			updates = append(updates, parley.AdvocateUpdate{PersonID: h.Person.ID, Score: x.Score, From: x.From,
				To: x.State, Reason: x.Reason, Note: x.Note})
		}
	}
	if pass.Changes, err = a.store.SaveAdvocates(ctx, updates, now); err != nil {
		return pass, err
	}
	for _, c := range pass.Changes {
		a.logger.Info("advocate state", "person_id", c.PersonID, "handle", c.Handle, "from", c.From, "to", c.To,
			"score", c.Score, "reason", c.Reason)
		if a.opts.Emit != nil {
			a.opts.Emit(parley.EventAdvocateChanged, c.PersonID, map[string]any{"change": c})
		}
	}
	if a.opts.NoPrompts {
		return pass, nil
	}
	pol := a.eng.Policy()
	for _, h := range hs {
		if err := ctx.Err(); err != nil {
			return pass, err
		}
		x := pass.Explanations[h.Person.ID]
		choices, errs := a.eng.Choose(h, x, now)
		for _, err := range errs {
			a.logger.Warn("prompt rule failed", "person_id", h.Person.ID, "err", err)
		}
		for _, c := range choices {
			p, err := a.store.QueuePrompt(ctx, c.Request(h.Person.ID, now), pol)
			var ce *parley.ConsentError
			if errors.As(err, &ce) {
				pass.Refused[ce.Reason]++
				a.logger.Debug("prompt refused", "person_id", h.Person.ID, "template", c.Template, "reason", ce.Reason,
					"until", ce.Until)
				if ce.Reason == parley.RefusedSameAsk {
					continue // another rule may offer another ask
				}
				break
			}
			if err != nil {
				return pass, err
			}
			a.logger.Info("prompt queued", "person_id", h.Person.ID, "draft_id", p.DraftID, "template", p.Template,
				"rule", p.Rule, "state", p.State)
			pass.Prompts = append(pass.Prompts, p)
			break
		}
	}
	return pass, nil
}

func near(a, b float64) bool { return a-b < 0.005 && b-a < 0.005 }

// OnStored looks at a committed batch: it records the outcome of prompts
// whose authors posted, then opts out the authors who asked to stop (and
// queues the acknowledgement). Pass it as PipelineOptions.OnStored. It
// runs on the pipeline's writer goroutine, so it asks the store only about
// the few mentions that may matter; errors are logged, never returned.
func (a *Advocates) OnStored(stored []*parley.Mention, _ parley.IngestResult) {
	if len(stored) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.Timeout)
	defer cancel()
	if err := a.outcomes(ctx, stored); err != nil {
		a.logger.Error("prompt outcomes", "err", err)
	}
	for _, m := range stored {
		if m.Ignored || m.PersonID == 0 || !a.eng.MayOptOut(*m) {
			continue
		}
		toUs, err := a.toUs(ctx, m)
		if err != nil {
			a.logger.Error("opt-out check", "mention_id", m.ID, "err", err)
			continue
		}
		words, ok := a.eng.OptOut(*m, toUs)
		if !ok {
			continue
		}
		p := m.Author
		p.ID = m.PersonID
		req := parley.OptOutRequest{PersonID: m.PersonID, Actor: "parley", Reason: "said " + quote(words), MentionID: m.ID}
		if !a.opts.NoAcknowledge {
			req.Ack = a.eng.Acknowledgement(p, m.Lang)
		}
		res, err := a.store.OptOut(ctx, req)
		if err != nil {
			a.logger.Error("opt out", "person_id", m.PersonID, "mention_id", m.ID, "err", err)
			continue
		}
		if res.Changed {
			a.logger.Info("opted out", "person_id", m.PersonID, "mention_id", m.ID, "words", words,
				"withdrawn", len(res.Withdrawn), "ack_draft_id", res.AckDraftID)
		}
	}
}

func quote(s string) string { return "\"" + s + "\"" }

// toUs reports whether m is a DM or answers one of our posts.
func (a *Advocates) toUs(ctx context.Context, m *parley.Mention) (bool, error) {
	if m.Direct {
		return true, nil
	}
	if m.InReplyTo == "" && m.ThreadID == 0 {
		return false, nil
	}
	return a.store.RepliesToUs(ctx, *m)
}

// outcomes records the outcomes the batch decides for watched prompts.
func (a *Advocates) outcomes(ctx context.Context, stored []*parley.Mention) error {
	byPerson := map[int64][]*parley.Mention{}
	for _, m := range stored {
		if m.PersonID != 0 && !m.Ignored {
			byPerson[m.PersonID] = append(byPerson[m.PersonID], m)
		}
	}
	ids := make([]int64, 0, len(byPerson))
	for id := range byPerson {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	watched, err := a.store.WatchedPrompts(ctx, ids)
	if err != nil || len(watched) == 0 {
		return err
	}
	for _, p := range watched {
		ms := byPerson[p.PersonID]
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].CreatedAt.Before(ms[j].CreatedAt) })
		for _, m := range ms {
			toUs := m.Direct
			if !toUs && (a.eng.MayOptOut(*m) || mayDecline(a.eng, m)) {
				if toUs, err = a.toUs(ctx, m); err != nil {
					return err
				}
			}
			outcome, detail := a.eng.Outcome(*m, p, toUs)
			if outcome == "" {
				continue
			}
			err := a.store.SetPromptOutcome(ctx, p.DraftID, outcome, m.ID, detail, m.CreatedAt)
			if err != nil && parley.ErrorCode(err) != parley.ECONFLICT {
				return err
			}
			a.logger.Info("prompt outcome", "draft_id", p.DraftID, "person_id", p.PersonID, "outcome", outcome,
				"template", p.Template, "mention_id", m.ID)
			if a.opts.Emit != nil && err == nil {
				a.opts.Emit(parley.EventPromptOutcome, p.PersonID, map[string]any{"draft_id": p.DraftID,
					"person_id": p.PersonID, "template": p.Template, "outcome": outcome, "mention_id": m.ID, "detail": detail})
			}
			break
		}
	}
	return nil
}

func mayDecline(eng *advocate.Engine, m *parley.Mention) bool {
	_, ok := eng.Declines(*m, true)
	return ok
}

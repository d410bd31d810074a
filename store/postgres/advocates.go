package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

// actorParley is who Parley's own decisions are written as.
const actorParley = "parley"

// Opt-out reasons written to drafts the opt-out withdraws.
const (
	reasonOptedOut     = "opted out"
	reasonAcknowledged = "opted out: the acknowledgement answers this message"
)

// PersonAdvocate implements parley.PeopleStore.
func (s *Store) PersonAdvocate(ctx context.Context, personID int64) (parley.AdvocateEntry, error) {
	var e parley.AdvocateEntry
	var confirmed, scored int64
	err := s.pool.QueryRow(ctx, `SELECT advocate_note, advocate_confirmed_by, advocate_confirmed_at, advocate_scored_at
		FROM people WHERE id = $1`, personID).Scan(&e.Note, &e.ConfirmedBy, &confirmed, &scored)
	if err != nil {
		return e, notFound(err, "person %d not found", personID)
	}
	e.ConfirmedAt, e.ScoredAt = fromMS(confirmed), fromMS(scored)
	e.Person, err = s.Person(ctx, personID)
	return e, err
}

// PersonAdvocateChanges implements parley.PeopleStore.
func (s *Store) PersonAdvocateChanges(ctx context.Context, personID int64) ([]parley.AdvocateChange, error) {
	return s.advocateChanges(ctx, `c.person_id = $1`, personID)
}

// AdvocateChanges implements parley.AdvocateStore.
func (s *Store) AdvocateChanges(ctx context.Context, from, to time.Time) ([]parley.AdvocateChange, error) {
	return s.advocateChanges(ctx, `c.at >= $1 AND c.at < $2`, ms(from), ms(to))
}

func (s *Store) advocateChanges(ctx context.Context, where string, args ...any) ([]parley.AdvocateChange, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.person_id, p.handle, p.platform, c.from_state, c.to_state, c.score,
		c.at, c.actor, c.reason FROM advocate_changes c JOIN people p ON p.id = c.person_id
		WHERE `+where+` ORDER BY c.at, c.id`, args...)
	if err != nil {
		return nil, dbError("advocate changes", err)
	}
	return collect(rows, func(r pgx.Row) (parley.AdvocateChange, error) {
		var c parley.AdvocateChange
		var at int64
		err := r.Scan(&c.ID, &c.PersonID, &c.Handle, &c.Platform, &c.From, &c.To, &c.Score, &at, &c.Actor, &c.Reason)
		c.At = fromMS(at)
		return c, err
	})
}

// PromptConversion implements parley.AdvocateStore.
func (s *Store) PromptConversion(ctx context.Context, from, to time.Time) ([]parley.PromptStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT pr.template, count(*),
		count(*) FILTER (WHERE pr.outcome = 'converted'), count(*) FILTER (WHERE pr.outcome = 'declined'),
		count(*) FILTER (WHERE pr.outcome = 'expired'), count(*) FILTER (WHERE pr.outcome = '')
		FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
		WHERE d.state = 'sent' AND d.sent_at >= $1 AND d.sent_at < $2
		GROUP BY pr.template ORDER BY count(*) DESC, pr.template`, ms(from), ms(to))
	if err != nil {
		return nil, dbError("prompt conversion", err)
	}
	return collect(rows, func(r pgx.Row) (parley.PromptStats, error) {
		var st parley.PromptStats
		err := r.Scan(&st.Template, &st.Sent, &st.Converted, &st.Declined, &st.Expired, &st.Watching)
		return st, err
	})
}

// PersonPrompts implements parley.PeopleStore.
func (s *Store) PersonPrompts(ctx context.Context, personID int64) ([]parley.Prompt, error) {
	rows, err := s.pool.Query(ctx, `SELECT pr.draft_id, pr.person_id, d.platform, pr.rule, pr.template, pr.ask, pr.link,
		pr.hashtag, d.text, d.state, pr.created_at, d.sent_at, pr.watch_ms, pr.outcome, pr.outcome_at,
		coalesce(pr.outcome_mention_id, 0), pr.outcome_detail
		FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
		WHERE pr.person_id = $1 ORDER BY pr.created_at DESC, pr.draft_id DESC`, personID)
	if err != nil {
		return nil, dbError(fmt.Sprintf("prompts of person %d", personID), err)
	}
	return collect(rows, func(r pgx.Row) (parley.Prompt, error) {
		var p parley.Prompt
		var state string
		var created, sent, watch, outcomeAt int64
		err := r.Scan(&p.DraftID, &p.PersonID, &p.Platform, &p.Rule, &p.Template, &p.Ask, &p.Link, &p.Hashtag,
			&p.Text, &state, &created, &sent, &watch, &p.Outcome, &outcomeAt, &p.OutcomeMentionID, &p.OutcomeDetail)
		p.State = parley.DraftState(state)
		p.CreatedAt, p.SentAt, p.OutcomeAt = fromMS(created), fromMS(sent), fromMS(outcomeAt)
		p.WatchFor = time.Duration(watch) * time.Millisecond
		return p, err
	})
}

// ConsentLog implements parley.PeopleStore.
func (s *Store) ConsentLog(ctx context.Context, personID int64) ([]parley.AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit
		WHERE person_id = $1 AND action IN ('optout', 'optin') ORDER BY at, id`, personID)
	if err != nil {
		return nil, dbError("consent log", err)
	}
	return collect(rows, scanAudit)
}

// SetOptOut implements parley.PeopleStore: the same as OptOut and OptIn,
// so waiting prompts are withdrawn and the audit log says who did it.
func (s *Store) SetOptOut(ctx context.Context, personID int64, optedOut bool, actor, reason string) (parley.Person, error) {
	var res parley.OptOutResult
	var err error
	if optedOut {
		res, err = s.OptOut(ctx, parley.OptOutRequest{PersonID: personID, Actor: actor, Reason: reason})
	} else {
		res, err = s.OptIn(ctx, personID, actor, reason)
	}
	return res.Person, err
}

const digestColumns = `week, timezone, start_at, end_at, status, owner, claimed_at, built_at, summary`

func scanDigest(row pgx.Row, bodies bool) (parley.DigestRecord, error) {
	var r parley.DigestRecord
	var start, end, claimed, built int64
	dest := []any{&r.Week, &r.TimeZone, &start, &end, &r.Status, &r.Owner, &claimed, &built, &r.Summary}
	if bodies {
		dest = append(dest, &r.Markdown, &r.HTML, &r.Text)
	}
	if err := row.Scan(dest...); err != nil {
		return r, err
	}
	r.Start, r.End, r.ClaimedAt, r.BuiltAt = fromMS(start), fromMS(end), fromMS(claimed), fromMS(built)
	return r, nil
}

func (s *Store) digestDeliveries(ctx context.Context, week string) ([]parley.DigestDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT target, type, ok, attempts, error, detail, at FROM digest_deliveries
		WHERE week = $1 ORDER BY seq, target`, week)
	if err != nil {
		return nil, dbError("digest deliveries", err)
	}
	return collect(rows, func(r pgx.Row) (parley.DigestDelivery, error) {
		var d parley.DigestDelivery
		var at int64
		err := r.Scan(&d.Target, &d.Type, &d.OK, &d.Attempts, &d.Error, &d.Detail, &at)
		d.At = fromMS(at)
		return d, err
	})
}

// Digests implements the digest reads of parley.WebStore.
func (s *Store) Digests(ctx context.Context) ([]parley.DigestRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+digestColumns+` FROM digests ORDER BY start_at DESC, week DESC`)
	if err != nil {
		return nil, dbError("list digests", err)
	}
	out, err := collect(rows, func(r pgx.Row) (parley.DigestRecord, error) { return scanDigest(r, false) })
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Deliveries, err = s.digestDeliveries(ctx, out[i].Week); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Digest implements the digest reads of parley.WebStore.
func (s *Store) Digest(ctx context.Context, week string) (parley.DigestRecord, error) {
	r, err := scanDigest(s.pool.QueryRow(ctx, `SELECT `+digestColumns+`, markdown, html, text FROM digests WHERE week = $1`, week), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, parley.Errorf(parley.ENOTFOUND, "no digest for week %s", week)
	}
	if err != nil {
		return r, dbError("digest "+week, err)
	}
	r.Deliveries, err = s.digestDeliveries(ctx, week)
	return r, err
}

package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// eachRow runs query and hands every row, as scan reads it, to fn, one at a
// time: an export of a million rows holds one row in memory, not the table.
// An error from fn stops the walk and is returned as is.
func eachRow[T any](ctx context.Context, q promptQuerier, scan func(scanner) (T, error), fn func(T) error,
	query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return dbError("export", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return dbError("export", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return dbError("export", rows.Err())
}

// exportWhere turns f into a WHERE clause on the given id, time and platform
// columns.
func exportWhere(f parley.ExportFilter, idCol, timeCol, platformCol string) (string, []any) {
	return storelogic.ExportWhere(f, idCol, timeCol, platformCol, func(int) string { return "?" })
}

// ExportMentions hands every mention matching f (by created time) to fn,
// in id order.
func (s *Store) ExportMentions(ctx context.Context, f parley.ExportFilter, fn func(parley.Mention) error) error {
	where, args := exportWhere(f, "m.id", "m.created_at", "m.platform")
	return eachRow(ctx, s.rdb, scanMention, fn, `SELECT `+mentionColumns+` FROM mentions m
		JOIN people p ON p.id = m.person_id`+where+` ORDER BY m.id`, args...)
}

// ExportConversations hands every conversation matching f (by the time of
// its last message) to fn, in id order.
func (s *Store) ExportConversations(ctx context.Context, f parley.ExportFilter, fn func(parley.Conversation) error) error {
	where, args := exportWhere(f, "c.id", "c.last_message_at", "t.platform")
	return eachRow(ctx, s.rdb, scanConversation, fn, `SELECT `+conversationColumns+conversationFrom+where+` ORDER BY c.id`, args...)
}

// ExportDrafts hands every draft matching f (by created time) to fn, in id
// order.
func (s *Store) ExportDrafts(ctx context.Context, f parley.ExportFilter, fn func(parley.Draft) error) error {
	where, args := exportWhere(f, "id", "created_at", "platform")
	return eachRow(ctx, s.rdb, scanDraft, fn, `SELECT `+draftColumns+` FROM drafts`+where+` ORDER BY id`, args...)
}

// ExportPeople hands every person matching f (by the time they were last
// seen) to fn, in id order.
func (s *Store) ExportPeople(ctx context.Context, f parley.ExportFilter, fn func(parley.Person) error) error {
	where, args := exportWhere(f, "id", "last_seen", "platform")
	return eachRow(ctx, s.rdb, scanPerson, fn, `SELECT `+personColumns+` FROM people`+where+` ORDER BY id`, args...)
}

// PersonData gathers everything stored about one person, read in one
// transaction so the parts agree. Errors: ENOTFOUND for no such person.
func (s *Store) PersonData(ctx context.Context, personID int64) (parley.PersonData, error) {
	var d parley.PersonData
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return d, dbError("person data", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := personRecord(ctx, tx, personID, &d); err != nil {
		return d, err
	}
	if err := personActivity(ctx, tx, personID, &d); err != nil {
		return d, fmt.Errorf("data of person %d: %w", personID, err)
	}
	return d, nil
}

// personRecord reads the person's row: who they are and their advocate state.
func personRecord(ctx context.Context, tx *sql.Tx, id int64, d *parley.PersonData) error {
	var optedOut, scored, confirmed int64
	p, err := scanPerson(tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, id))
	if err != nil {
		return notFound(err, "person %d not found", id)
	}
	err = tx.QueryRowContext(ctx, `SELECT opted_out_at, advocate_note, advocate_scored_at, advocate_confirmed_by,
		advocate_confirmed_at FROM people WHERE id = ?`, id).Scan(&optedOut, &d.Advocate.Note, &scored,
		&d.Advocate.ConfirmedBy, &confirmed)
	if err != nil {
		return notFound(err, "person %d not found", id)
	}
	d.Person, d.OptedOutAt = p, fromMS(optedOut)
	d.Advocate.State, d.Advocate.Score = p.AdvocateState, p.AdvocateScore
	d.Advocate.ScoredAt, d.Advocate.ConfirmedAt = fromMS(scored), fromMS(confirmed)
	return nil
}

// personActivity reads the rows naming the person: their mentions, the
// conversations they wrote in, drafts and prompts to them, notes,
// sentiment corrections of their mentions and audit entries.
func personActivity(ctx context.Context, tx *sql.Tx, id int64, d *parley.PersonData) error {
	d.Mentions, d.Conversations, d.Drafts = []parley.Mention{}, []parley.Conversation{}, []parley.Draft{}
	d.Notes, d.Corrections, d.Audit = []parley.Note{}, []parley.SentimentCorrection{}, []parley.AuditEntry{}
	d.Advocate.Changes = []parley.AdvocateChange{}
	steps := []func() error{
		func() error {
			return eachRow(ctx, tx, scanMention, appendTo(&d.Mentions), `SELECT `+mentionColumns+` FROM mentions m
				JOIN people p ON p.id = m.person_id WHERE m.person_id = ? ORDER BY m.created_at, m.id`, id)
		},
		func() error {
			return eachRow(ctx, tx, scanConversation, func(c parley.Conversation) error {
				if c.PersonID != id { // the last message is someone else's: name neither them nor it
					c.PersonID, c.LastMentionID = 0, 0
				}
				d.Conversations = append(d.Conversations, c)
				return nil
			}, `SELECT `+conversationColumns+conversationFrom+` WHERE c.id IN
				(SELECT thread_id FROM mentions WHERE person_id = ?) ORDER BY c.id`, id)
		},
		func() error {
			return eachRow(ctx, tx, scanDraft, appendTo(&d.Drafts), `SELECT `+draftColumns+` FROM drafts
				WHERE person_id = ? ORDER BY id`, id)
		},
		func() (err error) {
			d.Advocate.Prompts, err = queryPrompts(ctx, tx, `SELECT `+promptColumns+` FROM prompts pr
				JOIN drafts d ON d.id = pr.draft_id WHERE pr.person_id = ? ORDER BY pr.created_at, pr.draft_id`, id)
			if d.Advocate.Prompts == nil {
				d.Advocate.Prompts = []parley.Prompt{}
			}
			return err
		},
		func() error {
			return eachRow(ctx, tx, scanAdvocateChange, appendTo(&d.Advocate.Changes), `SELECT c.id, c.person_id,
				p.handle, p.platform, c.from_state, c.to_state, c.score, c.at, c.actor, c.reason
				FROM advocate_changes c JOIN people p ON p.id = c.person_id WHERE c.person_id = ? ORDER BY c.at, c.id`, id)
		},
		func() error {
			return eachRow(ctx, tx, scanNote, appendTo(&d.Notes), `SELECT id, person_id, author, text, created_at
				FROM person_notes WHERE person_id = ? ORDER BY created_at, id`, id)
		},
		func() error {
			return eachRow(ctx, tx, scanCorrection, appendTo(&d.Corrections), `SELECT c.id, c.mention_id,
				c.model_label, c.label, c.actor, c.at FROM sentiment_corrections c
				WHERE c.mention_id IN (SELECT id FROM mentions WHERE person_id = ?) ORDER BY c.at, c.id`, id)
		},
		func() error {
			return eachRow(ctx, tx, scanAuditEntry, appendTo(&d.Audit), `SELECT id, at, actor, action,
				coalesce(draft_id, 0), coalesce(person_id, 0), detail FROM audit
				WHERE person_id = ?1 OR draft_id IN (SELECT id FROM drafts WHERE person_id = ?1) ORDER BY at, id`, id)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func appendTo[T any](dst *[]T) func(T) error {
	return func(v T) error {
		*dst = append(*dst, v)
		return nil
	}
}

func scanAdvocateChange(row scanner) (parley.AdvocateChange, error) {
	var c parley.AdvocateChange
	var at int64
	err := row.Scan(&c.ID, &c.PersonID, &c.Handle, &c.Platform, &c.From, &c.To, &c.Score, &at, &c.Actor, &c.Reason)
	c.At = fromMS(at)
	return c, err
}

func scanNote(row scanner) (parley.Note, error) {
	var n parley.Note
	var at int64
	err := row.Scan(&n.ID, &n.PersonID, &n.Author, &n.Text, &at)
	n.CreatedAt = fromMS(at)
	return n, err
}

func scanCorrection(row scanner) (parley.SentimentCorrection, error) {
	var c parley.SentimentCorrection
	var model, label string
	var at int64
	err := row.Scan(&c.ID, &c.MentionID, &model, &label, &c.Actor, &at)
	c.ModelLabel, c.Label, c.At = parley.Label(model), parley.Label(label), fromMS(at)
	return c, err
}

func scanAuditEntry(row scanner) (parley.AuditEntry, error) {
	var e parley.AuditEntry
	var at int64
	err := row.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.DraftID, &e.PersonID, &e.Detail)
	e.At = fromMS(at)
	return e, err
}
